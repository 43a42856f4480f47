import { parseArgs } from 'node:util';

/** How the bench runs nats-server (`--tenancy`). */
export type TenancyOption = 'on' | 'off';

/**
 * `on` (the default): accounts as `membus start` runs them (decision 006, JWT mode), every
 * service with its own user and the bench client as tenant `bench` in an account of its own;
 * `off`: one account, no users, to measure what the account hop costs.
 */
export function tenancyOption(value: string | undefined): TenancyOption {
  if (value === undefined || value === 'on') return 'on';
  if (value === 'off') return 'off';
  throw new RangeError(`--tenancy ${value}: expected on or off`);
}

/** The embedder's provider (`--embedder`): the hashing model unless told. */
export type EmbedderOption = 'local' | 'onnx';

/**
 * `local` (the default, as CI runs it): the offline hashing model; `onnx`: the sentence model
 * `membus start` runs (e5-small-v2 int8, read from `~/.cache/membus/models`, fetched once).
 * Returned as the embedder's environment.
 */
export function embedderOption(value: string | undefined): { EMBEDDING_PROVIDER: EmbedderOption } {
  if (value === undefined || value === 'local') return { EMBEDDING_PROVIDER: 'local' };
  if (value === 'onnx') return { EMBEDDING_PROVIDER: 'onnx' };
  throw new RangeError(`--embedder ${value}: expected local or onnx`);
}

/** What {@link scriptOptions} returns: each number option as a number, each text one as given. */
export type ScriptOptions<N extends string, S extends string> = Record<N, number> &
  Record<S, string>;

/**
 * Reads a bench script's `--name value` options from the command line: `numbers` and `strings`
 * give each option's name and default. A number option that is not a finite number (a typo
 * such as `--size 1e` or `--size 10k`) stops the script with a RangeError instead of measuring
 * on NaN; an unknown option stops it too (parseArgs is strict).
 */
export function scriptOptions<N extends string, S extends string = never>(
  numbers: Record<N, number>,
  strings: Record<S, string> = {} as Record<S, string>,
  args: string[] = process.argv.slice(2),
): ScriptOptions<N, S> {
  const options: Record<string, { type: 'string'; default: string }> = {};
  for (const [name, value] of [...Object.entries(numbers), ...Object.entries(strings)]) {
    options[name] = { type: 'string', default: String(value) };
  }
  const { values } = parseArgs({ args, options });
  const read: Record<string, number | string> = { ...values } as Record<string, string>;
  for (const name of Object.keys(numbers)) {
    const number = Number(read[name]);
    if (read[name] === '' || !Number.isFinite(number)) {
      throw new RangeError(`--${name} ${read[name]}: expected a number`);
    }
    read[name] = number;
  }
  return read as ScriptOptions<N, S>;
}

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

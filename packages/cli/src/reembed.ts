// `membus reembed`: re-embed the tenant's memories with another model (decision 011).
import type { connect } from '@membus/client';
import type { ReembedStatus } from '@membus/contracts';
import { DEFAULT_PRICE_PER_MILLION_TOKENS, embeddingCost } from '@membus/importers';
import { fail } from './command-line.ts';
import { values } from './context.ts';

type Client = Awaited<ReturnType<typeof connect>>;
type Status = Omit<ReembedStatus, 'v'>;

/** Models that run in process (no per-token price): the hashing models and the onnx ones. */
const FREE_MODEL = /^(local-hash-v1-\d+|e5-|all-minilm|bge-)/;

/** USD per 1M tokens for the estimate: --price-per-million, else by the model. */
function priceOf(model: string): number {
  const flag = values['price-per-million'];
  if (flag !== undefined) {
    const price = Number(flag);
    if (!Number.isFinite(price) || price < 0) fail('--price-per-million takes a number ≥ 0');
    return price;
  }
  return FREE_MODEL.test(model) ? 0 : DEFAULT_PRICE_PER_MILLION_TOKENS;
}

function summary(status: Status, model: string): string {
  const cost = embeddingCost(status.tokens, priceOf(model));
  return (
    `${status.done} of ${status.total} memories, ~${status.tokens} tokens, ` +
    `estimated cost $${cost.toFixed(cost < 1 ? 4 : 2)} (${model})`
  );
}

/**
 * `membus reembed --to MODEL [--dry-run]` starts a run and follows it to the end with a progress
 * line (stderr) and a summary; `membus reembed status` and `membus reembed cancel`. Interrupting
 * the command leaves the run going (it runs in the vector-store): `status` follows it again.
 */
export async function reembedCommand(client: Client, args: readonly string[]): Promise<void> {
  const [action = 'start'] = args;
  const print = (status: Status, text: string): void => {
    process.stdout.write(values.json ? `${JSON.stringify(status)}\n` : `${text}\n`);
  };
  if (action === 'status' || action === 'cancel') {
    const status =
      action === 'cancel' ? await client.cancelReembed() : await client.reembedStatus();
    return print(status, describe(status));
  }
  if (action !== 'start') fail(`reembed takes --to MODEL, status or cancel; not "${action}"`);
  const model = values.to;
  if (!model) fail('reembed needs the model: membus reembed --to MODEL [--dry-run]');
  if (values['dry-run']) {
    const dry = await client.reembed({ model, dryRun: true });
    return print(
      dry,
      `dry run: ${dry.total} memories, ~${dry.tokens} tokens to embed with ${model}, ` +
        `estimated cost $${embeddingCost(dry.tokens, priceOf(model)).toFixed(4)}; nothing written`,
    );
  }
  let status = await client.reembed({ model });
  // Follow the run: a progress line while it writes, a summary once the queries switched.
  for (;;) {
    if (status.state === 'running' && process.stderr.isTTY)
      process.stderr.write(`\r\x1b[K${describe(status)}`);
    if (status.state === 'idle') break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    status = await client.reembedStatus();
  }
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (status.activeModel !== model)
    fail(`the re-embedding to ${model} did not complete (cancelled?): ${describe(status)}`);
  print(status, `re-embedded: ${summary(status, model)}; queries use ${model}`);
}

function describe(status: Status): string {
  const active = status.activeModel ?? 'the store path model';
  if (status.state === 'running' && status.targetModel !== undefined)
    return `re-embedding to ${status.targetModel}: ${summary(status, status.targetModel)}; queries use ${active}`;
  if (status.state === 'cleaning') return `queries use ${active}; deleting the old vectors`;
  return `queries use ${active}; no re-embedding running`;
}

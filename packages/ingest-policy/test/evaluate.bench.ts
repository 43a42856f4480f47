/**
 * What the ingest policy costs per store: the on-call policy (14 rules, 13 RE2 patterns) on
 * texts of three sizes, beside no policy. `pnpm vitest bench --run packages/ingest-policy`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type StoreMemory, StoreMemorySchema } from '@membus/contracts';
import { bench, describe } from 'vitest';
import { compilePolicy, evaluatePolicy } from '../src/index.ts';

const oncall = compilePolicy(
  JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../examples/policies/oncall.json'), 'utf8'),
  ),
  1,
);
const none = compilePolicy({ v: 1 }, 1);

const sentence =
  'Checkout latency rose after the 14:02 deploy; pods on node ip-10-0-3-17 were OOM-killed and rescheduled. ';
const store = (text: string, metadata: Record<string, unknown> = {}): StoreMemory =>
  StoreMemorySchema.parse({
    v: 1,
    id: '0190f1c2-7b1e-7cc0-8000-000000000001',
    namespace: 'oncall',
    text,
    metadata,
  });
const texts = {
  greeting: store('Hello team!'),
  'incident, 120 chars': store(
    'Outage of checkout: root cause was an expired TLS certificate on the ALB',
    { rootCause: 'certificate' },
  ),
  '1 KiB': store(sentence.repeat(10)),
  '32,000 chars': store(sentence.repeat(300).slice(0, 32_000)),
};

for (const [name, item] of Object.entries(texts)) {
  describe(name, () => {
    bench('no policy', () => {
      evaluatePolicy(none, item);
    });
    bench('on-call policy', () => {
      evaluatePolicy(oncall, item);
    });
  });
}

import type { OutcomeInput } from '@membus/contracts';

/** Where task outcomes go: the pattern-extractor's `memory.outcome.<tenant>` stream. */
export interface OutcomePort {
  /** Publishes one outcome durably; idempotent by `outcome.id` on the consumer side. */
  publish(tenant: string, outcome: OutcomeInput): Promise<void>;
}

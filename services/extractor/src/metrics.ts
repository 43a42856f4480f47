import { counter, defineMetrics, histogram } from '@membus/telemetry';
import type { Registry } from 'prom-client';
import type { ExtractionObserver } from './domain/extraction.ts';

/** Every metric the extractor declares besides the message metrics. */
// biome-ignore format: a metric a line
const extractorMetrics = defineMetrics({
  calls: counter('membus_extract_calls_total', 'Chat model calls, by outcome (ok; garbage = an answer that is not the JSON asked for; failed = no answer after retries)', ['outcome']),
  tokens: counter('membus_extract_tokens_total', 'Chat model tokens, by direction (in, out)', ['direction']),
  cost: counter('membus_extract_cost_usd_total', 'Estimated cost of the chat model calls in USD (EXTRACT_INPUT/OUTPUT_COST_PER_MTOK)'),
  decisions: counter('membus_extract_decisions_total', 'What extraction did with candidate facts, by decision (ADD, UPDATE, DELETE, NONE)', ['decision']),
  fallbacks: counter('membus_extract_fallbacks_total', 'Ingest batches stored raw (or not at all), by reason (disabled, not_requested, budget_exhausted, model_failed)', ['reason']),
  retries: counter('membus_extract_retries_total', 'Chat model calls retried (429 with Retry-After, 5xx, timeouts, connection errors)'),
  seconds: histogram('membus_extract_call_seconds', 'Latency of one chat model call, retries included', [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]),
});

/** Every metric the extractor exports (names are the contract with the dashboards). */
export const ExtractorMetricNames = extractorMetrics.names;

export function createExtractorMetrics(
  registry: Registry,
  prices: { inputPerMillion: number; outputPerMillion: number },
) {
  const { calls, tokens, cost, decisions, fallbacks, retries, seconds, observer } =
    extractorMetrics.register(registry);
  const extraction: ExtractionObserver = {
    call(outcome, usage, elapsed) {
      calls.inc({ outcome });
      seconds.observe(elapsed);
      tokens.inc({ direction: 'in' }, usage.input);
      tokens.inc({ direction: 'out' }, usage.output);
      cost.inc(
        (usage.input * prices.inputPerMillion + usage.output * prices.outputPerMillion) / 1e6,
      );
    },
    decision(event) {
      decisions.inc({ decision: event });
    },
    fallback(reason) {
      fallbacks.inc({ reason });
    },
  };
  return { observer, extraction, retried: () => retries.inc() };
}

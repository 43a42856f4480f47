// Test helpers: an OTLP/HTTP receiver for spans exported by service processes, and the
// in-memory exporter for spans of the test process itself (`startTracing({ exporter })`).
export { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
export type { OtlpReceiver, ReceivedSpan } from './otlp-receiver.ts';
export { startOtlpReceiver } from './otlp-receiver.ts';

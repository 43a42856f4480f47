export type {
  ConsumerSnapshot,
  JetStreamMetricsOptions,
  JetStreamSnapshot,
} from './jetstream-metrics.ts';
export { JetStreamMetricNames, registerJetStreamMetrics } from './jetstream-metrics.ts';
export type {
  ProcessTelemetry,
  ProcessTelemetryConfig,
  ServiceRuntimeOptions,
} from './lifecycle.ts';
export { announceReady, onShutdown, processTelemetry, runService } from './lifecycle.ts';
export type { LogFields, Logger, LoggerOptions, LogLevel, SerializedError } from './logger.ts';
export { createLogger } from './logger.ts';
export type {
  MetricCollector,
  MetricCollectors,
  MetricOf,
  MetricSpec,
  MetricTable,
  RegisteredMetrics,
  ServiceMetrics,
} from './metric-table.ts';
export { counter, defineMetrics, gauge, histogram, registerMetrics } from './metric-table.ts';
export type { HandledMessage, Registry } from './metrics.ts';
export {
  createMessageMetrics,
  createMetricsRegistry,
  METRIC_PREFIX,
  MessageMetricNames,
} from './metrics.ts';
export type {
  ReadinessBody,
  ReadinessCheck,
  ReadinessReport,
  TelemetryServer,
  TelemetryServerOptions,
} from './telemetry-server.ts';
export { startTelemetryServer } from './telemetry-server.ts';
export type { Tracing, TracingOptions, WithSpanOptions } from './tracing.ts';
export { getTracer, setActiveSpanAttributes, startTracing, withSpan } from './tracing.ts';

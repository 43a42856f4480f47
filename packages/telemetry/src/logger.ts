import { trace } from '@opentelemetry/api';
import { pino } from 'pino';

/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Extra structured fields of a log line; `error` is serialised specially. */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (a call's own fields win). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Where JSON lines go; default `process.stderr`. */
  stream?: NodeJS.WritableStream;
}

/** Fields of the envelope and of the active span: a caller cannot forge them. */
const RESERVED = new Set(['time', 'level', 'service', 'msg', 'trace_id', 'span_id']);

/**
 * A structured logger (pino) writing one JSON line per call:
 * `{ level, time, service, trace_id?, span_id?, ...fields, msg }`, with the level as its label,
 * `time` in ISO 8601 and the ids of the active OpenTelemetry span when there is one.
 */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const threshold = options.level ?? 'info';
  const includeStack = threshold === 'debug';
  const root = pino(
    {
      level: threshold,
      base: { service },
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: activeSpanIds,
    },
    (options.stream ?? process.stderr) as pino.DestinationStream,
  );

  const build = (bound: LogFields): Logger => {
    const write = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (!root.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = {};
      for (const [key, value] of Object.entries({ ...bound, ...fields })) {
        if (RESERVED.has(key)) continue;
        line[key] =
          key === 'error'
            ? serializeError(value, includeStack)
            : typeof value === 'bigint'
              ? value.toString()
              : value;
      }
      root[level](line, message);
    };
    return {
      debug: (message, fields) => write('debug', message, fields),
      info: (message, fields) => write('info', message, fields),
      warn: (message, fields) => write('warn', message, fields),
      error: (message, fields) => write('error', message, fields),
      child: (fields) => build({ ...bound, ...fields }),
    };
  };
  return build({});
}

/** `trace_id` and `span_id` of the active span, so a line can be found from its trace. */
function activeSpanIds(): Record<string, string> {
  const span = trace.getActiveSpan()?.spanContext();
  if (span === undefined || !trace.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId };
}

/** The logged shape of an error: never its stack unless the logger is at debug level. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

function serializeError(value: unknown, includeStack: boolean): SerializedError | unknown {
  if (!(value instanceof Error)) return value;
  const serialized: SerializedError = { name: value.name, message: value.message };
  const code = (value as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') serialized.code = String(code);
  if (includeStack && value.stack) serialized.stack = value.stack;
  return serialized;
}

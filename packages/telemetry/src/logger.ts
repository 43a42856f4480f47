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

const severity: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A structured logger writing one JSON line per call:
 * `{ time, level, service, msg, ...fields }`.
 */
export function createLogger(service: string, options: LoggerOptions = {}): Logger {
  const threshold = options.level ?? 'info';
  const stream = options.stream ?? process.stderr;
  const includeStack = threshold === 'debug';

  const build = (bound: LogFields): Logger => {
    const write = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (severity[level] < severity[threshold]) return;
      const line: Record<string, unknown> = {
        time: new Date().toISOString(),
        level,
        service,
        msg: message,
      };
      for (const [key, value] of Object.entries({ ...bound, ...fields })) {
        // The envelope fields are reserved so a caller cannot forge them.
        if (key in line) continue;
        line[key] = key === 'error' ? serializeError(value, includeStack) : value;
      }
      stream.write(`${safeStringify(line)}\n`);
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

function safeStringify(line: Record<string, unknown>): string {
  try {
    return JSON.stringify(line, bigintAsString);
  } catch {
    // A circular field must not make a log call throw; repeated objects are cut too.
    const seen = new WeakSet<object>();
    return JSON.stringify(line, (key, value: unknown) => {
      const plain = bigintAsString(key, value);
      if (typeof plain !== 'object' || plain === null) return plain;
      if (seen.has(plain)) return '[Circular]';
      seen.add(plain);
      return plain;
    });
  }
}

function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

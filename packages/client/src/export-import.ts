import { call, type TenantOf } from '@membus/bus';
import {
  type ErrorBody,
  type ErrorCode,
  type ExportedMemory,
  ExportedMemorySchema,
  type ImportResult,
  Limits,
  MembusError,
  type MemoryFilter,
  Operations,
} from '@membus/contracts';
import type { MemoryClient } from './client.ts';
import type { ImportCheckpoint } from './import-checkpoint.ts';

// Memories in and out of a tenant: export as a stream of lines, import with bounded concurrency,
// progress and a checkpoint (import-checkpoint.ts). The line format is `ExportedMemory`
// (contracts; docs/export-format.md). Batch updates are batch-update.ts.

export interface ExportOptions {
  /** Each memory's history with it (oldest first). */
  withHistory?: boolean;
  /** Each memory's vector with it. */
  withVectors?: boolean;
  /** Lines asked for per request (default 200; fewer come when they would pass the reply limit). */
  pageSize?: number;
  /** Per request (ms); default 30,000. */
  timeoutMs?: number;
}

/**
 * Every memory of the client's tenant matching `filter`, newest first, as export lines: one
 * page in memory at a time, so a tenant of any size streams in constant memory.
 * `for await (const line of exportMemories(memory, { namespace: 'deploy' }))`.
 */
export async function* exportMemories(
  client: MemoryClient,
  filter: MemoryFilter = {},
  options: ExportOptions = {},
): AsyncGenerator<ExportedMemory> {
  let cursor: string | undefined;
  const hasFilter = Object.values(filter).some((value) => value !== undefined);
  do {
    const page = await call(
      client.connection,
      Operations.export,
      client.tenant as TenantOf<typeof Operations.export>,
      {
        ...(hasFilter ? { filter } : {}),
        limit: options.pageSize ?? 200,
        ...(cursor !== undefined ? { cursor } : {}),
        withHistory: options.withHistory ?? false,
        withVectors: options.withVectors ?? false,
      },
      { timeoutMs: options.timeoutMs ?? 30_000 },
    );
    yield* page.lines;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** The counts of an import so far (and at its end). */
export interface ImportProgress {
  /** Lines read (blank lines not counted). */
  read: number;
  /** Lines written as new memories. */
  imported: number;
  /** Lines whose memory was already there with the same text (nothing changed). */
  present: number;
  /** Lines that replaced a memory (`onConflict: 'overwrite'`). */
  overwritten: number;
  /** Lines whose id holds another text (nothing written). */
  conflicts: number;
  /** Lines that could not be imported (see `failures`). */
  failed: number;
  /** Lines a resumed import skipped: done before, by its checkpoint. */
  resumed: number;
  /** With `dryRun`: lines that would be sent. */
  valid: number;
}

/** Why one line was not imported. */
export interface ImportFailure {
  /** 1-based line number in the input. */
  line: number;
  /** The line's memory id, when it could be read. */
  id?: string;
  /** `conflict` or `failed`. */
  status: 'conflict' | 'failed';
  code: ErrorCode;
  message: string;
}

export interface ImportSummary extends ImportProgress {
  /** The first `maxFailures` lines that were not imported, in input order of completion. */
  failures: ImportFailure[];
  /** Failures beyond those listed. */
  failuresOmitted: number;
  /** Wall time (ms). */
  tookMs: number;
}

export interface ImportOptions {
  /** `report` (default): a line whose id holds another text is a conflict; `overwrite` replaces it. */
  onConflict?: 'report' | 'overwrite';
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Lines per request (default 200, at most `Limits.batchSize`; fewer when over ~192 KiB). */
  batchSize?: number;
  /** Called after each request completes. */
  onProgress?: (progress: Readonly<ImportProgress>) => void;
  /** Resume from (and save to) this checkpoint; lines it says are done are not sent again. */
  checkpoint?: ImportCheckpoint;
  /** Validate every line and count, send nothing. */
  dryRun?: boolean;
  /** Failures listed in the summary (default 1,000; the rest are counted). */
  maxFailures?: number;
  /** Per request (ms); default 60,000. */
  timeoutMs?: number;
  /** Attempts of a request that fails with a retryable error (default 4). */
  attempts?: number;
}

/** An import request carries at most this many bytes of lines (the message limit less room). */
const REQUEST_LINE_BYTES = Limits.replyBytes;

interface Batch {
  /** Line numbers of the lines, in order. */
  numbers: number[];
  lines: ExportedMemory[];
  /** The last line number the batch covers (invalid lines before it included). */
  lastLine: number;
  done: boolean;
  /** What its lines came to (invalid lines read into it included). */
  counts: ImportProgress;
}

/**
 * Imports export lines (`ExportedMemory` objects, or NDJSON text lines) into the client's
 * tenant: validated one by one (a bad line is a failure in the summary, never a crash), sent in
 * batches with at most `concurrency` requests in flight, so memory stays constant whatever the
 * input's size. Ids are kept and the import is idempotent: a line imported twice is one memory,
 * so a crashed import run again (with its `checkpoint`, without re-sending what is done) never
 * duplicates anything.
 */
export async function importMemories(
  client: MemoryClient,
  input: AsyncIterable<unknown> | Iterable<unknown>,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = Date.now();
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const batchSize = Math.min(Limits.batchSize, Math.max(1, options.batchSize ?? 200));
  const maxFailures = options.maxFailures ?? 1_000;
  const saved = await options.checkpoint?.read();
  const skipUntil = saved?.linesDone ?? 0;
  // Counts of the lines up to the checkpoint (saved), and of each batch since.
  const committed: ImportProgress = saved ? { ...saved.progress, resumed: 0 } : emptyProgress();
  const progress: ImportProgress = { ...committed };
  const failures: ImportFailure[] = [];
  let failuresOmitted = 0;
  const count = (batch: Batch, key: keyof ImportProgress) => {
    progress[key]++;
    batch.counts[key]++;
  };
  const fail = (batch: Batch, failure: ImportFailure) => {
    count(batch, failure.status === 'conflict' ? 'conflicts' : 'failed');
    if (failures.length < maxFailures) failures.push(failure);
    else failuresOmitted++;
  };

  // Batches in input order; the checkpoint moves past a batch once it and all before it are done.
  const order: Batch[] = [];
  const inFlight = new Set<Promise<void>>();
  let checkpointWrite: Promise<void> = Promise.resolve();
  const advance = () => {
    let linesDone: number | undefined;
    while (order[0]?.done) {
      const batch = order.shift() as Batch;
      for (const key of Object.keys(committed) as (keyof ImportProgress)[])
        committed[key] += batch.counts[key];
      linesDone = batch.lastLine;
    }
    const checkpoint = options.checkpoint;
    if (linesDone !== undefined && checkpoint && !options.dryRun) {
      const state = { linesDone, progress: { ...committed } };
      checkpointWrite = checkpointWrite.then(() => checkpoint.write(state));
    }
  };

  const send = async (batch: Batch) => {
    const results = await importWithRetries(client, batch.lines, options);
    for (const [index, result] of results.entries()) {
      const line = batch.numbers[index] as number;
      if (result.status === 'imported') count(batch, 'imported');
      else if (result.status === 'present') count(batch, 'present');
      else if (result.status === 'overwritten') count(batch, 'overwritten');
      else
        fail(batch, {
          line,
          id: result.id,
          status: result.status,
          code: result.error?.code ?? 'INTERNAL',
          message: result.error?.message ?? result.status,
        });
    }
    batch.done = true;
    advance();
    options.onProgress?.({ ...progress });
  };
  const dispatch = async (batch: Batch) => {
    order.push(batch);
    if (options.dryRun || batch.lines.length === 0) {
      if (options.dryRun) for (const _line of batch.lines) count(batch, 'valid');
      batch.done = true;
      advance();
      options.onProgress?.({ ...progress });
      return;
    }
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const running = send(batch).finally(() => inFlight.delete(running));
    inFlight.add(running);
  };

  const newBatch = (): Batch => ({
    numbers: [],
    lines: [],
    lastLine: 0,
    done: false,
    counts: emptyProgress(),
  });
  let batch = newBatch();
  let batchBytes = 0;
  let lineNumber = 0;
  try {
    for await (const item of input as AsyncIterable<unknown>) {
      lineNumber++;
      if (lineNumber <= skipUntil) {
        progress.resumed++;
        continue;
      }
      if (typeof item === 'string' && item.trim() === '') continue;
      const checked = checkLine(item, lineNumber);
      if (
        checked.ok &&
        (batch.lines.length >= batchSize ||
          (batch.lines.length > 0 && batchBytes + checked.bytes > REQUEST_LINE_BYTES))
      ) {
        await dispatch(batch);
        batch = newBatch();
        batchBytes = 0;
      }
      count(batch, 'read');
      batch.lastLine = lineNumber;
      if (!checked.ok) {
        fail(batch, checked.failure);
        continue;
      }
      batch.numbers.push(lineNumber);
      batch.lines.push(checked.line);
      batchBytes += checked.bytes + 1;
    }
    if (batch.lastLine > 0) await dispatch(batch);
  } finally {
    // Also when the input fails: what was sent is finished and saved before this returns.
    await Promise.allSettled(inFlight);
    await checkpointWrite;
  }
  return { ...progress, failures, failuresOmitted, tookMs: Date.now() - started };
}

function emptyProgress(): ImportProgress {
  return {
    read: 0,
    imported: 0,
    present: 0,
    overwritten: 0,
    conflicts: 0,
    failed: 0,
    resumed: 0,
    valid: 0,
  };
}

type CheckedLine =
  | { ok: true; line: ExportedMemory; bytes: number }
  | { ok: false; failure: ImportFailure };

/** One input line parsed (when text) and validated, or why it cannot be imported. */
function checkLine(item: unknown, line: number): CheckedLine {
  let value = item;
  if (typeof item === 'string') {
    try {
      value = JSON.parse(item);
    } catch (error) {
      return invalid(line, undefined, `not JSON: ${(error as Error).message}`);
    }
  }
  const id = idOf(value);
  const memory = (value as { memory?: unknown } | null)?.memory;
  if (memory !== null && typeof memory === 'object' && Object.hasOwn(memory, 'tenant'))
    return invalid(
      line,
      id,
      'memory.tenant: lines carry no tenant; a line is imported into the tenant of the connection',
    );
  const parsed = ExportedMemorySchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`)
      .join('; ');
    const tooLong = parsed.error.issues.some((issue) => issue.code === 'too_big');
    return invalid(line, id, issues, tooLong ? 'LIMIT_EXCEEDED' : 'INVALID_MESSAGE');
  }
  const bytes = Buffer.byteLength(JSON.stringify(parsed.data));
  if (bytes > REQUEST_LINE_BYTES)
    return invalid(
      line,
      id,
      `the line is ${bytes} bytes; an import request carries at most ${REQUEST_LINE_BYTES}`,
      'LIMIT_EXCEEDED',
    );
  return { ok: true, line: parsed.data, bytes };
}

function idOf(value: unknown): string | undefined {
  const id = (value as { memory?: { id?: unknown } } | null)?.memory?.id;
  return typeof id === 'string' && id.length <= 64 ? id : undefined;
}

function invalid(
  line: number,
  id: string | undefined,
  message: string,
  code: ErrorCode = 'INVALID_MESSAGE',
): CheckedLine {
  return {
    ok: false,
    failure: { line, ...(id !== undefined ? { id } : {}), status: 'failed', code, message },
  };
}

/** One import request, retried with backoff while it fails retryably; then every line failed. */
async function importWithRetries(
  client: MemoryClient,
  lines: ExportedMemory[],
  options: ImportOptions,
): Promise<ImportResult[]> {
  const attempts = Math.max(1, options.attempts ?? 4);
  for (let attempt = 1; ; attempt++) {
    try {
      const reply = await call(
        client.connection,
        Operations.import,
        client.tenant as TenantOf<typeof Operations.import>,
        { memories: lines, onConflict: options.onConflict ?? 'report' },
        { timeoutMs: options.timeoutMs ?? 60_000 },
      );
      return reply.results;
    } catch (error) {
      const failure = MembusError.is(error)
        ? error
        : new MembusError('INTERNAL', (error as Error).message, { cause: error });
      if (!failure.retryable || attempt >= attempts) {
        const body: ErrorBody = failure.toJSON();
        return lines.map((line) => ({ id: line.memory.id, status: 'failed', error: body }));
      }
      // Idempotent by id: sending the same lines again changes nothing already written.
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (attempt - 1)));
    }
  }
}

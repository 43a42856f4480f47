/** `membus export`, `membus import` and `membus update`: memories in and out of a tenant. */

import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import {
  exportMemories,
  fileCheckpoint,
  type ImportProgress,
  type ImportSummary,
  importMemories,
  type MemoryClient,
  updateMany,
} from '@membus/client';
import { type BatchChanges, type MemoryFilter, TierSchema, tierValues } from '@membus/contracts';
import { fail } from './command-line.ts';
import { values } from './context.ts';

type Client = MemoryClient;

/** The filter of the command line, plus `--since` / `--until` (creation time, ISO-8601). */
export function exportFilter(base: MemoryFilter): MemoryFilter {
  const time = (flag: 'since' | 'until'): string | undefined => {
    const value = values[flag];
    if (value === undefined) return undefined;
    const parsed = Date.parse(value);
    if (Number.isNaN(parsed)) fail(`--${flag} takes an ISO-8601 time, e.g. 2026-01-31T00:00:00Z`);
    return new Date(parsed).toISOString();
  };
  const since = time('since');
  const until = time('until');
  return {
    ...base,
    ...(since !== undefined || until !== undefined
      ? {
          createdAt: {
            ...(since !== undefined ? { gte: since } : {}),
            ...(until !== undefined ? { lt: until } : {}),
          },
        }
      : {}),
  };
}

/** Writes one line, waiting when the stream is full (constant memory for any export). */
async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

/** `membus export [filter] [--with-history] [--with-vectors] [--out FILE]`: NDJSON lines. */
export async function exportCommand(client: Client, filter: MemoryFilter): Promise<void> {
  const file: WriteStream | undefined = values.out ? createWriteStream(values.out) : undefined;
  const out = file ?? process.stdout;
  const bar = progressLine();
  const started = Date.now();
  let count = 0;
  for await (const line of exportMemories(client, filter, {
    withHistory: values['with-history'],
    withVectors: values['with-vectors'],
  })) {
    await writeLine(out, JSON.stringify(line));
    count++;
    bar.update(() => `exported ${count.toLocaleString('en')} · ${rate(count, started)}/s`);
  }
  if (file) {
    file.end();
    await once(file, 'finish');
  }
  bar.done(
    `exported ${count.toLocaleString('en')} memories in ${seconds(started)} s (${rate(count, started)}/s)${values.out ? ` to ${values.out}` : ''}`,
  );
}

/** `membus import FILE [--resume] [--dry-run] [--on-conflict report|overwrite]`. */
export async function importCommand(client: Client, path: string | undefined): Promise<void> {
  if (!path) fail('import needs a file (NDJSON, one memory a line; - reads stdin)');
  const onConflict = values['on-conflict'] ?? 'report';
  if (onConflict !== 'report' && onConflict !== 'overwrite')
    fail('--on-conflict must be report or overwrite');
  const checkpointFile = path === '-' ? undefined : `${path}.checkpoint`;
  if (values.resume && !checkpointFile) fail('--resume needs a file, not stdin');
  if (checkpointFile && !values.resume && !values['dry-run'])
    await rm(checkpointFile, { force: true });
  const input =
    path === '-'
      ? process.stdin.setEncoding('utf8')
      : createReadStream(path, { encoding: 'utf8' }).on('error', (error) =>
          fail(`cannot read ${path}: ${error.message}`),
        );
  const lines = textLines(input);
  const bar = progressLine();
  const started = Date.now();
  const summary = await importMemories(client, lines, {
    onConflict,
    dryRun: values['dry-run'],
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(checkpointFile && !values['dry-run'] ? { checkpoint: fileCheckpoint(checkpointFile) } : {}),
    onProgress: (progress) => bar.update(() => progressText(progress, started)),
  });
  bar.done(summaryText(summary, Boolean(values['dry-run'])));
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  // Done: a later run starts afresh (running it again would change nothing anyway).
  if (checkpointFile && !values['dry-run']) await rm(checkpointFile, { force: true });
  if (summary.failed > 0 || summary.conflicts > 0) process.exitCode = 2;
}

/**
 * The lines of a text stream (`\n` or `\r\n`), read as the consumer asks for them: a slow
 * import holds the file's reading back (readline's iterator reads ahead and can lose lines when
 * its consumer awaits between them).
 */
export async function* textLines(input: AsyncIterable<string | Buffer>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let start = 0;
    for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n', start)) {
      const line = rest.slice(start, end);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** `membus update [ID…] [filter] --set-tier T --set-importance X …`: a batch update. */
export async function updateCommand(
  client: Client,
  ids: readonly string[],
  filter: MemoryFilter,
): Promise<void> {
  const changes = changesFromFlags();
  const hasFilter = Object.values(filter).some((value) => value !== undefined);
  if (ids.length === 0 && !hasFilter)
    fail('update needs ids or at least one filter flag (updating every memory is refused)');
  if (ids.length > 0 && hasFilter) fail('give ids or filter flags, not both');
  const result = await updateMany(client, ids.length > 0 ? { ids } : { filter }, changes, {
    ...(values.reason ? { reason: values.reason } : {}),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `updated ${result.updated}, unchanged ${result.unchanged}${result.missing.length > 0 ? `, missing ${result.missing.length}: ${result.missing.join(' ')}` : ''}\n`,
    );
}

function changesFromFlags(): BatchChanges {
  const list = (value: string | undefined) =>
    value === undefined
      ? undefined
      : value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean);
  const tier = values['set-tier'];
  if (tier !== undefined && !TierSchema.safeParse(tier).success)
    fail(`--set-tier must be one of ${tierValues.join(', ')}`);
  const importance = values['set-importance'];
  if (importance !== undefined && !(Number(importance) >= 0 && Number(importance) <= 1))
    fail('--set-importance takes a number from 0 to 1');
  const expires = values['set-expires'];
  if (expires !== undefined && expires !== 'none' && Number.isNaN(Date.parse(expires)))
    fail('--set-expires takes an ISO-8601 time or "none"');
  const tags = list(values['set-tags']);
  const categories = list(values['set-categories']);
  const changes = {
    ...(tier !== undefined ? { tier: tier as BatchChanges['tier'] } : {}),
    ...(importance !== undefined ? { importance: Number(importance) } : {}),
    ...(tags !== undefined ? { tags } : {}),
    ...(categories !== undefined ? { categories } : {}),
    ...(expires !== undefined
      ? { expiresAt: expires === 'none' ? null : new Date(Date.parse(expires)).toISOString() }
      : {}),
  };
  if (Object.keys(changes).length === 0)
    fail(
      'update needs a change: --set-tier, --set-importance, --set-tags, --set-categories or --set-expires',
    );
  return changes;
}

function progressText(progress: Readonly<ImportProgress>, started: number): string {
  const done = progress.imported + progress.present + progress.overwritten;
  return `read ${progress.read.toLocaleString('en')} · imported ${progress.imported.toLocaleString('en')} · present ${progress.present.toLocaleString('en')} · conflicts ${progress.conflicts} · failed ${progress.failed} · ${rate(done, started)}/s`;
}

/** The summary an import ends with: counts, then each failure (line, id, code, reason). */
function summaryText(summary: ImportSummary, dryRun: boolean): string {
  const lines = [
    dryRun
      ? `dry run: read ${summary.read}, valid ${summary.valid}, invalid ${summary.failed} (nothing sent)`
      : `read ${summary.read}, imported ${summary.imported}, skipped as already present ${summary.present}, overwritten ${summary.overwritten}, conflicts ${summary.conflicts}, failed ${summary.failed}${summary.resumed > 0 ? ` (resumed: ${summary.resumed} lines done before)` : ''} in ${(summary.tookMs / 1000).toFixed(1)} s`,
  ];
  for (const failure of summary.failures)
    lines.push(
      `  line ${failure.line}${failure.id ? ` (${failure.id})` : ''}: ${failure.status === 'conflict' ? 'conflict' : 'failed'} ${failure.code}: ${failure.message}`,
    );
  if (summary.failuresOmitted > 0) lines.push(`  … and ${summary.failuresOmitted} more`);
  return lines.join('\n');
}

/**
 * A progress line on stderr: redrawn in place at most 10 times a second when stderr is a
 * terminal, nothing otherwise; `done` prints the final line either way.
 */
function progressLine() {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return {
    update(text: () => string) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      process.stderr.write(`\r\x1b[2K${text()}`);
    },
    done(text: string) {
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${text}\n`);
    },
  };
}

function rate(count: number, started: number): string {
  const elapsed = (Date.now() - started) / 1000;
  return elapsed > 0 ? Math.round(count / elapsed).toLocaleString('en') : '0';
}

function seconds(started: number): string {
  return ((Date.now() - started) / 1000).toFixed(1);
}

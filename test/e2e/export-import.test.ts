/**
 * Export and import (issue 23): export → import into an empty stack → export gives the same
 * lines; a repeated import changes nothing; conflicts are reported (or overwritten when asked);
 * hostile lines are failures in the summary, never a crash; an import killed mid-way resumes
 * without duplicates; batch updates by ids and by filter. One file on purpose (over 400 lines):
 * every case moves memories between the same two stacks, started once.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID as newId } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@membus/bus/testing';
import { repoRoot } from '@membus/cli';
import {
  exportMemories,
  fileCheckpoint,
  importMemories,
  type MemoryClient,
  type StoreInput,
  updateMany,
} from '@membus/client';
import type { ExportedMemory } from '@membus/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv } from '../helpers/shell-cli.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const SEEDED = 2_000;
/** Seeded memories stored twice (occurrences 2). */
const DUPLICATED = 16;
const run = promisify(execFile);
let source: TestStack;
let target: TestStack;
let directory: string;

const CLI = join(repoRoot, 'packages/cli/bin/membus.mjs');

async function collect(client: MemoryClient, options = {}): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of exportMemories(client, {}, options)) lines.push(JSON.stringify(line));
  return lines;
}

/** 2,000 memories of every kind and scope, some stored twice (occurrences 2), some updated. */
async function seed(client: MemoryClient): Promise<void> {
  const kinds = ['fact', 'episode', 'preference', 'outcome', 'summary'] as const;
  const inputs: StoreInput[] = Array.from({ length: SEEDED }, (_, index) => ({
    text: `memory ${index}: service-${index % 37} deployed to region-${index % 5} in ${(index * 7) % 100} s`,
    kind: kinds[index % kinds.length],
    ...(index % 3 === 0 ? { userId: `user-${index % 11}` } : {}),
    ...(index % 7 === 0 ? { sessionId: `session-${index % 4}` } : {}),
    ...(index % 2 === 0 ? { namespace: 'deployment' } : {}),
    metadata: { index, nested: { region: `region-${index % 5}`, ok: index % 4 !== 0 } },
    tags: index % 5 === 0 ? ['permanent', `t${index % 3}`] : [],
    categories: index % 9 === 0 ? ['incidents'] : [],
    importance: (index % 10) / 10,
    ...(index % 13 === 0 ? { ttlSeconds: 86_400 * 30 } : {}),
    createdAt: new Date(Date.UTC(2026, 0, 1) + index * 60_000).toISOString(),
  }));
  for (let start = 0; start < inputs.length; start += 500)
    await client.storeMany(inputs.slice(start, start + 500), { wait: 'queryable' });
  // Exact duplicates: same text, scope and owners under new ids -> occurrences 2 (outcomes are
  // data points and never merge: left out).
  await client.storeMany(
    inputs
      .slice(0, DUPLICATED + 4)
      .filter((input) => input.kind !== 'outcome')
      .map((input) => ({ ...input, id: newId() })),
    { wait: 'queryable' },
  );
  const some = [];
  for await (const memory of client.listAll({ namespace: 'deployment' }, 200)) {
    some.push(memory.id);
    if (some.length === 40) break;
  }
  for (const id of some.slice(0, 20))
    await client.update(id, { text: `updated text of ${id}`, tier: 'mid' });
}

beforeAll(async () => {
  [source, target] = await Promise.all([startTestStack(), startTestStack()]);
  directory = await mkdtemp(join(tmpdir(), 'membus-export-'));
  await seed(await source.client('acme'));
}, 180_000);

afterAll(async () => {
  await Promise.all([source?.[Symbol.asyncDispose](), target?.[Symbol.asyncDispose]()]);
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('export and import', () => {
  it('round trip: export → import into an empty stack → export gives the same lines', async () => {
    const from = await source.client('acme');
    const into = await target.client('acme');
    const lines = await collect(from, { withHistory: true, withVectors: true });
    expect(lines.length).toBe(SEEDED);
    const occurrences = lines.map(
      (line) => (JSON.parse(line) as ExportedMemory).memory.occurrences,
    );
    expect(occurrences.filter((count) => count === 2).length).toBe(DUPLICATED);

    const summary = await importMemories(into, lines);
    expect(summary).toMatchObject({
      read: SEEDED,
      imported: SEEDED,
      present: 0,
      conflicts: 0,
      failed: 0,
      failures: [],
    });
    expect(await collect(into, { withHistory: true, withVectors: true })).toEqual(lines);
    expect(await collect(into)).toEqual(await collect(from));
    expect((await into.stats()).total).toBe(SEEDED);
  }, 180_000);

  it('importing the same lines again changes nothing', async () => {
    const from = await source.client('acme');
    const into = await target.client('acme');
    const lines = await collect(from, { withHistory: true });
    const before = await collect(into, { withHistory: true, withVectors: true });
    const summary = await importMemories(into, lines);
    expect(summary).toMatchObject({ read: SEEDED, imported: 0, present: SEEDED, failed: 0 });
    expect(await collect(into, { withHistory: true, withVectors: true })).toEqual(before);
  }, 120_000);

  it('a line whose id holds another text is a conflict; overwrite replaces it', async () => {
    const into = await target.client('conflicts');
    const id = newId();
    const line = (text: string) => ({ v: 1, memory: { id, text, userId: 'alice' } });
    expect(await importMemories(into, [line('Alice deploys to Vercel')])).toMatchObject({
      imported: 1,
    });
    const reported = await importMemories(into, [line('Alice deploys to Fly')]);
    expect(reported).toMatchObject({ imported: 0, conflicts: 1, failed: 0 });
    expect(reported.failures).toEqual([
      expect.objectContaining({ line: 1, id, status: 'conflict', code: 'CONFLICT' }),
    ]);
    expect((await into.get(id))?.text).toBe('Alice deploys to Vercel');

    const overwritten = await importMemories(into, [line('Alice deploys to Fly')], {
      onConflict: 'overwrite',
    });
    expect(overwritten).toMatchObject({ overwritten: 1, conflicts: 0 });
    expect((await into.get(id))?.text).toBe('Alice deploys to Fly');
    expect((await into.history(id)).map((entry) => entry.event)).toEqual(['ADD', 'UPDATE']);
    // The same overwrite again: the memory already is that line.
    expect(
      await importMemories(into, [line('Alice deploys to Fly')], { onConflict: 'overwrite' }),
    ).toMatchObject({ overwritten: 0, present: 1 });
  }, 90_000);

  it('a memory deleted here is not brought back by importing its line again; overwrite restores it', async () => {
    const into = await target.client('resync');
    const id = newId();
    const line = { v: 1, memory: { id, text: 'Session original, compacted away', userId: 'bob' } };
    expect(await importMemories(into, [line])).toMatchObject({ imported: 1 });
    expect(await into.delete(id)).toEqual([id]);

    const again = await importMemories(into, [line]);
    expect(again).toMatchObject({ imported: 0, conflicts: 1, failed: 0 });
    expect(again.failures).toEqual([
      expect.objectContaining({ id, status: 'conflict', code: 'CONFLICT' }),
    ]);
    expect(again.failures[0]?.message).toMatch(/was deleted here/);
    expect(await into.get(id)).toBeUndefined();

    expect(await importMemories(into, [line], { onConflict: 'overwrite' })).toMatchObject({
      imported: 1,
      conflicts: 0,
    });
    expect((await into.get(id))?.text).toBe('Session original, compacted away');
  }, 90_000);

  it('a line carrying a vector still has its text redacted; the vector of what is stored is kept', async () => {
    const from = await source.client('acme');
    const into = await target.client('redacted');
    const [first] = await collect(from, { withVectors: true });
    const exported = JSON.parse(first as string) as { memory: Record<string, unknown> };
    const token = 'ghp_4fT9qLm2Xz7Rb1Nc8Vw3Kd6Hy0Pj5Gs2Ea9U';
    const id = newId();
    const line = {
      ...exported,
      memory: { ...exported.memory, id, text: `Deploy used token ${token} for the release` },
    };
    expect(await importMemories(into, [line])).toMatchObject({ imported: 1, failed: 0 });
    const stored = await into.get(id);
    expect(stored?.text).toContain('Deploy used token');
    expect(stored?.text).not.toContain(token);
    // Stored with the vector of its stored text, not the line's (made for another text).
    const { hits } = await into.query(stored?.text ?? '', { mode: 'dense', topK: 1 });
    expect(hits[0]?.memory.id).toBe(id);
    expect(hits[0]?.scores.dense).toBeGreaterThan(0.999);
  }, 90_000);

  it('hostile lines are failures in the summary; the valid ones are imported', async () => {
    const globex = await target.client('globex');
    const acme = await target.client('hostile');
    const { id: theirs } = await globex.store(
      { text: 'globex secret plan', userId: 'g' },
      { wait: 'queryable' },
    );
    const valid = newId();
    const input = [
      JSON.stringify({ v: 1, memory: { id: valid, text: 'a valid line' } }),
      // Another tenant's id: imported into this tenant only; theirs is untouched.
      JSON.stringify({ v: 1, memory: { id: theirs, text: 'acme overwrites globex?' } }),
      JSON.stringify({ v: 1, memory: { id: newId(), text: 'x', tenant: 'globex' } }),
      JSON.stringify({ v: 1, memory: { id: newId(), text: 'y'.repeat(40_000) } }),
      `{"v":1,"memory":{"id":"${newId()}","text":"p","metadata":{"__proto__":{"polluted":true}}}}`,
      `{"v":1,"__proto__":{"polluted":true},"memory":{"id":"${newId()}","text":"q"}}`,
      '{"v":1,"memory":',
      JSON.stringify({ v: 2, memory: { id: newId(), text: 'from the future' } }),
      JSON.stringify({ v: 1, memory: { id: 'not-a-uuid', text: 'z' } }),
      '',
      JSON.stringify([1, 2, 3]),
    ];
    const summary = await importMemories(acme, input);
    expect(summary).toMatchObject({ read: 10, imported: 2, conflicts: 0, failed: 8 });
    expect(summary.failures.map((failure) => [failure.line, failure.code])).toEqual([
      [3, 'INVALID_MESSAGE'],
      [4, 'LIMIT_EXCEEDED'],
      [5, 'INVALID_MESSAGE'],
      [6, 'INVALID_MESSAGE'],
      [7, 'INVALID_MESSAGE'],
      [8, 'INVALID_MESSAGE'],
      [9, 'INVALID_MESSAGE'],
      [11, 'INVALID_MESSAGE'],
    ]);
    expect(summary.failures[0]?.message).toContain('lines carry no tenant');
    expect(summary.failures[2]?.message).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await globex.get(theirs))?.text).toBe('globex secret plan');
    expect((await acme.get(theirs))?.text).toBe('acme overwrites globex?');
    expect((await acme.stats()).total).toBe(2);
  }, 90_000);

  it('membus export writes the lines of the filter, newest first', async () => {
    const env = await cliEnv(source, 'acme');
    const file = join(directory, 'cli-export.ndjson');
    const since = '2026-01-01T10:00:00.000Z';
    await run(
      process.execPath,
      [
        CLI,
        'export',
        '--namespace',
        'deployment',
        '--since',
        since,
        '--with-history',
        '--out',
        file,
      ],
      { env },
    );
    const written = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    const expected: string[] = [];
    for await (const line of exportMemories(
      await source.client('acme'),
      { namespace: 'deployment', createdAt: { gte: since } },
      { withHistory: true },
    ))
      expected.push(JSON.stringify(line));
    expect(expected.length).toBeGreaterThan(0);
    expect(written).toEqual(expected);
  }, 90_000);

  it('a killed import resumes from its checkpoint without duplicates', async () => {
    const tenant = 'resume';
    const env = await cliEnv(target, tenant);
    const total = 6_000;
    const file = join(directory, 'resume.ndjson');
    await writeFile(
      file,
      `${Array.from({ length: total }, (_, index) =>
        JSON.stringify({
          v: 1,
          memory: { id: newId(), text: `resumable memory ${index} of the killed import` },
        }),
      ).join('\n')}\n`,
    );
    const first: ChildProcess = spawn(
      process.execPath,
      [CLI, 'import', file, '--concurrency', '1'],
      { env, stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      first.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    const checkpoint = `${file}.checkpoint`;
    await waitFor(
      async () => {
        const text = await readFile(checkpoint, 'utf8').catch(() => undefined);
        return text !== undefined && (JSON.parse(text) as { linesDone: number }).linesDone > 0;
      },
      { timeoutMs: 60_000, what: 'the first checkpoint' },
    );
    first.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const { linesDone } = JSON.parse(await readFile(checkpoint, 'utf8')) as { linesDone: number };
    expect(linesDone).toBeLessThan(total);

    const { stdout } = await run(process.execPath, [CLI, 'import', file, '--resume', '--json'], {
      env,
    });
    const summary = JSON.parse(stdout) as { resumed: number; failed: number; conflicts: number };
    expect(summary).toMatchObject({ resumed: linesDone, failed: 0, conflicts: 0 });
    const client = await target.client(tenant);
    expect((await client.stats()).total).toBe(total);
    const ids = new Set<string>();
    for await (const memory of client.listAll(undefined, 500)) ids.add(memory.id);
    expect(ids.size).toBe(total);
    await expect(readFile(checkpoint)).rejects.toThrow();
  }, 180_000);
});

/** 100,000 memories: round trip and a resumed import (`MEMBUS_LARGE=1`; see the README for its time). */
describe.runIf(process.env.MEMBUS_LARGE === '1')('export and import at 100,000 memories', () => {
  const LARGE = 100_000;
  const line = (index: number) =>
    JSON.stringify({
      v: 1,
      memory: {
        id: newId(),
        text: `large memory ${index}: service-${index % 97} in region-${index % 7} took ${index % 300} s`,
        userId: `user-${index % 100}`,
        metadata: { index },
        createdAt: new Date(Date.UTC(2025, 0, 1) + index * 1_000).toISOString(),
      },
    });

  it('round trip and resume without duplicates', async () => {
    const lines = Array.from({ length: LARGE }, (_, index) => line(index));
    const from = await source.client('large');
    // The first import stops half-way (the input fails, as a crash would), then resumes.
    const checkpointFile = join(directory, 'large.checkpoint');
    const checkpoint = fileCheckpoint(checkpointFile);
    async function* crashing() {
      for (const [index, text] of lines.entries()) {
        if (index === LARGE / 2) throw new Error('crash');
        yield text;
      }
    }
    let started = performance.now();
    await expect(importMemories(from, crashing(), { checkpoint })).rejects.toThrow('crash');
    const resumed = await importMemories(from, lines, { checkpoint });
    const importSeconds = (performance.now() - started) / 1000;
    expect(resumed).toMatchObject({ failed: 0, conflicts: 0 });
    expect(resumed.resumed).toBeGreaterThan(0);
    expect((await from.stats()).total).toBe(LARGE);

    started = performance.now();
    const exported = await collect(from, { withVectors: true });
    const exportSeconds = (performance.now() - started) / 1000;
    const into = await target.client('large');
    started = performance.now();
    expect(await importMemories(into, exported)).toMatchObject({ imported: LARGE, failed: 0 });
    const copySeconds = (performance.now() - started) / 1000;
    expect(await collect(into, { withVectors: true })).toEqual(exported);
    process.stdout.write(
      `[large] memories=${LARGE} import(resumed)=${importSeconds.toFixed(1)}s export=${exportSeconds.toFixed(1)}s import(vectors)=${copySeconds.toFixed(1)}s\n`,
    );
  }, 1_800_000);
});

describe('batch update', () => {
  it('by ids and by filter, idempotent, each change in history', async () => {
    const client = await target.client('batch');
    const stored = await client.storeMany(
      Array.from({ length: 30 }, (_, index) => ({
        text: `batch memory ${index}`,
        namespace: index < 20 ? 'ops' : 'other',
      })),
      { wait: 'queryable' },
    );
    const ids = stored.map((result) => result.id);
    const byIds = await updateMany(client, { ids: ids.slice(20) }, { tier: 'long' });
    expect(byIds).toEqual({ updated: 10, unchanged: 0, missing: [] });

    const pages: number[] = [];
    const byFilter = await updateMany(
      client,
      { filter: { namespace: 'ops' } },
      { importance: 0.9, tags: ['reviewed'] },
      { reason: 'quarterly review', onProgress: (result) => pages.push(result.updated) },
    );
    expect(byFilter).toEqual({ updated: 20, unchanged: 0, missing: [] });
    expect(pages).toEqual([20]);
    const again = await updateMany(
      client,
      { filter: { namespace: 'ops' } },
      { importance: 0.9, tags: ['reviewed'] },
    );
    expect(again).toEqual({ updated: 0, unchanged: 20, missing: [] });
    const history = await client.history(ids[0] as string);
    expect(history.map((entry) => entry.event)).toEqual(['ADD', 'UPDATE']);
    expect(history[1]?.details).toMatchObject({ reason: 'quarterly review' });
    const missing = newId();
    expect(await updateMany(client, { ids: [missing] }, { tier: 'mid' })).toEqual({
      updated: 0,
      unchanged: 0,
      missing: [missing],
    });
    for await (const memory of client.listAll({ namespace: 'ops' }))
      expect([memory.importance, memory.tags]).toEqual([0.9, ['reviewed']]);
  }, 90_000);
});

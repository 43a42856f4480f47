import { writeFile } from 'node:fs/promises';
import { temporaryDirectory } from '@membus/bus/testing';
import { describe, expect, it } from 'vitest';
import { importedId, jsonValues, mapRow, parseMapping, toTimestamp } from '../src/index.ts';

async function collect<T>(values: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const value of values) all.push(value);
  return all;
}

describe('jsonValues (streamed JSON)', () => {
  const memories = [
    { id: 'a', memory: 'with "quotes" and ] brackets [ and } braces {', metadata: { n: [1, 2] } },
    { id: 'b', memory: 'escaped \\" quote and backslash \\\\', metadata: {} },
  ];

  it.each([
    ['a top-level array', JSON.stringify(memories)],
    ['getAll output { results }', JSON.stringify({ results: memories })],
    [
      "the platform's page { count, next, results } (keys before and after)",
      JSON.stringify({ count: 2, next: null, results: memories, previous: { results: [] } }),
    ],
    ['one memory per line', memories.map((memory) => JSON.stringify(memory)).join('\n')],
    ['pretty-printed', JSON.stringify({ results: memories }, null, 2)],
  ])('reads %s', async (_name, text) => {
    await using directory = await temporaryDirectory('membus-json-');
    const file = `${directory.path}/export.json`;
    await writeFile(file, text);
    expect(await collect(jsonValues(file, ['results']))).toEqual(memories);
  });

  it('reads objects that span the 64 KiB chunks of the file', async () => {
    await using directory = await temporaryDirectory('membus-json-');
    const file = `${directory.path}/big.json`;
    const many = Array.from({ length: 400 }, (_, index) => ({
      id: String(index),
      memory: `${'x'.repeat(index * 3)} "q" {${index}}`,
    }));
    await writeFile(file, JSON.stringify({ results: many }));
    expect(await collect(jsonValues(file, ['results']))).toEqual(many);
  });

  it('fails on a file that ends early', async () => {
    await using directory = await temporaryDirectory('membus-json-');
    const file = `${directory.path}/cut.json`;
    await writeFile(file, '{"results": [{"id": "a", "memory": "x"}, {"id": "b"');
    await expect(collect(jsonValues(file, ['results']))).rejects.toThrow('ends early');
  });
});

describe('ids', () => {
  it('keeps a UUID key and derives a UUIDv5 from any other key, per source', () => {
    const uuid = '0190F0E2-7C3A-7B1D-9A2E-1234567890AB';
    expect(importedId('notes', uuid)).toBe(uuid.toLowerCase());
    expect(importedId('notes', 1n)).toBe(importedId('notes', 1n));
    expect(importedId('notes', 'row-1')).toMatch(/^[0-9a-f-]{8}-[0-9a-f-]{4}-5/);
    expect(importedId('notes', 'row-1')).not.toBe(importedId('tasks', 'row-1'));
  });
});

describe('toTimestamp', () => {
  it.each([
    [new Date('2024-03-01T10:00:00Z'), '2024-03-01T10:00:00.000Z'],
    [1_709_287_200, '2024-03-01T10:00:00.000Z'],
    [1_709_287_200_000, '2024-03-01T10:00:00.000Z'],
    [1_709_287_200n, '2024-03-01T10:00:00.000Z'],
    ['2024-03-01 10:00:00', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T12:00:00+02:00', '2024-03-01T10:00:00.000Z'],
    ['1709287200', '2024-03-01T10:00:00.000Z'],
    ['not a date', undefined],
    [null, undefined],
  ])('%s → %s', (value, expected) => {
    expect(toTimestamp(value)).toBe(expected);
  });
});

describe('mapRow', () => {
  const mapping = parseMapping(`
table: notes
columns:
  id: note_id
  text: body
  userId: owner
  createdAt: created
  tags: labels
  metadata: { topic: subject, score: score }
  metadataJson: extra
defaults:
  namespace: notes
  kind: fact
  metadata: { importedFrom: crm }
`);

  it('maps columns, labels, metadata and the time', () => {
    const item = mapRow(
      {
        note_id: 7n,
        body: 'Alice deploys on Fridays',
        owner: 'alice',
        created: '2024-03-01 10:00:00',
        labels: 'deploy, weekly',
        subject: 'deploy',
        score: 0.5,
        extra: '{"ticket":"OPS-1"}',
      },
      mapping,
      { source: 'notes' },
    );
    expect(item).toEqual({
      memory: {
        id: importedId('notes', 7n),
        text: 'Alice deploys on Fridays',
        userId: 'alice',
        namespace: 'notes',
        kind: 'fact',
        tags: ['deploy', 'weekly'],
        createdAt: '2024-03-01T10:00:00.000Z',
        metadata: { importedFrom: 'crm', ticket: 'OPS-1', topic: 'deploy', score: 0.5 },
      },
    });
  });

  it('skips a row without text, and one membus would refuse, saying why', () => {
    expect(mapRow({ note_id: 1, body: '  ' }, mapping, { source: 'notes' })).toEqual({
      skipped: 'body: text is empty',
    });
    const tooLong = mapRow({ note_id: 2, body: 'x'.repeat(40_000) }, mapping, { source: 'notes' });
    expect(tooLong).toEqual({ skipped: expect.stringMatching(/^text: /) });
  });

  it('refuses a mapping with table and query, naming the problem', () => {
    expect(() =>
      parseMapping('{"table":"a","query":"select 1","columns":{"text":"t"}}', 'm.json'),
    ).toThrow('m.json: ');
    expect(() => parseMapping('table: a\ncolumns: {}', 'm.yaml')).toThrow('m.yaml: columns.text');
  });
});

/**
 * An update stores text and metadata only as the embedder redacted them: the domain sends the
 * change through `EmbedPort.prepareChange` and keeps what comes back, never the request's values.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MembusError, packVector, StoreMemorySchema, UpdateRequestSchema } from '@membus/contracts';
import { openEmbeddedVectorIndex } from '@membus/embedded-index';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import {
  type ChangeInput,
  type EmbedPort,
  MemoryService,
  type PreparedChange,
} from '../src/domain/memory-service.ts';

const TENANT = 'acme';
const DIMENSION = 4;
const ID = '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e';
const SECRET = 'Sh4rp-Secr3t-Value';
const MASK = '[REDACTED:test]';
const mask = (text: string) => text.replaceAll(SECRET, MASK);

/** An embedder stand-in that masks SECRET wherever it occurs and records what it was sent. */
function fakeEmbedPort(options: { redactsMetadata: boolean }) {
  const changes: ChangeInput[] = [];
  const document = (text: string) => ({
    text: mask(text),
    contentHash: 'c'.repeat(64),
    vector: Float32Array.from([0, 1, 0, 0]),
    model: 'fake-model',
  });
  const port: EmbedPort = {
    query: async () => Float32Array.from([1, 0, 0, 0]),
    documents: async (texts) => texts.map(document),
    ...(options.redactsMetadata
      ? {
          prepareChange: async (change: ChangeInput): Promise<PreparedChange> => {
            changes.push(change);
            return {
              ...(change.text !== undefined ? { document: document(change.text) } : {}),
              ...(change.metadata !== undefined
                ? {
                    metadata: JSON.parse(mask(JSON.stringify(change.metadata))) as Record<
                      string,
                      unknown
                    >,
                  }
                : {}),
            };
          },
        }
      : {}),
  };
  return { port, changes };
}

let directory: string;
let cleanup: (() => Promise<void>)[] = [];

async function serviceWith(embed: EmbedPort): Promise<MemoryService> {
  const index = await openEmbeddedVectorIndex({
    directory: join(directory, 'index'),
    dimension: 4,
  });
  const documents = openSqliteDocumentStore({ path: join(directory, 'documents.sqlite') });
  const service = new MemoryService({
    index,
    documents,
    embed,
    events: { publish: async () => {} },
  });
  cleanup.push(
    () => service.close(),
    () => index.close(),
    () => documents.close(),
  );
  const [result] = await service.ingest([
    {
      tenant: TENANT,
      embedded: {
        v: 1,
        memory: StoreMemorySchema.parse({
          v: 1,
          id: ID,
          text: 'Deployed billing',
          metadata: { project: 'billing' },
        }),
        vector: packVector([1, 0, 0, 0]),
        model: 'fake-model',
        dimension: DIMENSION,
        contentHash: 'a'.repeat(64),
        acceptedAt: Date.now(),
      },
    },
  ]);
  if (!result?.ok) throw new Error(`ingest failed: ${JSON.stringify(result)}`);
  return service;
}

const update = (changes: Record<string, unknown>) =>
  UpdateRequestSchema.parse({ v: 1, id: ID, ...changes });

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'membus-update-redaction-'));
});

afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
  await rm(directory, { recursive: true, force: true });
});

describe('MemoryService.update redaction', () => {
  it('stores the metadata the embedder redacted, not the metadata sent', async () => {
    const service = await serviceWith(fakeEmbedPort({ redactsMetadata: true }).port);
    await service.update(TENANT, update({ metadata: { env: { TOKEN: SECRET }, note: 'x' } }));
    const { memories } = await service.get(TENANT, [ID]);
    expect(memories.map((memory) => memory.metadata)).toEqual([
      { env: { TOKEN: MASK }, note: 'x' },
    ]);
  });

  it('stores the text the embedder redacted, not the text sent', async () => {
    const service = await serviceWith(fakeEmbedPort({ redactsMetadata: true }).port);
    await service.update(TENANT, update({ text: `Deployed with ${SECRET}` }));
    const { memories } = await service.get(TENANT, [ID]);
    expect(memories.map((memory) => memory.text)).toEqual([`Deployed with ${MASK}`]);
  });

  it('sends a text and metadata change to the embedder in one request', async () => {
    const embed = fakeEmbedPort({ redactsMetadata: true });
    const service = await serviceWith(embed.port);
    await service.update(TENANT, update({ text: `t ${SECRET}`, metadata: { key: SECRET } }));
    expect(embed.changes).toEqual([{ text: `t ${SECRET}`, metadata: { key: SECRET } }]);
  });

  it('records the redacted text in the history, never the one sent', async () => {
    const service = await serviceWith(fakeEmbedPort({ redactsMetadata: true }).port);
    await service.update(TENANT, update({ text: `Deployed with ${SECRET}` }));
    const { entries } = await service.history(TENANT, ID);
    expect(entries.filter((entry) => JSON.stringify(entry).includes(SECRET))).toEqual([]);
  });

  it('does not ask the embedder when neither text nor metadata changes', async () => {
    const embed = fakeEmbedPort({ redactsMetadata: true });
    const service = await serviceWith(embed.port);
    await service.update(TENANT, update({ tags: ['prod'] }));
    expect(embed.changes).toEqual([]);
  });

  it('refuses a metadata update when the embed port cannot redact metadata', async () => {
    const service = await serviceWith(fakeEmbedPort({ redactsMetadata: false }).port);
    const error = await service
      .update(TENANT, update({ metadata: { token: SECRET } }))
      .catch((caught: unknown) => caught);
    expect(MembusError.is(error) ? error.code : error).toBe('INTERNAL');
  });

  it('leaves the stored metadata untouched when a metadata update is refused', async () => {
    const service = await serviceWith(fakeEmbedPort({ redactsMetadata: false }).port);
    await service.update(TENANT, update({ metadata: { token: SECRET } })).catch(() => {});
    const { memories } = await service.get(TENANT, [ID]);
    expect(memories.map((memory) => memory.metadata)).toEqual([{ project: 'billing' }]);
  });
});

// Update: fields, and text and metadata as the embedder redacted them.
import { MembusError, type MemoryRecord, type UpdateRequest } from '@membus/contracts';
import type { ChangeInput, PreparedChange } from '../../ports/memory-ports.ts';
import { isLive, iso, type MemoryContext, writeRecord } from './context.ts';

/** An update's text and metadata as the embedder redacted them (see EmbedPort.prepareChange). */
async function prepareChange(context: MemoryContext, change: ChangeInput): Promise<PreparedChange> {
  if (context.embed.prepareChange) {
    const prepared = await context.embed.prepareChange(change);
    if (change.text !== undefined && !prepared.document)
      throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
    if (change.metadata !== undefined && !prepared.metadata)
      throw new MembusError('EMBEDDING_FAILED', 'embedder returned no redacted metadata');
    return prepared;
  }
  if (change.metadata !== undefined)
    throw new MembusError('INTERNAL', 'this embed port cannot redact metadata', {
      details: { reason: 'EmbedPort.prepareChange missing' },
    });
  if (change.text === undefined) return {};
  const [document] = await context.embed.documents([change.text]);
  if (!document) throw new MembusError('EMBEDDING_FAILED', 'embedder returned no vector');
  return { document };
}

export async function update(
  context: MemoryContext,
  tenant: string,
  request: UpdateRequest,
): Promise<MemoryRecord> {
  const now = context.clock();
  const [current] = (await context.index.get(tenant, [request.id])).filter((record) =>
    isLive(record, now),
  );
  if (!current)
    throw new MembusError('NOT_FOUND', `no memory ${request.id}`, {
      details: { id: request.id },
    });
  const textChanged = request.text !== undefined && request.text !== current.text;
  // Text and metadata are stored only as the embedder redacted them: an update must not be
  // a way around the masking a store applies.
  const prepared: PreparedChange =
    textChanged || request.metadata !== undefined
      ? await prepareChange(context, {
          ...(textChanged ? { text: request.text } : {}),
          ...(request.metadata !== undefined ? { metadata: request.metadata } : {}),
        })
      : {};
  const changed: MemoryRecord = {
    ...current,
    ...(prepared.metadata !== undefined ? { metadata: prepared.metadata } : {}),
    ...(request.categories !== undefined ? { categories: request.categories } : {}),
    ...(request.tags !== undefined ? { tags: request.tags } : {}),
    ...(request.importance !== undefined ? { importance: request.importance } : {}),
    ...(request.tier !== undefined ? { tier: request.tier } : {}),
    updatedAt: iso(now),
  };
  if (request.expiresAt === null) delete changed.expiresAt;
  else if (request.expiresAt !== undefined) changed.expiresAt = request.expiresAt;
  const next = await writeRecord(context, changed, prepared.document);
  await context.documents.appendHistory(tenant, [
    {
      memoryId: next.id,
      event: 'UPDATE',
      at: next.updatedAt,
      ...(prepared.document ? { previousText: current.text, text: next.text } : {}),
      details: {
        fields: Object.keys(request).filter(
          (key) => key !== 'v' && key !== 'id' && key !== 'reason',
        ),
        ...(request.reason !== undefined ? { reason: request.reason } : {}),
      },
    },
  ]);
  await context.events.publish(tenant, [
    {
      event: { v: 1, change: 'updated', id: next.id, memory: next, at: next.updatedAt },
      dedupId: `update:${next.id}:${now}`,
    },
  ]);
  return next;
}

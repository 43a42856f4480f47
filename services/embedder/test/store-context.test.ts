import { StoreMemorySchema } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import { Embedder } from '../src/domain/embedder.ts';
import { createRedactor } from '../src/domain/redaction.ts';

// A store's keyword-only `context` is stored, never embedded, and redacted like the text.
describe('a store with a keyword context', () => {
  const store = (context: string) =>
    StoreMemorySchema.parse({
      v: 1,
      id: '018f3b2a-7c4d-7e8f-9a0b-1c2d3e4f5a70',
      text: 'Caroline: Yes, last Tuesday!',
      context,
    });

  it('passes the context on with its secrets masked, and embeds the text alone', async () => {
    const embedder = new Embedder({
      provider: createLocalEmbeddingProvider(),
      redactor: createRedactor(),
    });
    const [withContext] = await embedder.embedStores([
      store('Melanie: the password=hunter2! worked?'),
    ]);
    const [other] = await embedder.embedStores([store('something else entirely')]);
    expect({
      context: withContext?.ok ? withContext.embedded.memory.context : withContext?.error,
      sameVector:
        withContext?.ok && other?.ok
          ? withContext.embedded.vector === other.embedded.vector
          : false,
      sameHash:
        withContext?.ok && other?.ok
          ? withContext.embedded.contentHash === other.embedded.contentHash
          : false,
    }).toEqual({
      context: 'Melanie: the password=[REDACTED:credential-assignment]! worked?',
      sameVector: true,
      sameHash: true,
    });
  });
});

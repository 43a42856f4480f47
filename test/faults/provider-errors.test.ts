/**
 * Fault (e): the OpenAI-compatible embedding provider answers 429 (with Retry-After) and 500
 * for a while. The provider retries with backoff, then the store message is nak'd and waits in
 * JetStream; nothing is lost or dead-lettered. The provider is a protocol test double: no model
 * endpoint is reachable from these machines.
 */
import { expect, it } from 'vitest';
import { startEmbeddingsProtocolServer } from '../../services/embedder/test/support/embeddings-protocol-server.ts';
import { expectedCounts, FAULT_COUNT, runFaultScenario } from '../helpers/faults.ts';
import { startTestStack } from '../helpers/stack.ts';

const DIMENSION = 64;

it(`keeps exactly ${FAULT_COUNT} memories while the embedding provider answers 429/500`, async () => {
  await using provider = await startEmbeddingsProtocolServer({ dimension: DIMENSION });
  await using stack = await startTestStack({
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_BASE_URL: provider.baseURL,
    OPENAI_API_KEY: 'test-key',
    EMBEDDING_MODEL: 'test-embedding',
    EMBEDDING_DIMENSION: String(DIMENSION),
    EMBED_CACHE: 'off',
  });
  const client = await stack.client('fault-provider');
  // More failures in a row than one call retries (5 attempts): whole batches are nak'd.
  const failures = Array.from({ length: 12 }, (_, index) =>
    index % 2 === 0
      ? {
          status: 429,
          headers: { 'retry-after': '0' },
          body: { error: { message: 'rate limited' } },
        }
      : { status: 500, body: { error: { message: 'upstream failed' } } },
  );
  const faults = [{ after: 0.3, action: async () => provider.script(...failures) }];
  const counts = await runFaultScenario({
    name: 'embedding provider 429/500',
    stack,
    client,
    faults,
  });
  expect(counts).toEqual(expectedCounts());
}, 300_000);

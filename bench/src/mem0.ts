/**
 * The same workload against mem0's open-source TypeScript library (`mem0ai/oss`, `infer: false`,
 * its SQLite-file vector store, its OpenAI embedder pointed at membus's local embeddings over
 * the embedder's OpenAI-compatible endpoint), in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng, syntheticMemory, syntheticQuery } from './corpus.ts';
import { summarize } from './stats.ts';

export interface Mem0Result {
  size: number;
  addPerSecond: number;
  add: ReturnType<typeof summarize>;
  filteredSearch: ReturnType<typeof summarize>;
}

export async function benchMem0(options: {
  embeddingsUrl: string;
  size: number;
  queries: number;
  users: number;
  dimension: number;
  log: (message: string) => void;
}): Promise<Mem0Result> {
  process.env.MEM0_TELEMETRY = 'false';
  const { Memory } = await import('mem0ai/oss');
  const directory = mkdtempSync(join(tmpdir(), 'membus-bench-mem0-'));
  const memory = new Memory({
    version: 'v1.1',
    embedder: {
      provider: 'openai',
      config: {
        apiKey: 'unused',
        model: 'local',
        baseURL: options.embeddingsUrl,
        embeddingDims: options.dimension,
      },
    },
    vectorStore: {
      provider: 'memory',
      config: {
        collectionName: 'bench',
        dimension: options.dimension,
        dbPath: join(directory, 'vectors.db'),
      },
    },
    llm: {
      provider: 'openai',
      config: { apiKey: 'unused', model: 'unused', baseURL: options.embeddingsUrl },
    },
    historyDbPath: join(directory, 'history.db'),
    disableHistory: true,
  });
  try {
    const random = rng(42);
    const adds: number[] = [];
    const started = performance.now();
    let lastReport = started;
    for (let index = 0; index < options.size; index++) {
      const item = syntheticMemory(random, index, options.users);
      const before = performance.now();
      await memory.add(item.text, {
        userId: item.userId,
        infer: false,
        metadata: { namespace: item.namespace, category: item.category },
      });
      adds.push(performance.now() - before);
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        options.log(`  mem0 add ${index + 1}/${options.size}`);
      }
    }
    const addSeconds = (performance.now() - started) / 1000;
    const queryRandom = rng(2);
    const searches: number[] = [];
    for (let index = 0; index < options.queries; index++) {
      const text = syntheticQuery(queryRandom);
      const userId = `user-${Math.floor(queryRandom() * options.users)}`;
      const before = performance.now();
      await memory.search(text, { filters: { user_id: userId }, topK: 10 });
      searches.push(performance.now() - before);
    }
    return {
      size: options.size,
      addPerSecond: options.size / addSeconds,
      add: summarize(adds),
      filteredSearch: summarize(searches),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

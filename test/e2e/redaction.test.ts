/** Secrets never reach storage: the whole pipeline (client → embedder → vector-store → query). */
import type { MemoryClient } from '@membus/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

let stack: TestStack;

const secrets = {
  github: 'ghp_4fT9qLm2Xz7Rb1Nc8Vw3Kd6Hy0Pj5Gs2Ea9U',
  aws: 'AKIAIOSFODNN7EXAMPLQ',
  openai: 'sk-proj-Xy8Lm3Qr7Tz1Vb5Nc9Kd2Hf6Gj4Ps0Wa8Eu3Ri',
  password: 'Tr0ub4dor&3xyz!',
};
const text =
  `Deploy of billing to Vercel used token ${secrets.github}; the build pulled artifacts with ` +
  `AWS key ${secrets.aws} and called OpenAI with ${secrets.openai}. ` +
  `The database URL was postgres://billing:${secrets.password}@db.internal:5432/billing.`;

beforeAll(async () => {
  stack = await startTestStack();
}, 90_000);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('secret redaction end to end', () => {
  it('stores and returns the memory without any of its secrets, keeping the text around them', async () => {
    const client = await stack.client('redaction');
    await client.store({ text, namespace: 'deploys' }, { wait: 'queryable' });
    const { hits } = await client.query('billing deploy vercel artifacts', {
      filter: { namespace: 'deploys' },
    });
    const stored = hits[0]?.memory.text ?? '';
    expect({
      leaked: Object.values(secrets).filter((secret) => stored.includes(secret)),
      kept: [
        'Deploy of billing to Vercel',
        'db.internal:5432/billing',
        'postgres://billing:',
      ].filter((phrase) => !stored.includes(phrase)),
    }).toEqual({ leaked: [], kept: [] });
  });
});

describe('secret redaction of metadata end to end', () => {
  const vercelToken = 'Vx7Lq2Rm9Tz4Kb1Nc8Wd3Hf6';
  // Configuration as a deployment agent records it (USE-CASES §1).
  const metadata = {
    platform: 'vercel',
    project: 'billing',
    attempts: 3,
    preview: false,
    env: { VERCEL_TOKEN: vercelToken, NODE_ENV: 'production' },
    github: { repo: 'acme/billing', token: secrets.github },
    command: `aws s3 sync ./dist s3://billing-assets with key ${secrets.aws}`,
  };
  const masked = {
    platform: 'vercel',
    project: 'billing',
    attempts: 3,
    preview: false,
    env: { VERCEL_TOKEN: '[REDACTED:credential-assignment]', NODE_ENV: 'production' },
    github: { repo: 'acme/billing', token: '[REDACTED:credential-assignment]' },
    command: 'aws s3 sync ./dist s3://billing-assets with key [REDACTED:aws-access-key-id]',
  };
  let client: MemoryClient;
  let id: string;

  beforeAll(async () => {
    client = await stack.client('redaction-metadata');
    ({ id } = await client.store(
      { text: 'Deployed billing to Vercel production', namespace: 'deploy-config', metadata },
      { wait: 'queryable' },
    ));
  }, 30_000);

  it('returns the metadata masked from get', async () => {
    expect((await client.get(id))?.metadata).toEqual(masked);
  });

  it('returns the metadata masked from query', async () => {
    const { hits } = await client.query('billing deploy vercel', {
      filter: { namespace: 'deploy-config' },
    });
    expect(hits.map((hit) => hit.memory.metadata)).toEqual([masked]);
  });
});

describe('secret redaction of updates end to end', () => {
  const vercelToken = 'Vx7Lq2Rm9Tz4Kb1Nc8Wd3Hf6';
  let client: MemoryClient;
  let id: string;

  beforeAll(async () => {
    client = await stack.client('redaction-update');
    ({ id } = await client.store(
      { text: 'Deployed billing to Vercel preview', namespace: 'deploy-update' },
      { wait: 'queryable' },
    ));
    await client.update(id, {
      text: `Deployed billing to Vercel production with token ${secrets.github}`,
      metadata: {
        project: 'billing',
        env: { VERCEL_TOKEN: vercelToken },
        command: `aws s3 sync ./dist s3://billing-assets with key ${secrets.aws}`,
      },
    });
  }, 30_000);

  it('returns the updated metadata masked from get', async () => {
    expect((await client.get(id))?.metadata).toEqual({
      project: 'billing',
      env: { VERCEL_TOKEN: '[REDACTED:credential-assignment]' },
      command: 'aws s3 sync ./dist s3://billing-assets with key [REDACTED:aws-access-key-id]',
    });
  });

  it('returns the updated text masked from get', async () => {
    expect((await client.get(id))?.text).toBe(
      'Deployed billing to Vercel production with token [REDACTED:github-token]',
    );
  });

  it('keeps the secrets out of the history', async () => {
    const entries = await client.history(id);
    const leaked = Object.values(secrets)
      .concat(vercelToken)
      .filter((secret) => JSON.stringify(entries).includes(secret));
    expect(leaked).toEqual([]);
  });
});

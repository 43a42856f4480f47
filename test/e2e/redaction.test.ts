/** Secrets never reach storage: the whole pipeline (client → embedder → vector-store → query). */
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

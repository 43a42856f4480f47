import { StoreMemorySchema } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import { Embedder } from '../src/domain/embedder.ts';
import { createRedactor } from '../src/domain/redaction.ts';
import { GHP, join, NPM, VERCEL } from './support/secret-corpus.ts';

const redactor = createRedactor();

describe('createRedactor: metadata', () => {
  const FIELD_MASK = '[REDACTED:credential-assignment]';

  it.each([
    'token',
    'secret',
    'password',
    'passwd',
    'apiKey',
    'api_key',
    'Authorization',
    'credentials',
    'privateKey',
    'PRIVATE_KEY',
    'VERCEL_TOKEN',
    'clientSecret',
  ])('masks the value under the key %s', (key) => {
    expect(redactor.redactMetadata({ [key]: 'plainlooking' }).metadata).toEqual({
      [key]: FIELD_MASK,
    });
  });

  it('masks a token found by a detector in an ordinary string value', () => {
    expect(redactor.redactMetadata({ note: `CI used ${GHP}` }).metadata).toEqual({
      note: 'CI used [REDACTED:github-token]',
    });
  });

  it('masks secret keys inside nested objects and arrays', () => {
    const metadata = {
      deploy: {
        platform: 'vercel',
        targets: [{ region: 'fra1', env: { VERCEL_TOKEN: VERCEL, NODE_ENV: 'production' } }],
      },
    };
    expect(redactor.redactMetadata(metadata).metadata).toEqual({
      deploy: {
        platform: 'vercel',
        targets: [{ region: 'fra1', env: { VERCEL_TOKEN: FIELD_MASK, NODE_ENV: 'production' } }],
      },
    });
  });

  it('masks every string and number below a secret key, keeping booleans and nulls', () => {
    const metadata = { credentials: { user: 'ops', pin: 4821, rotated: true, expires: null } };
    expect(redactor.redactMetadata(metadata).metadata).toEqual({
      credentials: { user: FIELD_MASK, pin: FIELD_MASK, rotated: true, expires: null },
    });
  });

  it('masks each element of an array under a secret key', () => {
    expect(redactor.redactMetadata({ secrets: ['abc123xyz', 'def456uvw'] }).metadata).toEqual({
      secrets: [FIELD_MASK, FIELD_MASK],
    });
  });

  it('detects detector secrets in strings inside arrays', () => {
    expect(redactor.redactMetadata({ args: ['deploy', '--prod', NPM] }).metadata).toEqual({
      args: ['deploy', '--prod', '[REDACTED:npm-token]'],
    });
  });

  it('returns metadata without secrets as the same object', () => {
    const metadata = {
      platform: 'vercel',
      durationMs: 84_000,
      success: true,
      max_tokens: 4096,
      token_type: 'bearer',
      author: 'Jane Doe',
      tags: ['prod', 'web'],
      nested: { commit: '3f786850e387550fdab836ed7e6dc881de23001b', retries: 2, cached: null },
    };
    expect(redactor.redactMetadata(metadata).metadata).toBe(metadata);
  });

  it('keeps placeholders and empty strings under secret keys', () => {
    const metadata = { token: join('$', '{VERCEL_TOKEN}'), password: '', apiKey: 'redacted' };
    expect(redactor.redactMetadata(metadata).metadata).toBe(metadata);
  });

  it('counts the masked values by kind', () => {
    expect(
      redactor.redactMetadata({ token: 'abc123xyz', password: 'hunter2!', note: `npm ${NPM}` })
        .redactions,
    ).toEqual([
      { kind: 'credential-assignment', count: 2 },
      { kind: 'npm-token', count: 1 },
    ]);
  });

  it('does not change the input object', () => {
    const metadata = { env: { GITHUB_TOKEN: GHP } };
    redactor.redactMetadata(metadata);
    expect(metadata).toEqual({ env: { GITHUB_TOKEN: GHP } });
  });

  it('passes metadata through when disabled', () => {
    const metadata = { token: GHP };
    expect(createRedactor({ enabled: false }).redactMetadata(metadata).metadata).toBe(metadata);
  });

  it('uses the custom replacement for secret keys', () => {
    const custom = createRedactor({ replacement: (kind) => `<${kind}>` });
    expect(custom.redactMetadata({ password: 'hunter2!' }).metadata).toEqual({
      password: '<credential-assignment>',
    });
  });

  it('leaves secret keys alone when credential-assignment is not among the kinds', () => {
    const metadata = { password: 'hunter2!' };
    expect(createRedactor({ kinds: ['npm-token'] }).redactMetadata(metadata).metadata).toBe(
      metadata,
    );
  });
});

describe('Embedder: metadata redaction', () => {
  it('stores metadata with its secrets masked', async () => {
    const embedder = new Embedder({
      provider: createLocalEmbeddingProvider(),
      redactor,
    });
    const [outcome] = await embedder.embedStores([
      StoreMemorySchema.parse({
        v: 1,
        id: '018f3b2a-7c4d-7e8f-9a0b-1c2d3e4f5a6b',
        text: 'Deployed web-app to Vercel production',
        metadata: { platform: 'vercel', vercel: { token: VERCEL } },
      }),
    ]);
    expect(outcome?.ok ? outcome.embedded.memory.metadata : outcome?.error).toEqual({
      platform: 'vercel',
      vercel: { token: '[REDACTED:credential-assignment]' },
    });
  });

  it('reports metadata redactions to the hook', async () => {
    const reported: [string, number][] = [];
    const embedder = new Embedder({
      provider: createLocalEmbeddingProvider(),
      redactor,
      hooks: { onRedaction: (kind, count) => reported.push([kind, count]) },
    });
    await embedder.embedStores([
      StoreMemorySchema.parse({
        v: 1,
        id: '018f3b2a-7c4d-7e8f-9a0b-1c2d3e4f5a6c',
        text: 'Rotated the deploy credentials',
        metadata: { apiKey: 'abc123xyz', password: 'hunter2!' },
      }),
    ]);
    expect(reported).toEqual([['credential-assignment', 2]]);
  });
});

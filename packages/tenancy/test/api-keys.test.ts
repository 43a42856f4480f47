/** The API keys of the HTTP gateway (decision 007): hashed at rest, revocable, one answer for every refusal. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@membus/bus/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiKeysFile, authenticateApiKey, FileApiKeyStore } from '../src/index.ts';

let dir: string;
let store: FileApiKeyStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'membus-api-keys-'));
  store = new FileApiKeyStore(apiKeysFile(dir));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileApiKeyStore', () => {
  it('creates a 256-bit key, keeps only its SHA-256, owner-only', async () => {
    const { key, info } = await store.create('acme', 'ci');
    expect(key).toMatch(/^mbk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(info).toEqual({
      id: key.slice(4, 20),
      tenant: 'acme',
      name: 'ci',
      createdAt: expect.any(String),
    });
    const text = await readFile(store.file, 'utf8');
    expect(text).not.toContain(key.slice(21));
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
  });

  it('authenticates a key as its tenant', async () => {
    const { key } = await store.create('acme');
    expect(await authenticateApiKey(store, key)).toBe('acme');
  });

  it('refuses a malformed, unknown, wrong-secret and revoked key alike', async () => {
    const { key, info } = await store.create('acme');
    const other = await store.create('globex');
    await store.revoke(other.info.id);
    const wrongSecret = `${key.slice(0, 21)}${'A'.repeat(43)}`;
    const refused = await Promise.all(
      ['', 'mbk_short', `mbk_${'f'.repeat(16)}_${'A'.repeat(43)}`, wrongSecret, other.key].map(
        (candidate) => authenticateApiKey(store, candidate),
      ),
    );
    expect(refused).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(await authenticateApiKey(store, key)).toBe('acme');
    expect(info.revokedAt).toBeUndefined();
  });

  it('lists keys without hashes, revocations included', async () => {
    const { info } = await store.create('acme', 'ci');
    await store.revoke(info.id);
    const [listed] = await store.list();
    expect(listed).toMatchObject({ id: info.id, tenant: 'acme', revokedAt: expect.any(String) });
    expect(listed).not.toHaveProperty('hash');
    expect(await store.revoke('0123456789abcdef')).toBe(false);
  });

  it('refuses an invalid tenant name', async () => {
    await expect(store.create('a.>')).rejects.toThrow(/invalid tenant/);
  });

  it('a reader sees a revocation written by another store within a second', async () => {
    const { key, info } = await store.create('acme');
    const reader = new FileApiKeyStore(store.file);
    expect(await authenticateApiKey(reader, key)).toBe('acme');
    await new FileApiKeyStore(store.file).revoke(info.id);
    const started = performance.now();
    await waitFor(async () => (await authenticateApiKey(reader, key)) === undefined, {
      timeoutMs: 1_000,
      intervalMs: 10,
      what: 'the revocation seen',
    });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('reads a file that is not an API-key file as an error, not as no keys', async () => {
    await writeFile(store.file, '{"keys": 3}');
    await expect(store.list()).rejects.toThrow(/not an API-key file/);
  });
});

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MembusError } from '@membus/contracts';
import { assertTenant } from './authority.ts';

/** One API key as stored: never the secret, only its SHA-256. */
export interface ApiKeyRecord {
  /** Public id of the key (the `<keyId>` of `mbk_<keyId>_<secret>`). */
  id: string;
  /** The tenant the key acts for. */
  tenant: string;
  /** A label for people (`ci`, `deploy-agent`). */
  name?: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
  /** ISO time of creation. */
  createdAt: string;
  /** ISO time of revocation; a revoked key authenticates nothing. */
  revokedAt?: string;
}

/** A key as listed: the record without its hash. */
export type ApiKeyInfo = Omit<ApiKeyRecord, 'hash'>;

/**
 * Where API keys are looked up (the HTTP gateway authenticates with it). A file in the tenancy
 * directory is the default ({@link FileApiKeyStore}); another store (a database, a secrets
 * manager) implements this port.
 */
export interface ApiKeyStore {
  /** The key with this id, revoked or not, or undefined. Sees a revocation within a second. */
  find(keyId: string): Promise<ApiKeyRecord | undefined>;
}

interface ApiKeyFile {
  v: 1;
  keys: ApiKeyRecord[];
}

/** `mbk_<16 hex>_<43 base64url>`: 64 random bits of id, 256 of secret. */
const KEY_PATTERN = /^mbk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** How long a read of the file is trusted before its mtime is checked again. */
const RECHECK_MS = 200;

/** The API-key file of a tenancy directory: `<dir>/api-keys.json`. */
export function apiKeysFile(tenancyDir: string): string {
  return join(tenancyDir, 'api-keys.json');
}

const sha256 = (secret: string): Buffer => hash('sha256', secret, 'buffer');

/** A hash compared against when the key id is unknown, so that path costs the same. */
const DECOY_HASH = sha256(randomBytes(32).toString('base64url'));

/**
 * The tenant an API key acts for, or undefined for a malformed, unknown or revoked key (one
 * answer for all three). The secret's hash is always compared in constant time, against a
 * decoy when the id is unknown.
 */
export async function authenticateApiKey(
  store: ApiKeyStore,
  key: string,
): Promise<string | undefined> {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, keyId, secret] = match as unknown as [string, string, string];
  const record = await store.find(keyId);
  const expected = record ? Buffer.from(record.hash, 'hex') : DECOY_HASH;
  const equal = expected.length === DECOY_HASH.length && timingSafeEqual(sha256(secret), expected);
  if (!record || !equal || record.revokedAt !== undefined) return undefined;
  return record.tenant;
}

/**
 * API keys in one JSON file (owner-only, written atomically): created and revoked by
 * `membus apikey`, read by the gateway, which re-reads it when its modification time, size or
 * inode changed (checked at most every 200 ms), so a revocation takes effect within a second.
 */
export class FileApiKeyStore implements ApiKeyStore {
  readonly file: string;
  #cached: ApiKeyFile = { v: 1, keys: [] };
  #signature: string | undefined;
  #checkedAt = -Infinity;
  #loading: Promise<ApiKeyFile> | undefined;

  constructor(file: string) {
    this.file = file;
  }

  async find(keyId: string): Promise<ApiKeyRecord | undefined> {
    const state = await this.#current();
    return state.keys.find((key) => key.id === keyId);
  }

  /** Every key (without hashes), oldest first. */
  async list(): Promise<ApiKeyInfo[]> {
    const state = await this.#read();
    return state.keys.map(({ hash: _hash, ...info }) => info);
  }

  /** Creates a key for `tenant`; the returned `key` is the only time the secret is shown. */
  async create(tenant: string, name?: string): Promise<{ key: string; info: ApiKeyInfo }> {
    assertTenant(tenant);
    const state = await this.#read();
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      id,
      tenant,
      ...(name ? { name } : {}),
      hash: sha256(secret).toString('hex'),
      createdAt: new Date().toISOString(),
    };
    await this.#write({ v: 1, keys: [...state.keys, record] });
    const { hash: _hash, ...info } = record;
    return { key: `mbk_${id}_${secret}`, info };
  }

  /** Revokes a key by id; false when there is no such key (revoking twice is a no-op). */
  async revoke(keyId: string): Promise<boolean> {
    const state = await this.#read();
    const record = state.keys.find((key) => key.id === keyId);
    if (!record) return false;
    if (record.revokedAt === undefined) {
      record.revokedAt = new Date().toISOString();
      await this.#write(state);
    }
    return true;
  }

  async #current(): Promise<ApiKeyFile> {
    if (performance.now() - this.#checkedAt < RECHECK_MS) return this.#cached;
    this.#loading ??= this.#refresh().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #refresh(): Promise<ApiKeyFile> {
    const signature = await stat(this.file).then(
      (info) => `${info.ino}:${info.size}:${info.mtimeMs}`,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return 'missing';
        throw error;
      },
    );
    if (signature !== this.#signature) {
      this.#cached = await this.#read();
      this.#signature = signature;
    }
    this.#checkedAt = performance.now();
    return this.#cached;
  }

  async #read(): Promise<ApiKeyFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { v: 1, keys: [] };
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<ApiKeyFile>;
    if (parsed.v !== 1 || !Array.isArray(parsed.keys))
      throw new MembusError('INVALID_MESSAGE', `${this.file} is not an API-key file (v 1)`);
    return { v: 1, keys: parsed.keys };
  }

  async #write(state: ApiKeyFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.file);
    this.#checkedAt = -Infinity;
  }
}

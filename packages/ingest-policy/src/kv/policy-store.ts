import type { KV } from '@membus/bus';
import {
  type IngestPolicy,
  MembusError,
  type PolicyHistoryEntry,
  type PolicyVersion,
  PolicyVersionSchema,
} from '@membus/contracts';

/** The KV bucket of the ingest policies, in the membus account (decision 009). */
export const POLICY_BUCKET = 'membus-policies';

const headKey = (tenant: string) => `head.${tenant}`;
const versionKey = (tenant: string, version: number) => `version.${tenant}.${version}`;

/**
 * Ingest policies in a NATS KV bucket. `head.<tenant>` holds the current version (its KV
 * revision is the compare-and-set of a put); `version.<tenant>.<n>` keeps every version, each
 * written once. A put writes the previous head into history (again: idempotent) before it
 * replaces the head, so a crash between the two writes loses no version.
 */
export class KvPolicyStore {
  readonly #kv: KV;
  readonly #clock: () => number;

  constructor(kv: KV, clock: () => number = Date.now) {
    this.#kv = kv;
    this.#clock = clock;
  }

  /** The tenant's current policy version, or undefined while it has none. */
  async current(tenant: string): Promise<PolicyVersion | undefined> {
    return (await this.#head(tenant))?.record;
  }

  /** One version of the tenant's policy. */
  async version(tenant: string, version: number): Promise<PolicyVersion | undefined> {
    const head = await this.#head(tenant);
    if (head?.record.version === version) return head.record;
    if (head === undefined || version > head.record.version) return undefined;
    return this.#read(versionKey(tenant, version));
  }

  /**
   * Writes `policy` as version `expectedVersion + 1`; CONFLICT when the current version is not
   * `expectedVersion` (also when another put won the race for the same version).
   */
  async put(tenant: string, policy: IngestPolicy, expectedVersion: number): Promise<PolicyVersion> {
    const head = await this.#head(tenant);
    const current = head?.record.version ?? 0;
    if (current !== expectedVersion) throw conflict(current, expectedVersion);
    const record: PolicyVersion = {
      version: current + 1,
      updatedAt: new Date(this.#clock()).toISOString(),
      policy,
    };
    const bytes = JSON.stringify(record);
    if (head) await kvCall(() => this.#kv.put(versionKey(tenant, head.record.version), head.raw));
    try {
      if (head) await this.#kv.update(headKey(tenant), bytes, head.revision);
      else await this.#kv.create(headKey(tenant), bytes);
    } catch (error) {
      const now = (await this.#head(tenant))?.record.version ?? 0;
      if (now !== expectedVersion) throw conflict(now, expectedVersion);
      throw unavailable(error);
    }
    await kvCall(() => this.#kv.put(versionKey(tenant, record.version), bytes));
    return record;
  }

  /** Versions below `before` (default: from the current one), newest first. */
  async history(
    tenant: string,
    options: { before?: number | undefined; limit: number },
  ): Promise<{ version: number; entries: PolicyHistoryEntry[]; nextBefore?: number }> {
    const head = await this.#head(tenant);
    const current = head?.record.version ?? 0;
    const top = Math.min(current, (options.before ?? current + 1) - 1);
    const bottom = Math.max(1, top - options.limit + 1);
    const wanted: number[] = [];
    for (let version = top; version >= bottom; version--) wanted.push(version);
    const records = await Promise.all(
      wanted.map((version) =>
        version === current ? head?.record : this.#read(versionKey(tenant, version)),
      ),
    );
    const entries = records.flatMap((record) =>
      record
        ? [
            {
              version: record.version,
              updatedAt: record.updatedAt,
              rules: record.policy.rules.length,
              ruleNames: record.policy.rules.map((rule) => rule.name),
            },
          ]
        : [],
    );
    return { version: current, entries, ...(bottom > 1 ? { nextBefore: bottom } : {}) };
  }

  async #head(
    tenant: string,
  ): Promise<{ record: PolicyVersion; revision: number; raw: string } | undefined> {
    const entry = await kvCall(() => this.#kv.get(headKey(tenant)));
    if (entry?.operation !== 'PUT' || entry.length === 0) return undefined;
    const raw = entry.string();
    return { record: parseRecord(raw), revision: entry.revision, raw };
  }

  async #read(key: string): Promise<PolicyVersion | undefined> {
    const entry = await kvCall(() => this.#kv.get(key));
    if (entry?.operation !== 'PUT' || entry.length === 0) return undefined;
    return parseRecord(entry.string());
  }
}

/** A KV call whose failure (NATS down, a timeout) is a retryable UNAVAILABLE. */
async function kvCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw unavailable(error);
  }
}

function unavailable(error: unknown): MembusError {
  if (MembusError.is(error)) return error;
  return new MembusError('UNAVAILABLE', `policy store: ${(error as Error).message}`, {
    retryable: true,
    cause: error,
  });
}

function parseRecord(raw: string): PolicyVersion {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new MembusError('INTERNAL', 'stored policy is not JSON', { cause: error });
  }
  const parsed = PolicyVersionSchema.safeParse(value);
  if (!parsed.success)
    throw new MembusError('INTERNAL', `stored policy is invalid: ${parsed.error.message}`);
  return parsed.data;
}

function conflict(current: number, expected: number): MembusError {
  return new MembusError(
    'CONFLICT',
    `policy is at version ${current}, not ${expected}: read it again and put on top of it`,
    { details: { currentVersion: current, expectedVersion: expected } },
  );
}

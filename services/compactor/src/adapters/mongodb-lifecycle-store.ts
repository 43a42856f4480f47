import type { MemoryRecord } from '@membus/contracts';
import { connectMongo, type MongoWriteConcern } from '@membus/mongodb';
import type { CompactionPlan, LifecycleStore } from '../ports/lifecycle-store.ts';

interface PlanDocument {
  _id: string;
  state: CompactionPlan['state'];
  updated: Date;
  plan: CompactionPlan;
}
interface ArchiveDocument {
  _id: string;
  tenant: string;
  sessionId: string | null;
  createdAt: string;
  record: MemoryRecord;
}
interface SessionDocument {
  _id: string;
  tenant: string;
  sessionId: string;
  lastActivity: number;
}

export interface MongoLifecycleStoreOptions {
  /** Connection string, e.g. `mongodb://127.0.0.1:27017`. */
  uri: string;
  /** Database holding the collections. */
  database: string;
  /** Collection name prefix (tests use a unique one); none unless told. */
  prefix?: string;
  /**
   * `majority` (the default: a saved plan or archived memory survives a primary failover,
   * which crash-safe compaction relies on) or a node count.
   */
  writeConcern?: MongoWriteConcern;
  /** How long an operation waits for a reachable server before failing; 10 s unless told. */
  serverSelectionTimeoutMs?: number;
}

/**
 * The production LifecycleStore: collections `compaction_plans`, `archive`, `sessions`,
 * `tenants`. Connects and pings on open, so an unreachable server fails at startup with
 * `UNAVAILABLE` (after the server selection timeout) instead of on the first compaction.
 */
export async function openMongoLifecycleStore(
  options: MongoLifecycleStoreOptions,
): Promise<LifecycleStore> {
  const { client, db } = await connectMongo({ ...options, appName: 'membus-compactor' });
  const prefix = options.prefix ?? '';
  const plans = db.collection<PlanDocument>(`${prefix}compaction_plans`);
  const archive = db.collection<ArchiveDocument>(`${prefix}archive`);
  const sessions = db.collection<SessionDocument>(`${prefix}sessions`);
  const tenants = db.collection<{ _id: string }>(`${prefix}tenants`);
  await Promise.all([
    plans.createIndex({ state: 1, updated: 1 }),
    archive.createIndex({ tenant: 1, sessionId: 1, createdAt: 1 }),
    sessions.createIndex({ lastActivity: 1 }),
  ]);
  const key = (tenant: string, id: string) => `${tenant}/${id}`;
  let sequence = 0;
  return {
    capabilities: { name: 'mongodb' },
    async savePlan(plan) {
      sequence = Math.max(sequence + 1, Date.now());
      const updated = new Date(sequence);
      await upsertRetried(() =>
        plans.replaceOne(
          { _id: key(plan.tenant, plan.sessionId) },
          { state: plan.state, updated, plan },
          { upsert: true },
        ),
      );
    },
    async plan(tenant, sessionId) {
      return (await plans.findOne({ _id: key(tenant, sessionId) }))?.plan;
    },
    async pendingPlans() {
      return (await plans.find({ state: 'pending' }).sort({ updated: 1 }).toArray()).map(
        (document) => document.plan,
      );
    },
    async archive(tenant, records) {
      if (records.length === 0) return;
      await upsertRetried(() =>
        archive.bulkWrite(
          records.map((record) => ({
            updateOne: {
              filter: { _id: key(tenant, record.id) },
              update: {
                $setOnInsert: {
                  tenant,
                  sessionId: record.sessionId ?? null,
                  createdAt: record.createdAt,
                  record,
                },
              },
              upsert: true,
            },
          })),
          { ordered: false },
        ),
      );
    },
    async archived(tenant, sessionId) {
      return (
        await archive.find({ tenant, sessionId }).sort({ createdAt: 1, _id: 1 }).toArray()
      ).map((document) => document.record);
    },
    async touchSession(tenant, sessionId, at) {
      await upsertRetried(() =>
        sessions.updateOne(
          { _id: key(tenant, sessionId) },
          { $max: { lastActivity: at }, $setOnInsert: { tenant, sessionId } },
          { upsert: true },
        ),
      );
    },
    async idleSessions(before, limit) {
      return (
        await sessions
          .find({ lastActivity: { $lt: before } })
          .sort({ lastActivity: 1 })
          .limit(limit)
          .toArray()
      ).map((document) => ({ tenant: document.tenant, sessionId: document.sessionId }));
    },
    async forgetSession(tenant, sessionId, upTo) {
      await sessions.deleteOne({
        _id: key(tenant, sessionId),
        ...(upTo === undefined ? {} : { lastActivity: { $lte: upTo } }),
      });
    },
    async tenants() {
      return (await tenants.find().sort({ _id: 1 }).toArray()).map((document) => document._id);
    },
    async addTenant(tenant) {
      await upsertRetried(() =>
        tenants.updateOne({ _id: tenant }, { $setOnInsert: { _id: tenant } }, { upsert: true }),
      );
    },
    async close() {
      await client.close();
    },
  };
}

/** The URI without its password, for logs and error messages. */

/**
 * Two concurrent upserts of one `_id` can both try the insert; the loser fails with a duplicate
 * key error (E11000) and, tried again, finds the document and updates it. Every upsert here is
 * idempotent, so one retry is safe.
 */
async function upsertRetried<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isDuplicateKey(error)) return write();
    throw error;
  }
}

function isDuplicateKey(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000
  );
}

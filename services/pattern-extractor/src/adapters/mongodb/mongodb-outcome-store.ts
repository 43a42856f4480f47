import { MembusError } from '@membus/contracts';
import { connectMongo, type MongoWriteConcern } from '@membus/mongodb';
import type { Collection } from 'mongodb';
import type {
  OutcomeQuery,
  OutcomeRow,
  OutcomeStore,
  PatternMemoryState,
} from '../../ports/outcome-store.ts';

export interface MongoOutcomeStoreOptions {
  /** Connection string, e.g. `mongodb://127.0.0.1:27017`. */
  uri: string;
  /** Database holding the collections; `membus` unless told. */
  database?: string;
  /** Prefix of the collection names (tests use one per run); none unless told. */
  collectionPrefix?: string;
  /**
   * `majority` (the default: an acked outcome or pattern memory survives a primary failover)
   * or a node count.
   */
  writeConcern?: MongoWriteConcern;
  /** How long an operation waits for a reachable server before failing; 10 s unless told. */
  serverSelectionTimeoutMs?: number;
}

/** Collection names, stable: operators and migrations refer to them. */
export const MongoOutcomeCollections = {
  outcomes: 'pattern_outcomes',
  patternMemories: 'pattern_memories',
} as const;

/** One outcome as stored: `_id` is `<tenant>/<outcome id>`, so a replay collides on it. */
interface OutcomeDocument extends OutcomeRow {
  _id: string;
}

interface PatternMemoryDocument extends PatternMemoryState {
  _id: string;
  tenant: string;
}

const BULK_CHUNK = 500;

/**
 * The OutcomeStore on MongoDB (or any server speaking its protocol, e.g. FerretDB). Connects,
 * pings and creates the indexes when opened, so an unreachable server fails at startup with
 * `UNAVAILABLE` (after the server selection timeout) instead of on the first outcome.
 */
export async function openMongoOutcomeStore(
  options: MongoOutcomeStoreOptions,
): Promise<OutcomeStore & { drop(): Promise<void> }> {
  const { client, db } = await connectMongo({
    ...options,
    database: options.database ?? 'membus',
    appName: 'membus-pattern-extractor',
  });
  const prefix = options.collectionPrefix ?? '';
  const outcomes: Collection<OutcomeDocument> = db.collection(
    `${prefix}${MongoOutcomeCollections.outcomes}`,
  );
  const patterns: Collection<PatternMemoryDocument> = db.collection(
    `${prefix}${MongoOutcomeCollections.patternMemories}`,
  );
  await outcomes.createIndexes([
    { key: { tenant: 1, taskType: 1, namespace: 1, occurredAtMs: 1 }, name: 'outcomes_key' },
  ]);

  const fail = (operation: string, error: unknown): never => {
    throw new MembusError(
      'BACKEND_FAILED',
      `mongodb ${operation} failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  };

  return {
    capabilities: { name: 'mongodb' },
    async insertOutcomes(rows) {
      const inserted = new Set<string>();
      // Ids repeated within one call count once, like a replay.
      const unique = [...new Map(rows.map((row) => [`${row.tenant}/${row.id}`, row])).values()];
      for (let start = 0; start < unique.length; start += BULK_CHUNK) {
        const chunk = unique.slice(start, start + BULK_CHUNK);
        try {
          // Upsert with $setOnInsert: an existing outcome keeps its first version, and the
          // result names exactly the documents this call created.
          const result = await outcomes.bulkWrite(
            chunk.map((row) => ({
              updateOne: {
                filter: { _id: `${row.tenant}/${row.id}` },
                update: { $setOnInsert: { ...row } },
                upsert: true,
              },
            })),
            { ordered: false },
          );
          // By _id, not by operation index: FerretDB numbers upserts differently.
          const byKey = new Map(chunk.map((row) => [`${row.tenant}/${row.id}`, row.id]));
          for (const key of Object.values(result.upsertedIds)) {
            const id = byKey.get(String(key));
            if (id !== undefined) inserted.add(id);
          }
        } catch (error) {
          fail('insert outcomes', error);
        }
      }
      return inserted;
    },
    async outcomes(tenant, query: OutcomeQuery = {}) {
      try {
        const documents = await outcomes
          .find(
            {
              tenant,
              ...(query.taskType !== undefined ? { taskType: query.taskType } : {}),
              ...(query.namespace !== undefined ? { namespace: query.namespace } : {}),
            },
            { projection: { _id: 0 } },
          )
          .sort({ occurredAtMs: 1, id: 1 })
          .toArray();
        return documents as OutcomeRow[];
      } catch (error) {
        return fail('read outcomes', error);
      }
    },
    async taskTypeTotals() {
      try {
        // Two plain groups: FerretDB implements no $cond.
        const count = (match: Record<string, unknown>) =>
          outcomes
            .aggregate<{ _id: string; count: number }>([
              { $match: match },
              { $group: { _id: '$taskType', count: { $sum: 1 } } },
            ])
            .toArray();
        const [executions, successes] = await Promise.all([count({}), count({ success: true })]);
        const successesByType = new Map(successes.map((group) => [group._id, group.count]));
        return executions.map((group) => ({
          taskType: group._id,
          executions: group.count,
          successes: successesByType.get(group._id) ?? 0,
        }));
      } catch (error) {
        return fail('task type totals', error);
      }
    },
    async patternMemory(tenant, patternId) {
      try {
        const document = await patterns.findOne({ _id: `${tenant}/${patternId}` });
        return document
          ? { patternId: document.patternId, digest: document.digest, sentAt: document.sentAt }
          : undefined;
      } catch (error) {
        return fail('read pattern memory', error);
      }
    },
    async savePatternMemory(tenant, state) {
      try {
        await patterns.replaceOne(
          { _id: `${tenant}/${state.patternId}` },
          { tenant, ...state },
          { upsert: true },
        );
      } catch (error) {
        fail('save pattern memory', error);
      }
    },
    async drop() {
      await outcomes.drop().catch(() => {});
      await patterns.drop().catch(() => {});
    },
    async close() {
      await client.close();
    },
  };
}

/** The URI without its password, for error messages. */

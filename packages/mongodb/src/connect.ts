import { MembusError } from '@membus/contracts';
import { type Db, MongoClient } from 'mongodb';
import { z } from 'zod';

/** Write concern `w`: `majority` or a number of nodes that must acknowledge a write. */
export type MongoWriteConcern = 'majority' | number;

/**
 * The `MONGODB_WRITE_CONCERN` option: `majority` (default) or a node count. `0` (unacknowledged)
 * only where `allowUnacknowledged`: a service that acks a JetStream message after the write
 * must not accept it.
 */
export function writeConcernSchema(options: { allowUnacknowledged: boolean }) {
  return z
    .string()
    .regex(
      options.allowUnacknowledged ? /^(majority|[0-9]+)$/ : /^(majority|[1-9][0-9]*)$/,
      options.allowUnacknowledged
        ? 'majority or a node count'
        : 'majority or a node count of at least 1',
    )
    .default('majority')
    .transform((value): MongoWriteConcern => (value === 'majority' ? 'majority' : Number(value)));
}

export interface MongoConnectionOptions {
  /** `mongodb://` or `mongodb+srv://` URI; its password is never logged or put in an error. */
  uri: string;
  /** Database name. */
  database: string;
  /** Write concern `w`: `majority` (production) or a number of nodes. Default `majority`. */
  writeConcern?: MongoWriteConcern | undefined;
  /** How long to look for a server before an operation fails, ms. Default 10,000. */
  serverSelectionTimeoutMs?: number | undefined;
  /** Shown in the server's logs and `currentOp`, e.g. `membus-vector-store`. */
  appName: string;
}

/**
 * Connects and pings, so a wrong or unreachable URI fails at startup with a typed `UNAVAILABLE`
 * (after the server selection timeout) instead of on the first write. Later outages are the
 * driver's to ride out: it reconnects by itself.
 */
export async function connectMongo(
  options: MongoConnectionOptions,
): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(options.uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 10_000,
    writeConcern: { w: options.writeConcern ?? 'majority' },
    appName: options.appName,
  });
  try {
    await client.connect();
    const db = client.db(options.database);
    await db.command({ ping: 1 });
    return { client, db };
  } catch (error) {
    await client.close().catch(() => undefined);
    const uri = redactUri(options.uri);
    throw new MembusError(
      'UNAVAILABLE',
      `MongoDB at ${uri} is unreachable: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { backend: 'mongodb', uri } },
    );
  }
}

/** The URI with its password replaced by `***`, for logs and errors. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

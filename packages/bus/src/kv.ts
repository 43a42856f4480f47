import type { JetStreamClient } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';

export type { KV };

/** Opens (creating if needed) a KV bucket whose entries expire after `ttlMs`. */
export async function openKv(
  js: JetStreamClient,
  bucket: string,
  options: { ttlMs: number; replicas?: number },
): Promise<KV> {
  const kvm = new Kvm(js);
  return kvm.create(bucket, { ttl: options.ttlMs, replicas: options.replicas ?? 1, history: 1 });
}

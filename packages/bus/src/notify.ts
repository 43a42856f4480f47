import { type DeadLetter, Headers, noticeSubject, type StoreNotice } from '@membus/contracts';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { encode } from './codec.ts';

/**
 * Sends a store notice for a message that was published on `storeSubject` (e.g.
 * `memory.store.acme` or `memory.embedded.acme`) to `memory.notice.<tenant>.<token>`, the
 * token taken from the `membus-notify` header. The tenant comes from the subject, never the
 * header, so a forged header can only pick among its own tenant's notices.
 */
export function notifyStore(
  nc: NatsConnection,
  storeSubject: string,
  headers: MsgHdrs | undefined,
  notice: StoreNotice,
): void {
  const subject = noticeSubject(storeSubject, headers?.get(Headers.notify));
  if (subject) nc.publish(subject, encode(notice));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * After a store message was dead-lettered: tells the waiting client, if its id can be read
 * from the message as it was received (`data`; the letter's copy may be cut short).
 */
export function notifyDeadLetter(
  nc: NatsConnection,
  letter: DeadLetter,
  headers: MsgHdrs | undefined,
  data: Uint8Array,
): void {
  const id = storeIdOf(data);
  if (!id) return;
  notifyStore(nc, letter.subject, headers, {
    v: 1,
    id,
    status: 'failed',
    memoryId: id,
    error: letter.error,
  });
}

/** The memory id of a payload that may be invalid (a store or an embedded message). */
export function storeIdOf(payload: string | Uint8Array): string | undefined {
  try {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as { id?: unknown; memory?: { id?: unknown } };
    const id = record.id ?? record.memory?.id;
    return typeof id === 'string' && UUID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

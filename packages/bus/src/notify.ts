import { type DeadLetter, Headers, NOTIFY_PREFIX, type StoreNotice } from '@membus/contracts';
import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { encode } from './codec.ts';

/**
 * Sends a store notice to the client inbox named in the `membus-notify` header. Only
 * `_INBOX.` subjects are accepted, so a forged header cannot make a service publish
 * into another tenant's subjects.
 */
export function notifyStore(
  nc: NatsConnection,
  headers: MsgHdrs | undefined,
  notice: StoreNotice,
): void {
  const inbox = headers?.get(Headers.notify);
  if (!inbox?.startsWith(NOTIFY_PREFIX) || /[\s*>]/.test(inbox)) return;
  nc.publish(inbox, encode(notice));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** After a store message was dead-lettered: tells the waiting client, if its id can be read. */
export function notifyDeadLetter(
  nc: NatsConnection,
  letter: DeadLetter,
  headers: MsgHdrs | undefined,
): void {
  const id = storeIdOf(letter.payload);
  if (!id) return;
  notifyStore(nc, headers, { v: 1, id, status: 'failed', memoryId: id, error: letter.error });
}

/** The memory id of a payload that may be invalid (a store or an embedded message). */
export function storeIdOf(payload: string): string | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null) return undefined;
    const record = value as { id?: unknown; memory?: { id?: unknown } };
    const id = record.id ?? record.memory?.id;
    return typeof id === 'string' && UUID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

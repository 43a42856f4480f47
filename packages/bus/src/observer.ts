import type { ErrorCode } from '@membus/contracts';

/** What the bus reports about each handled message; services turn it into metrics. */
export interface HandledEvent {
  /** Subject without the tenant token, e.g. `memory.query`. */
  subject: string;
  kind: 'request' | 'stream';
  /**
   * `ok`; `error` (request answered with an error); `retry` (nak'd for redelivery);
   * `dead_letter` (terminated and sent to the DLQ).
   */
  outcome: 'ok' | 'error' | 'retry' | 'dead_letter';
  code?: ErrorCode;
  seconds: number;
  /** Delivery attempt (stream messages). */
  deliveries?: number;
}

export type BusObserver = (event: HandledEvent) => void;

export function subjectBase(subject: string, tenantScoped: boolean): string {
  return tenantScoped ? subject.slice(0, subject.lastIndexOf('.')) : subject;
}

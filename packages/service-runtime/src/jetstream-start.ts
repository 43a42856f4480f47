import {
  isUnanswered,
  type JetStreamManager,
  type NatsConnection,
  type PrepareOptions,
  prepareJetStream,
} from '@membus/bus';
import { retry } from './retry.ts';

export interface StartJetStreamOptions extends PrepareOptions {
  /** Tries before a request that gets no answer fails the start (default 5). */
  attempts?: number;
  /** Told of each unanswered try that will be run again. */
  onRetry?: (attempt: number, error: Error) => void;
}

/**
 * A service's JetStream start (`prepareJetStream`: manager, streams, consumers), run again from
 * the start after a short jittered wait when a JetStream API request got no answer — a stack's
 * services start together on a fresh server, where nats-server 2.9 leaves some answers unsent.
 * Every other error stands, as does the last timeout.
 */
export function startJetStream(
  nc: NatsConnection,
  options: StartJetStreamOptions = {},
): Promise<JetStreamManager> {
  const { attempts = 5, onRetry, ...prepare } = options;
  return retry(() => prepareJetStream(nc, prepare), {
    attempts,
    baseMs: 50,
    maxMs: 1_000,
    retryable: isUnanswered,
    onRetry: ({ attempt, error }) => onRetry?.(attempt, error as Error),
    giveUp: (error) => error,
  });
}

import { readFile } from 'node:fs/promises';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { definedFields } from './defined-fields.ts';

export interface BusConnectionOptions {
  /** `nats://host:port`, comma-separated for a cluster. */
  servers: string | string[];
  /** Client name shown in the server's connection list. */
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Path to a `.creds` file (JWT + nkey seed). */
  credsFile?: string;
  /** TLS: CA, client cert and key files; `true` for TLS with the system CAs. */
  tls?: boolean | { caFile?: string; certFile?: string; keyFile?: string };
  /** Keep reconnecting forever (services) or give up (CLI): default forever. */
  reconnect?: boolean;
  /** Initial connect timeout in ms. */
  timeout?: number;
  /**
   * Prefix of reply inboxes (default `_INBOX`). A tenant's agent user may be allowed to
   * subscribe only to `_INBOX.<tenant>.>` (infra/nats): connect with `_INBOX.<tenant>`.
   */
  inboxPrefix?: string;
}

/** Connects to NATS; services reconnect forever, waiting in JetStream rather than failing. */
export async function connectBus(options: BusConnectionOptions): Promise<NatsConnection> {
  const servers = Array.isArray(options.servers)
    ? options.servers
    : options.servers.split(',').map((server) => server.trim());
  const authenticator = options.credsFile
    ? credsAuthenticator(new Uint8Array(await readFile(options.credsFile)))
    : undefined;
  const tls =
    options.tls === undefined || options.tls === false
      ? undefined
      : options.tls === true
        ? {}
        : definedFields({
            caFile: options.tls.caFile,
            certFile: options.tls.certFile,
            keyFile: options.tls.keyFile,
          });
  return connect({
    servers,
    name: options.name,
    ...definedFields({
      user: options.user,
      pass: options.pass,
      token: options.token,
      authenticator,
      tls,
      inboxPrefix: options.inboxPrefix,
    }),
    maxReconnectAttempts: options.reconnect === false ? 0 : -1,
    // nats.js otherwise builds an Error (with stack) per request for async traces: a
    // measurable share of CPU per JetStream publish on the ingest path.
    noAsyncTraces: true,
    reconnectTimeWait: 250,
    timeout: options.timeout ?? 5_000,
  });
}

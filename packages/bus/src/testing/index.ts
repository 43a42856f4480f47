export type { Closable, Reopenable, TemporaryDirectory } from './adapter-fixture.ts';
export { reopenable, reopenableFile, temporaryDirectory } from './adapter-fixture.ts';
export type { NatsServer, NatsServerOptions } from './nats-server.ts';
export { startNatsServer } from './nats-server.ts';
export { allPages } from './pages.ts';
export { unreachableUrl, unusedPort, unusedPortBase } from './ports.ts';
export type {
  ProtocolDouble,
  RequestAuthorization,
  ScriptedResponse,
} from './protocol-double.ts';
export { startProtocolDouble } from './protocol-double.ts';
export type { Deferred } from './wait.ts';
export { deferred, waitFor } from './wait.ts';

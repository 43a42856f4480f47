export type {
  ConsumeDefinition,
  ConsumerDeclaration,
  DeadLetters,
  DefinedService,
  Drainable,
  OperationHandler,
  OperationServer,
  RuntimeConfig,
  ServiceBus,
  ServiceContext,
  ServiceDefinition,
  StartedService,
} from './define-service.ts';
export { defineService } from './define-service.ts';
export type { StartJetStreamOptions } from './jetstream-start.ts';
export { startJetStream } from './jetstream-start.ts';
export type { RetryOptions } from './retry.ts';
export { isTransientStatus, messageOf, parseRetryAfter, retry, retryDelayMs } from './retry.ts';
export { configLoader, serviceEnv } from './service-env.ts';
export type { PragmaDatabase } from './sqlite-file.ts';
export { openSqliteFile } from './sqlite-file.ts';

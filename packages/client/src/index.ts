export type {
  ErrorCode,
  HistoryEntry,
  MemoryFilter,
  MemoryRecord,
  QueryHit,
} from '@membus/contracts';
export { MembusError } from '@membus/contracts';
export type {
  ConnectOptions,
  ListInput,
  QueryInput,
  QueryOptions,
  QueryResult,
  StoreInput,
  StoreOptions,
  StoreResult,
  UpdateInput,
} from './client.ts';
export { connect, MemoryClient } from './client.ts';

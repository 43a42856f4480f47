export type { MongoDocumentStoreOptions } from './mongodb-document-store.ts';
export {
  isTransient as isTransientMongoError,
  MongoCollections,
  openMongoDocumentStore,
  redactUri,
} from './mongodb-document-store.ts';

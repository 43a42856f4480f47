export type { MongoDocumentStoreOptions } from './mongodb-document-store.ts';
export {
  isTransient as isTransientMongoError,
  MongoCollections,
  openMongoDocumentStore,
} from './mongodb-document-store.ts';

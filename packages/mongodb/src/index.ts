export type { MongoConnectionOptions, MongoWriteConcern } from './connect.ts';
export { connectMongo, redactUri, writeConcernSchema } from './connect.ts';

export type { MongoConnectionOptions } from './connect.ts';
export { connectMongo, redactUri } from './connect.ts';

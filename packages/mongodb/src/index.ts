export type { MongoConnectionOptions, MongoWriteConcern } from './connect.ts';
export { connectMongo, redactUri, writeConcernSchema } from './connect.ts';
export { mongodbEnvSpec } from './env.ts';

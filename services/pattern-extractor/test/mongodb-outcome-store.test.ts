import { randomUUID } from 'node:crypto';
import { reopenable } from '@membus/bus/testing';
import { openMongoOutcomeStore } from '../src/adapters/mongodb/mongodb-outcome-store.ts';
import { createOutcomeStoreConformanceSuite } from '../src/testing/index.ts';

// CI provides MONGODB_URI (scripts/provision-mongodb.sh runs FerretDB); without it there is
// no server to test against.
const uri = process.env.MONGODB_URI;

createOutcomeStoreConformanceSuite({
  name: 'mongodb outcome store',
  ...(uri ? {} : { skip: 'MONGODB_URI is not set' }),
  create: async () => {
    const options = {
      uri: uri as string,
      database: 'membus_test',
      collectionPrefix: `t${randomUUID().slice(0, 8)}_`,
      serverSelectionTimeoutMs: 5_000,
    };
    return reopenable(() => openMongoOutcomeStore(options), {
      beforeClose: (store) => store.drop(),
    });
  },
});

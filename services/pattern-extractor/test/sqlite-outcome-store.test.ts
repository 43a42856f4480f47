import { reopenableFile } from '@membus/bus/testing';
import { openSqliteOutcomeStore } from '../src/adapters/sqlite/sqlite-outcome-store.ts';
import { createOutcomeStoreConformanceSuite } from '../src/testing/index.ts';

createOutcomeStoreConformanceSuite({
  name: 'sqlite outcome store',
  create: () => reopenableFile('outcomes.sqlite', (path) => openSqliteOutcomeStore({ path })),
});

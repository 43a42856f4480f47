import { reopenableFile } from '@membus/bus/testing';
import { openSqliteDocumentStore } from '../src/adapters/sqlite/sqlite-document-store.ts';
import { createDocumentStoreConformanceSuite } from '../src/testing/index.ts';

createDocumentStoreConformanceSuite({
  name: 'sqlite',
  capabilities: { persistent: true },
  create: () => reopenableFile('documents.sqlite', (path) => openSqliteDocumentStore({ path })),
});

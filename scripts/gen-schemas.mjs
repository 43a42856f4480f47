#!/usr/bin/env node
// `pnpm gen:schemas`: writes every operation's JSON Schema (`operationJsonSchemas()` of
// @membus/contracts) to clients/python/src/membus/schema/operations.json, the file the Python
// client's models are generated from. packages/contracts/test/json-schema-snapshot.test.ts fails
// when the committed file differs from what the contract produces now.
//
//   node --import tsx scripts/gen-schemas.mjs           write the file
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { operationJsonSchemas } from '@membus/contracts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the Python client reads the contract from (relative to the repository root). */
export const OPERATIONS_JSON = 'clients/python/src/membus/schema/operations.json';

/** The file's whole text: stable key order (the operations table's), two-space indent. */
export function operationsJsonText() {
  return `${JSON.stringify(operationJsonSchemas(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(join(root, OPERATIONS_JSON), operationsJsonText());
  process.stdout.write(`wrote ${OPERATIONS_JSON}\n`);
}

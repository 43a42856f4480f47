#!/usr/bin/env node
// `pnpm gen:schemas`: writes every operation's JSON Schema (`operationJsonSchemas()` of
// @membus/contracts) to clients/python/src/membus/schema/operations.json, the file the Python
// client's models are generated from. packages/contracts/test/json-schema-snapshot.test.ts fails
// when the committed file differs from what the contract produces now.
//
//   pnpm gen:schemas     write the file, then regenerate clients/python/src/membus/models.py
//                        (with the venv of scripts/test-python.sh, when it exists)
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
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

/** The Python client's models are generated from the file in the venv of scripts/test-python.sh. */
const GEN_MODELS = 'clients/python/scripts/gen_models.py';
const venvPython = join(
  process.env.MEMBUS_PYTHON_VENV ?? join(homedir(), '.cache', 'membus', 'python-venv'),
  'bin',
  'python',
);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(join(root, OPERATIONS_JSON), operationsJsonText());
  process.stdout.write(`wrote ${OPERATIONS_JSON}\n`);
  if (existsSync(venvPython)) {
    const run = spawnSync(venvPython, [join(root, GEN_MODELS)], { stdio: 'inherit' });
    process.exitCode = run.status ?? 1;
  } else {
    process.stdout.write(
      `then regenerate the Python models: python ${GEN_MODELS} (with the test extras of clients/python; bash scripts/test-python.sh makes that venv)\n`,
    );
  }
}

/**
 * The Python client's models are generated from clients/python/src/membus/schema/operations.json
 * (and a pytest checks they are current with it): this fails when that committed file is not what
 * the contract produces now, so a schema change the Python client does not follow fails a test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations.
import { OPERATIONS_JSON, operationsJsonText } from '../../../scripts/gen-schemas.mjs';

const root = join(import.meta.dirname, '..', '..', '..');

describe('operations.json of the Python client', () => {
  it('is what operationJsonSchemas() produces now (else run `pnpm gen:schemas`)', () => {
    const committed = readFileSync(join(root, OPERATIONS_JSON as string), 'utf8');
    expect(
      committed === (operationsJsonText as () => string)(),
      `${OPERATIONS_JSON} differs from the contract: run \`pnpm gen:schemas\` (it regenerates the Python models too)`,
    ).toBe(true);
  });
});

#!/usr/bin/env node
// Runs the compiled server (dist/, from `pnpm build`) when the workspace is built and current;
// otherwise the TypeScript sources through tsx, as `membus` does (bin/workspace.mjs of the CLI
// tells which: plain JavaScript, no dependencies).
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildState } from '../../cli/bin/workspace.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
if (buildState(root).built) {
  register('../../cli/bin/dist-condition.mjs', import.meta.url);
  const { main } = await import('../dist/main.js');
  await main();
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  const { main } = await import('../src/main.ts');
  await main();
}

#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `pnpm build`) when the workspace is built and current;
// otherwise the TypeScript sources through tsx (1-2 s of start-up), as in development.
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { buildState } from './workspace.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
if (buildState(root).built) {
  const { main } = await import('../dist/main.js');
  // Workspace packages resolve to their dist/ under the "membus-dist" export condition (a
  // resolve hook costs a thread, so it is registered only when a command needs them).
  await main(() => register('./dist-condition.mjs', import.meta.url));
} else {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  const { main } = await import('../src/main.ts');
  await main();
}

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What to start a worker thread with for the module `name` beside the caller (`callerUrl` is
 * the caller's `import.meta.url`): `name.js` once compiled; from the TypeScript sources (tests,
 * `node --import tsx`) a one-line data: module that registers tsx in the worker and imports
 * `name.ts`, since Node 20 does not apply `--import` hooks to a worker's entry.
 *
 * @example new Worker(workerEntry(import.meta.url, './store-worker'), { workerData })
 */
export function workerEntry(callerUrl: string, name: string): URL {
  if (!callerUrl.endsWith('.ts')) return new URL(`${name}.js`, callerUrl);
  const module = new URL(`${name}.ts`, callerUrl).href;
  return new URL(
    `data:text/javascript,${encodeURIComponent(
      `const { register } = await import(${JSON.stringify(tsxApi(callerUrl))}); register(); await import(${JSON.stringify(module)});`,
    )}`,
  );
}

/**
 * tsx's ESM API as seen from the caller (`register()` installs its loader in the calling
 * thread; its `--import` entry does nothing in a worker), resolved as `import` would:
 * `require.resolve` alone picks the CJS build.
 */
function tsxApi(callerUrl: string): string {
  const require = createRequire(callerUrl);
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as {
    exports: { './esm/api': { import: { default: string } } };
  };
  return pathToFileURL(join(dirname(manifest), exports['./esm/api'].import.default)).href;
}

#!/usr/bin/env node
// Compiles the graph addon (arena-graph.cpp) at install: node-gyp with this node's own headers
// (<prefix>/include/node, shipped with node), since node-gyp would otherwise download them.
// Needs a C++17 compiler, make and Python, as better-sqlite3's build does.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePatchedUsearchHeaders } from './usearch-patch.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
// usearch's entry is <root>/javascript/dist/cjs/usearch.js.
const usearch = join(dirname(require.resolve('usearch')), '..', '..', '..');
const link = join(root, 'native', 'usearch');
rmSync(link, { force: true });
symlinkSync(usearch, link, 'dir');
// usearch's headers with the fix for concurrent adds (see usearch-patch.mjs), found before its own.
writePatchedUsearchHeaders(usearch, join(root, 'native', 'patched'));

const prefix = join(dirname(process.execPath), '..');
const nodedir = existsSync(join(prefix, 'include', 'node', 'node.h'))
  ? [`--nodedir=${prefix}`]
  : [];
// The node-gyp the package manager runs install scripts with (pnpm and npm name it), else npm's.
const gyp = [
  process.env.npm_config_node_gyp,
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].find((path) => path !== undefined && existsSync(path));
if (gyp === undefined) {
  process.stderr.write('embedded-index: no node-gyp found to compile the graph addon\n');
  process.exit(1);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild', '--release', '-j', '2', ...nodedir], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

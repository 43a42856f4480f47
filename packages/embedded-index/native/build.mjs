#!/usr/bin/env node
// Compiles the graph addon (arena-graph.cpp) at install: node-gyp with this node's own headers
// (<prefix>/include/node, shipped with node), since node-gyp would otherwise download them.
// Needs a C++17 compiler, make and Python, as better-sqlite3's build does.
//
// pnpm runs a workspace package's install script at every `pnpm install`, and `scripts/dev.sh`
// installs before each start, test, bench and build: the compile (~95 s on two cores) is skipped
// when the addon was built from the same inputs (its sources, usearch and node-addon-api, this
// node, the compiler, the CPU), as the digest written beside it says. `--force` compiles anyway.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
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

const addon = join(root, 'build', 'Release', 'arena_graph.node');
const stamp = `${addon}.inputs`;
const inputs = inputsDigest();
if (!process.argv.includes('--force') && existsSync(addon) && readText(stamp) === inputs) {
  process.stdout.write('embedded-index: the graph addon is up to date (its inputs unchanged)\n');
  process.exit(0);
}
const result = spawnSync(process.execPath, [gyp, 'rebuild', '--release', '-j', '2', ...nodedir], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status === 0) writeFileSync(stamp, inputs);
process.exit(result.status ?? 1);

/** A digest of everything the compiled addon depends on. */
function inputsDigest() {
  const hash = createHash('sha256');
  const native = join(root, 'native');
  const sources = readdirSync(native)
    .filter((name) => /\.(cpp|hpp|mjs)$/.test(name))
    .sort()
    .map((name) => join(native, name));
  for (const file of [join(root, 'binding.gyp'), ...sources])
    hash.update(file).update(readFileSync(file));
  const version = (directory) =>
    JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).version;
  const compiler = spawnSync(process.env.CXX ?? 'g++', ['--version'], { encoding: 'utf8' });
  hash.update(
    JSON.stringify([
      version(usearch),
      version(dirname(require.resolve('node-addon-api/package.json'))),
      process.version,
      process.versions.modules,
      process.platform,
      process.arch,
      compiler.stdout ?? '',
      cpus()[0]?.model ?? '',
    ]),
  );
  return hash.digest('hex');
}

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

#!/usr/bin/env node
// `pnpm build`: compiles every workspace package that has `exports` (libraries and services) to
// its dist/ with `tsc -b`, so the CLI and the image run JavaScript (tests and development keep
// running the TypeScript sources; see README "Development").
//
// The packages are read from pnpm-workspace.yaml on every run and each one's tsconfig is
// generated under .tsbuild/ with project references from its package.json's workspace
// dependencies: a new package, or a new dependency between packages, needs no build config.
// Why tsc and not a bundler: tsc is already the type checker; its output keeps the module graph
// of the sources (a worker file, `import.meta.url` and native modules behave as under tsx), with
// declarations for editors, and it needs no new dependency.
//
// A built package runs from dist/ when node is started with `--conditions=membus-dist`: each
// `exports` entry names its compiled file under that condition, e.g.
//   ".": { "types": "./src/index.ts", "membus-dist": "./dist/index.js", "default": "./src/index.ts" }
// The build fails when an entry lacks it, naming the line to add.
//
//   node scripts/build.mjs            build what changed (tsc -b is incremental)
//   node scripts/build.mjs --clean    remove every dist/ and the generated configs
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BUILD_STAMP,
  builtPackages,
  DIST_CONDITION,
  missingDistConditions,
} from '../packages/cli/bin/workspace.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(root, '.tsbuild');

const packages = builtPackages(root);
if (process.argv.includes('--clean')) {
  for (const pkg of packages) rmSync(join(pkg.dir, 'dist'), { recursive: true, force: true });
  rmSync(generated, { recursive: true, force: true });
  process.exit(0);
}

const missing = packages.flatMap((pkg) => missingDistConditions(pkg));
if (missing.length > 0) {
  process.stderr.write(
    `build: these package.json exports have no "${DIST_CONDITION}" entry (the compiled file):\n` +
      missing.map((line) => `  ${line}\n`).join(''),
  );
  process.exit(1);
}

const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
const configOf = (pkg) => join(generated, relative(root, pkg.dir), 'tsconfig.json');
for (const pkg of packages) {
  const config = configOf(pkg);
  const from = (path) => relative(dirname(config), path);
  mkdirSync(dirname(config), { recursive: true });
  const tsconfig = {
    extends: from(join(root, 'tsconfig.build.json')),
    compilerOptions: {
      rootDir: from(join(pkg.dir, 'src')),
      outDir: from(join(pkg.dir, 'dist')),
      // Inside dist/: deleting dist/ makes the next build recompile the package.
      tsBuildInfoFile: from(join(pkg.dir, 'dist', '.tsbuildinfo')),
    },
    include: [from(join(pkg.dir, 'src'))],
    references: pkg.workspaceDependencies
      .filter((name) => byName.has(name))
      .map((name) => ({ path: from(configOf(byName.get(name))) })),
  };
  writeFileSync(config, `${JSON.stringify(tsconfig, null, 2)}\n`);
}
const solution = join(generated, 'tsconfig.json');
writeFileSync(
  solution,
  `${JSON.stringify({ files: [], references: packages.map((pkg) => ({ path: relative(generated, configOf(pkg)) })) }, null, 2)}\n`,
);

const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const started = performance.now();
const result = spawnSync(process.execPath, [tsc, '-b', solution, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
// The stamp the CLI compares with the sources' times to tell a current build from a stale one
// (tsc -b leaves its outputs alone when nothing changed).
const now = new Date();
for (const pkg of packages)
  writeFileSync(join(pkg.dir, 'dist', BUILD_STAMP), `${now.toISOString()}\n`);
process.stdout.write(
  `built ${packages.length} packages to dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
);

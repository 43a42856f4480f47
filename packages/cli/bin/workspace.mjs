// The workspace's built packages and whether their dist/ is current. Plain JavaScript with no
// dependencies: `membus` reads it before it knows whether to run compiled code or sources, and
// scripts/build.mjs uses the same list.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The export condition under which a package's compiled file is named. */
export const DIST_CONDITION = 'membus-dist';
/** Written into dist/ by a successful build (scripts/build.mjs). */
export const BUILD_STAMP = '.built';

/** The `packages:` globs of pnpm-workspace.yaml (`dir/*` or `dir`). */
function workspaceGlobs(root) {
  const globs = [];
  let inPackages = false;
  for (const line of readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').split('\n')) {
    if (/^\S/.test(line)) inPackages = line.startsWith('packages:');
    else if (inPackages) {
      const item = /^\s+-\s+["']?([^"'#\s]+)/.exec(line);
      if (item?.[1]) globs.push(item[1]);
    }
  }
  return globs;
}

/**
 * Workspace packages that are built: those with `exports` and a `src/` (libraries and services;
 * bench and eval are tools that run from their sources).
 */
export function builtPackages(root) {
  const dirs = workspaceGlobs(root).flatMap((glob) => {
    if (!glob.endsWith('/*')) return [join(root, glob)];
    const parent = join(root, glob.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(parent, entry.name));
  });
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const dependencies = { ...manifest.dependencies, ...manifest.devDependencies };
      return {
        dir,
        name: manifest.name,
        exports: manifest.exports,
        workspaceDependencies: Object.keys(dependencies).filter((name) =>
          String(dependencies[name]).startsWith('workspace:'),
        ),
      };
    })
    .filter((pkg) => pkg.exports !== undefined)
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** The `exports` entries of a package that name no compiled file, as the line to add. */
export function missingDistConditions(pkg) {
  return Object.entries(pkg.exports).flatMap(([entry, targets]) => {
    const source = typeof targets === 'string' ? targets : targets.default;
    if (typeof targets === 'object' && targets[DIST_CONDITION]) return [];
    const compiled = String(source)
      .replace(/^\.\/src\//, './dist/')
      .replace(/\.ts$/, '.js');
    return [
      `${join(pkg.dir, 'package.json')} exports["${entry}"]: "${DIST_CONDITION}": "${compiled}"`,
    ];
  });
}

function newestChange(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs;
    if (time > newest) newest = time;
  }
  return newest;
}

/**
 * Whether the workspace runs compiled: `built` when every built package has a dist/ from a
 * build newer than its sources; otherwise `reason` says what is missing or stale.
 */
export function buildState(root) {
  const stale = [];
  for (const pkg of builtPackages(root)) {
    const stamp = join(pkg.dir, 'dist', BUILD_STAMP);
    if (!existsSync(stamp)) return { built: false, reason: 'not built (`pnpm build`)' };
    const sources = [join(pkg.dir, 'src'), join(pkg.dir, 'package.json')];
    const changed = Math.max(
      ...sources.map((path) =>
        statSync(path).isDirectory() ? newestChange(path) : statSync(path).mtimeMs,
      ),
    );
    if (changed > statSync(stamp).mtimeMs) stale.push(pkg.name);
  }
  return stale.length === 0
    ? { built: true }
    : { built: false, reason: `sources changed since \`pnpm build\` (${stale.join(', ')})` };
}

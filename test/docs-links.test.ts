/**
 * The docs point at what exists: every relative markdown link in README.md, docs/ and the
 * package READMEs resolves, and so does every repository path they cite in backticks
 * (`infra/...`, `packages/...`; in a package README also its own `test/...`). Files outside the repository (the design notes in `shared/`)
 * are cited as such, never as links.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const readmes = ['packages', 'services']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(group, name, 'README.md')))
  .filter((path) => existsSync(join(root, path)));
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.md'))
    .map((path) => join('docs', path)),
  ...readmes,
  'eval/README.md',
];

/** Relative link targets (no scheme, no bare #anchor), without their #anchor. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1] as string)
    .filter((target) => !/^[a-z][a-z+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => target.split('#')[0] as string);
}

/** Repository paths in backticks: `infra/nats/nats.conf`, `docs/metrics.md`, ... */
function citedPaths(markdown: string): string[] {
  return [
    ...markdown.matchAll(
      /`((?:docs|infra|packages|services|scripts|test|bench|eval|\.ci)\/[\w./-]*)`/g,
    ),
  ].map((match) => match[1] as string);
}

describe.each(documents.map((document) => [document]))('%s', (document) => {
  const markdown = readFileSync(join(root, document), 'utf8');

  it('links only to files that exist', () => {
    expect(
      relativeLinks(markdown).filter(
        (target) => !existsSync(join(root, dirname(document), target)),
      ),
    ).toEqual([]);
  });

  it('cites only repository paths that exist', () => {
    // A package README may cite its own files (`test/x.test.ts`).
    const exists = (path: string) =>
      existsSync(join(root, path)) || existsSync(join(root, dirname(document), path));
    expect(citedPaths(markdown).filter((path) => !exists(path))).toEqual([]);
  });
});

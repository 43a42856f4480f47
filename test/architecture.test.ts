/** STYLE.md §1: dependencies point one way. Reads every workspace package.json. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const manifests = ['packages', 'services']
  .flatMap((group) =>
    readdirSync(join(root, group)).map((name) => join(root, group, name, 'package.json')),
  )
  .map(
    (path) =>
      JSON.parse(readFileSync(path, 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
      },
  );

/** What each workspace package may depend on (besides third-party libraries listed per package). */
const allowed: Record<string, { workspace: string[]; external: RegExp }> = {
  '@membus/contracts': { workspace: [], external: /^zod$/ },
  '@membus/bus': {
    workspace: ['@membus/contracts'],
    external: /^(zod|@nats-io\/.*|@opentelemetry\/api)$/,
  },
  '@membus/telemetry': { workspace: [], external: /^(prom-client|@opentelemetry\/.*)$/ },
  '@membus/mongodb': { workspace: ['@membus/contracts'], external: /^(mongodb|zod)$/ },
  '@membus/embedding-local': { workspace: [], external: /^$/ },
  '@membus/client': { workspace: ['@membus/contracts', '@membus/bus'], external: /^(zod|uuid)$/ },
  '@membus/tenancy': {
    workspace: ['@membus/contracts', '@membus/bus'],
    external: /^(@nats-io\/jwt|@nats-io\/nkeys|bcryptjs)$/,
  },
  '@membus/cli': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/client', '@membus/tenancy'],
    external: /^(zod|tsx)$/,
  },
  '@membus/embedder': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/telemetry', '@membus/embedding-local'],
    external: /^(zod|prom-client|openai)$/,
  },
  '@membus/vector-store': {
    workspace: [
      '@membus/contracts',
      '@membus/bus',
      '@membus/telemetry',
      '@membus/mongodb',
      '@membus/embedding-local',
    ],
    external:
      /^(zod|prom-client|better-sqlite3|hnswlib-node|mongodb|@qdrant\/js-client-rest|stemmer)$/,
  },
  '@membus/pattern-extractor': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/telemetry', '@membus/mongodb'],
    external: /^(zod|prom-client|better-sqlite3|mongodb|uuid)$/,
  },
  '@membus/compactor': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/telemetry', '@membus/mongodb'],
    external: /^(zod|prom-client|better-sqlite3|mongodb|openai|uuid)$/,
  },
};

describe('dependency direction', () => {
  it('knows every workspace package', () => {
    expect(manifests.map((manifest) => manifest.name).sort()).toEqual(Object.keys(allowed).sort());
  });

  it.each(manifests.map((manifest) => [manifest.name, manifest] as const))(
    '%s depends only on what it may',
    (name, manifest) => {
      const rule = allowed[name] as { workspace: string[]; external: RegExp };
      const forbidden = Object.keys(manifest.dependencies ?? {}).filter((dependency) =>
        dependency.startsWith('@membus/')
          ? !rule.workspace.includes(dependency)
          : !rule.external.test(dependency),
      );
      expect(forbidden).toEqual([]);
    },
  );
});

/**
 * STYLE.md §1-2: dependencies point one way, and only through public entries. Reads every
 * workspace package.json, and the import lines of every .ts file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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

/** What every service may depend on: the contracts, the bus, telemetry and the service runtime. */
const serviceBase = [
  '@membus/contracts',
  '@membus/bus',
  '@membus/telemetry',
  '@membus/service-runtime',
];

/** What each workspace package may depend on (besides third-party libraries listed per package). */
const allowed: Record<string, { workspace: string[]; external: RegExp }> = {
  '@membus/contracts': { workspace: [], external: /^zod$/ },
  '@membus/bus': {
    workspace: ['@membus/contracts'],
    external: /^(zod|@nats-io\/.*|@opentelemetry\/api)$/,
  },
  '@membus/telemetry': { workspace: [], external: /^(pino|prom-client|@opentelemetry\/.*)$/ },
  '@membus/mongodb': { workspace: ['@membus/contracts'], external: /^(mongodb|zod)$/ },
  '@membus/embedding-local': { workspace: [], external: /^$/ },
  // The ONNX sentence-embedding models: the embedder's onnx provider, the vector-store's queries.
  '@membus/embedding-onnx': {
    workspace: ['@membus/contracts'],
    external: /^(onnxruntime-node|@huggingface\/tokenizers)$/,
  },
  '@membus/service-runtime': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/telemetry'],
    external: /^zod$/,
  },
  '@membus/vector-index': { workspace: ['@membus/contracts'], external: /^stemmer$/ },
  // Ingest policy evaluation (pure) and its KV store (`./kv`), shared by embedder and extractor.
  '@membus/ingest-policy': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/vector-index'],
    external: /^re2js$/,
  },
  // Starting a worker thread from a module beside the caller, compiled or through tsx.
  '@membus/worker-entry': { workspace: [], external: /^$/ },
  '@membus/embedded-index': {
    workspace: ['@membus/contracts', '@membus/vector-index', '@membus/worker-entry'],
    external: /^(better-sqlite3|usearch|node-addon-api)$/,
  },
  '@membus/client': { workspace: ['@membus/contracts', '@membus/bus'], external: /^(zod|uuid)$/ },
  '@membus/tenancy': {
    workspace: ['@membus/contracts', '@membus/bus'],
    external: /^(@nats-io\/jwt|@nats-io\/nkeys|bcryptjs)$/,
  },
  '@membus/mcp': {
    workspace: ['@membus/contracts', '@membus/bus', '@membus/client'],
    external: /^(zod|tsx|@modelcontextprotocol\/sdk)$/,
  },
  // Importers from other memory stores (mem0, SQL tables, Qdrant) into membus, through the client.
  '@membus/importers': {
    workspace: ['@membus/contracts', '@membus/client'],
    external: /^(zod|uuid|yaml|better-sqlite3|pg|@qdrant\/js-client-rest)$/,
  },
  '@membus/cli': {
    workspace: [
      '@membus/contracts',
      '@membus/bus',
      '@membus/client',
      '@membus/tenancy',
      '@membus/mcp',
      '@membus/importers',
    ],
    external: /^(zod|tsx)$/,
  },
  '@membus/embedder': {
    workspace: [
      ...serviceBase,
      '@membus/embedding-local',
      '@membus/embedding-onnx',
      '@membus/ingest-policy',
    ],
    external: /^(zod|prom-client|openai|lru-cache)$/,
  },
  '@membus/vector-store': {
    workspace: [
      ...serviceBase,
      '@membus/mongodb',
      '@membus/embedding-local',
      '@membus/embedding-onnx',
      '@membus/vector-index',
      '@membus/embedded-index',
      '@membus/worker-entry',
    ],
    external: /^(zod|prom-client|better-sqlite3|mongodb|@qdrant\/js-client-rest)$/,
  },
  '@membus/pattern-extractor': {
    workspace: [...serviceBase, '@membus/mongodb'],
    external: /^(zod|prom-client|better-sqlite3|mongodb|uuid)$/,
  },
  // The HTTP gateway: no NATS user of its own, it acts through each tenant's client (decision 007).
  '@membus/gateway': {
    workspace: [
      '@membus/contracts',
      '@membus/bus',
      '@membus/telemetry',
      '@membus/client',
      '@membus/tenancy',
    ],
    external: /^(zod|prom-client|fastify|@opentelemetry\/api)$/,
  },
  '@membus/compactor': {
    workspace: [...serviceBase, '@membus/mongodb'],
    external: /^(zod|prom-client|better-sqlite3|mongodb|openai|uuid)$/,
  },
  // The extraction stage (decision 010): a chat model, and the vector-store's operations.
  '@membus/extractor': {
    workspace: serviceBase,
    external: /^(zod|prom-client|openai|uuid)$/,
  },
  // Webhooks (decision 008): MEMORY_EVENTS to each tenant's HTTP endpoints; node:http for the POSTs.
  '@membus/webhooks': {
    workspace: serviceBase,
    external: /^(zod|prom-client|better-sqlite3)$/,
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

/** Every workspace package directory (relative to the root), longest first. */
const packageDirectories = [
  ...['packages', 'services'].flatMap((group) =>
    readdirSync(join(root, group)).map((name) => join(group, name)),
  ),
  'bench',
  'eval',
].sort((a, b) => b.length - a.length);

/** The package directory that holds `file` ('' for the root's own files, e.g. test/). */
const owner = (file: string): string =>
  packageDirectories.find((directory) => file.startsWith(directory + sep)) ?? '';

function* typeScriptFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(join(root, directory), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.'))
      continue;
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* typeScriptFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** Module specifiers of static imports, re-exports, and dynamic imports with a literal. */
const importPattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/**
 * Why `file` may not import `specifier`: a `@membus/x/src/...` specifier, or a relative path
 * into another package's `src/` (each package is reached by its name and `exports`).
 */
function forbiddenImport(file: string, specifier: string): string | undefined {
  if (/^@membus\/[^/]+\/src(\/|$)/.test(specifier)) return 'a package is imported by its entry';
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(root, resolve(root, dirname(file), specifier));
  const targetOwner = owner(target);
  if (targetOwner === owner(file)) return undefined;
  if (targetOwner !== '' && target.startsWith(join(targetOwner, 'src') + sep))
    return `reaches into ${targetOwner}/src`;
  return undefined;
}

describe('imports', () => {
  const files = [...typeScriptFiles('.')];

  it('finds the files it checks', () => {
    expect(files).toContain(join('test', 'architecture.test.ts'));
    expect(files).toContain(join('services', 'vector-store', 'src', 'main.ts'));
  });

  it("no file imports another package's src/ (by a relative path or a /src/ specifier)", () => {
    const violations: string[] = [];
    for (const file of files) {
      const source = readFileSync(join(root, file), 'utf8');
      for (const [, specifier] of source.matchAll(importPattern)) {
        const reason = forbiddenImport(file, specifier as string);
        if (reason !== undefined) violations.push(`${file}: '${specifier}' (${reason})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('recognises both kinds of forbidden import', () => {
    const file = join('eval', 'src', 'main.ts');
    expect(forbiddenImport(file, '../../services/vector-store/src/index.ts')).toBeDefined();
    expect(forbiddenImport(file, '@membus/vector-store/src/index.ts')).toBeDefined();
    expect(forbiddenImport(file, './retrieval.ts')).toBeUndefined();
    expect(forbiddenImport(file, '@membus/vector-store')).toBeUndefined();
    expect(
      forbiddenImport(join('test', 'e2e', 'x.test.ts'), '../helpers/stack.ts'),
    ).toBeUndefined();
  });
});

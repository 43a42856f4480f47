/**
 * Issue 7: dashboards, alerts and docs/metrics.md use exactly the metrics the services export.
 * The names come from the running services' /metrics (the real registries), not from a list
 * typed here. A panel on a per-service dashboard, or a query selecting `service="x"`, must use
 * metrics that service x itself exports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceName } from '@membus/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import {
  dashboardFiles,
  dashboardsDir,
  hasMain,
  readYaml,
  repoRoot,
  serviceNames,
} from './stack-files.ts';

/** Series Prometheus itself adds to every scrape target. */
const synthetic = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'le',
  'inf',
  'nan',
]);

/** A metric a PromQL expression reads, and the services its own `service` matchers select. */
export interface MetricReference {
  name: string;
  /** Services the selector's `service` label matchers select; absent without such a matcher. */
  services?: ServiceName[];
}

/** The services one `service` label matcher selects (PromQL regexes are fully anchored). */
function matchServices(operator: string, value: string): ServiceName[] {
  const matches = (service: string) =>
    operator.endsWith('~') ? new RegExp(`^(?:${value})$`).test(service) : service === value;
  return serviceNames.filter((service) =>
    operator.startsWith('!') ? !matches(service) : matches(service),
  );
}

/** Metric names a PromQL expression reads, each with the services its selector names. */
export function metricReferences(expr: string): MetricReference[] {
  const strings: string[] = [];
  const masked = expr
    .replace(/"((?:[^"\\]|\\.)*)"/g, (_match, body: string) => {
      strings.push(body.replace(/\\(.)/g, '$1'));
      return `"${strings.length - 1}"`;
    })
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\w+/g, '');
  const references = new Map<string, MetricReference>();
  for (const match of masked.matchAll(/\{[^}]*\}|(?<![\w.:])[A-Za-z_:][\w:]*/g)) {
    const token = match[0];
    if (token.startsWith('{')) continue;
    const rest = masked.slice((match.index ?? 0) + token.length).trimStart();
    if (rest.startsWith('(') || keywords.has(token.toLowerCase())) continue;
    const selector = rest.startsWith('{') ? rest.slice(0, rest.indexOf('}') + 1) : '';
    let services: ServiceName[] | undefined;
    for (const [, label, operator, index] of selector.matchAll(
      /([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"(\d+)"/g,
    )) {
      if (label !== 'service' || !operator) continue;
      const selected = matchServices(operator, strings[Number(index)] ?? '');
      services = services ? services.filter((service) => selected.includes(service)) : selected;
    }
    const reference: MetricReference = services ? { name: token, services } : { name: token };
    references.set(`${token}${selector}`, reference);
  }
  return [...references.values()];
}

/** Metric names a PromQL expression reads (functions, labels, strings and variables removed). */
export function metricNames(expr: string): string[] {
  return [...new Set(metricReferences(expr).map((reference) => reference.name))];
}

interface Exported {
  /** Metric names as in `# TYPE` lines. */
  metrics: Set<string>;
  /** Every series name a query can use (histograms as _bucket/_sum/_count). */
  series: Set<string>;
}

function exportedNames(text: string): Exported {
  const exported: Exported = { metrics: new Set(), series: new Set() };
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    exported.metrics.add(name);
    exported.series.add(name);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) exported.series.add(name + suffix);
    if (type === 'summary')
      for (const suffix of ['_sum', '_count']) exported.series.add(name + suffix);
  }
  return exported;
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function expressions(panels: Panel[]): { panel: string; expr: string }[] {
  return panels.flatMap((panel) => [
    ...(panel.targets ?? []).flatMap((target) =>
      target.expr ? [{ panel: panel.title ?? '', expr: target.expr }] : [],
    ),
    ...expressions(panel.panels ?? []),
  ]);
}

/** The service a dashboard is about (`membus-<service>.json`); none for the overview. */
function dashboardService(file: string): ServiceName | undefined {
  return serviceNames.find((service) => file === `membus-${service}.json`);
}

let stack: TestStack;
/** Per running service, what its /metrics offers. */
const exportedBy = new Map<ServiceName, Exported>();
/** Series any service offers. */
const exportedSeries = new Set<string>();

/**
 * Why each reference is not served: a name no service exports, or, where the selector (else
 * `scope`) names services, a name one of them does not export. Empty when all are served.
 */
function unserved(references: MetricReference[], scope?: ServiceName): string[] {
  return references.flatMap(({ name, services }) => {
    if (synthetic.has(name)) return [];
    const targets = services ?? (scope ? [scope] : undefined);
    if (!targets) return exportedSeries.has(name) ? [] : [`${name} is exported by no service`];
    if (targets.length === 0) return [`${name} has a service selector that matches no service`];
    return targets
      .filter((service) => !exportedBy.get(service)?.series.has(name))
      .map((service) => `${name} is not exported by ${service}`);
  });
}

beforeAll(async () => {
  // Every service that exists as a process today; the others join when their main.ts lands.
  stack = await startTestStack({}, serviceNames.filter(hasMain));
  for (const [name, service] of stack.services) {
    const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    const exported = exportedNames(await response.text());
    exportedBy.set(name, exported);
    for (const series of exported.series) exportedSeries.add(series);
  }
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('metricReferences', () => {
  it('finds the metric of a quantile over a filtered rate', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, subject) (rate(membus_x_bucket{a="b"}[$__rate_interval])))',
      ),
    ).toEqual(['membus_x_bucket']);
  });

  it('ties each metric to the services its own selector names', () => {
    expect(
      metricReferences(
        'sum(rate(membus_a{service="compactor",x="y"}[5m])) / sum(membus_b{service=~"embedder|vector-store"}) + membus_c{kind="z"}',
      ),
    ).toEqual([
      { name: 'membus_a', services: ['compactor'] },
      { name: 'membus_b', services: ['embedder', 'vector-store'] },
      { name: 'membus_c' },
    ]);
  });

  it('reads negative service matchers', () => {
    expect(metricReferences('membus_a{service!~"embedder|compactor"}')).toEqual([
      {
        name: 'membus_a',
        services: ['vector-store', 'pattern-extractor', 'extractor', 'webhooks'],
      },
    ]);
  });
});

describe('the per-service check', () => {
  it('rejects a metric of another service under a service selector', () => {
    expect(
      unserved(metricReferences('sum(rate(membus_query_seconds_count{service="embedder"}[5m]))')),
    ).toEqual(['membus_query_seconds_count is not exported by embedder']);
  });

  it("rejects a metric of another service on a service's dashboard", () => {
    expect(unserved(metricReferences('sum(membus_index_memories)'), 'compactor')).toEqual([
      'membus_index_memories is not exported by compactor',
    ]);
  });
});

it('every service reports the backlog of its durable consumers', () => {
  const missing = serviceNames
    .filter(hasMain)
    .flatMap((service) =>
      [
        'membus_jetstream_consumer_pending_messages',
        'membus_jetstream_consumer_redelivered_messages',
      ]
        .filter((name) => !exportedBy.get(service)?.metrics.has(name))
        .map((name) => `${service}: ${name}`),
    );
  expect(missing).toEqual([]);
});

describe.each(dashboardFiles().map((file) => [file]))('dashboard %s', (file) => {
  const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as {
    uid: string;
    panels: Panel[];
  };
  const service = dashboardService(file);

  it('has queries', () => {
    expect(expressions(dashboard.panels).length).toBeGreaterThan(0);
  });

  it(`queries only metrics ${service ? `the ${service} exports` : 'the selected services export'}`, () => {
    const problems = expressions(dashboard.panels).flatMap(({ panel, expr }) =>
      unserved(metricReferences(expr), service).map((problem) => `${panel}: ${problem}`),
    );
    expect(problems).toEqual([]);
  });
});

describe('infra/prometheus/alerts.yml', () => {
  const alerts = readYaml('infra/prometheus/alerts.yml') as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };

  it('uses only metrics the (selected) services export', () => {
    const problems = alerts.groups
      .flatMap((group) => group.rules)
      .flatMap((rule) =>
        unserved(metricReferences(rule.expr)).map((problem) => `${rule.alert}: ${problem}`),
      );
    expect(problems).toEqual([]);
  });
});

describe('docs/metrics.md', () => {
  const EVERY_SERVICE = 'Every service';
  /** Metric names (or `prefix_*` patterns) in the first column of each section's tables. */
  const documented = new Map<string, string[]>();
  let section = '';
  for (const line of readFileSync(join(repoRoot, 'docs', 'metrics.md'), 'utf8').split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3).trim();
    const cell = line.startsWith('|') ? line.split('|')[1] : undefined;
    for (const [, name] of cell?.matchAll(/`(membus_[A-Za-z0-9_:*]+)`/g) ?? [])
      if (name) documented.set(section, [...(documented.get(section) ?? []), name]);
  }
  const covers = (pattern: string, name: string) =>
    pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
  const inSections = (name: string, ...sections: string[]) =>
    sections.some((heading) => documented.get(heading)?.some((pattern) => covers(pattern, name)));

  it('has a section per service and one for every service', () => {
    expect([...documented.keys()].sort()).toEqual([...serviceNames, EVERY_SERVICE].sort());
  });

  it('documents every metric a service exports, under Every service or its own section', () => {
    const missing = [...exportedBy].flatMap(([service, exported]) =>
      [...exported.metrics]
        .filter((name) => !inSections(name, EVERY_SERVICE, service))
        .map((name) => `${service}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('lists under a service only what that service exports', () => {
    const stale = serviceNames
      .filter(hasMain)
      .flatMap((service) =>
        (documented.get(service) ?? [])
          .filter(
            (pattern) =>
              ![...(exportedBy.get(service)?.metrics ?? [])].some((name) => covers(pattern, name)),
          )
          .map((pattern) => `${service}: ${pattern}`),
      );
    expect(stale).toEqual([]);
  });

  it('lists under "Every service" only what every service exports', () => {
    const stale = (documented.get(EVERY_SERVICE) ?? []).flatMap((pattern) =>
      [...exportedBy]
        .filter(([, exported]) => ![...exported.metrics].some((name) => covers(pattern, name)))
        .map(([service]) => `${pattern}: not exported by ${service}`),
    );
    expect(stale).toEqual([]);
  });
});

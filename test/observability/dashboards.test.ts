/**
 * Issue 7: dashboards and alerts use only metrics the services really export. The names come
 * from the running services' /metrics (the real registries), not from a list typed here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack.ts';
import { dashboardFiles, dashboardsDir, hasMain, readYaml, serviceNames } from './stack-files.ts';

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

/** Metric names a PromQL expression reads (functions, labels, strings and variables removed). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\w+/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const token = match[0];
    const next = stripped.slice((match.index ?? 0) + token.length).trimStart();
    if (next.startsWith('(') || keywords.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return [...names];
}

/** Every series name a /metrics text offers (histograms as _bucket/_sum/_count). */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (!name) continue;
    names.add(name);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
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

let stack: TestStack;
const exported = new Set<string>();

beforeAll(async () => {
  // Every service that exists as a process today; the others join when their main.ts lands.
  stack = await startTestStack({}, serviceNames.filter(hasMain));
  for (const service of stack.services.values()) {
    const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    for (const name of exportedNames(await response.text())) exported.add(name);
  }
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

describe('metricNames', () => {
  it('finds the metric of a quantile over a filtered rate', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, subject) (rate(membus_x_bucket{a="b"}[$__rate_interval])))',
      ),
    ).toEqual(['membus_x_bucket']);
  });
});

describe.each(dashboardFiles().map((file) => [file]))('dashboard %s', (file) => {
  const dashboard = JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as {
    uid: string;
    panels: Panel[];
  };

  it('has queries', () => {
    expect(expressions(dashboard.panels).length).toBeGreaterThan(0);
  });

  it('queries only metrics the services export', () => {
    const unknown = expressions(dashboard.panels).flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });
});

describe('infra/prometheus/alerts.yml', () => {
  const alerts = readYaml('infra/prometheus/alerts.yml') as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };

  it('uses only metrics the services export', () => {
    const unknown = alerts.groups
      .flatMap((group) => group.rules)
      .flatMap((rule) =>
        metricNames(rule.expr)
          .filter((name) => !exported.has(name) && !synthetic.has(name))
          .map((name) => `${rule.alert}: ${name}`),
      );
    expect(unknown).toEqual([]);
  });
});

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createVectorStoreMetrics, VectorStoreMetricNames } from '../src/metrics.ts';

describe('membus_memories gauge', () => {
  const source = {
    status: () => ({ count: 3, tail: 0 }),
    memoryCounts: () => [
      { tenant: 'a', tier: 'short' as const, kind: 'fact' as const, count: 2 },
      { tenant: 'b', tier: 'short' as const, kind: 'fact' as const, count: 1 },
      { tenant: 'b', tier: 'long' as const, kind: 'summary' as const, count: 0 },
    ],
  };

  async function samples(registry: Registry) {
    const [metric] = (await registry.getMetricsAsJSON()).filter(
      (entry) => entry.name === VectorStoreMetricNames.memories,
    );
    return metric?.values.map((value) => ({ labels: value.labels, value: value.value })) ?? [];
  }

  it('sums tenants and reports every tier and kind without the tenant label', async () => {
    const registry = new Registry();
    createVectorStoreMetrics(registry, source);
    const values = await samples(registry);
    expect({
      series: values.length,
      nonZero: values.filter((sample) => sample.value > 0),
    }).toEqual({ series: 18, nonZero: [{ labels: { tier: 'short', kind: 'fact' }, value: 3 }] });
  });

  it('splits by tenant with the tenant label', async () => {
    const registry = new Registry();
    createVectorStoreMetrics(registry, source, { tenantLabel: true });
    expect(await samples(registry)).toEqual([
      { labels: { tenant: 'a', tier: 'short', kind: 'fact' }, value: 2 },
      { labels: { tenant: 'b', tier: 'short', kind: 'fact' }, value: 1 },
      { labels: { tenant: 'b', tier: 'long', kind: 'summary' }, value: 0 },
    ]);
  });

  it('drops the series of a tenant that is gone at the next scrape', async () => {
    const registry = new Registry();
    let counts = source.memoryCounts();
    createVectorStoreMetrics(
      registry,
      { status: source.status, memoryCounts: () => counts },
      { tenantLabel: true },
    );
    await samples(registry);
    counts = counts.filter((entry) => entry.tenant === 'a');
    expect((await samples(registry)).map((sample) => sample.labels.tenant)).toEqual(['a']);
  });

  it('exports no series without an embedded index (Qdrant)', async () => {
    const registry = new Registry();
    createVectorStoreMetrics(registry);
    expect(await samples(registry)).toEqual([]);
  });
});

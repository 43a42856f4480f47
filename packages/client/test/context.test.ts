import type { QueryHit } from '@membus/contracts';
import { describe, expect, it } from 'vitest';
import { formatContext } from '../src/context.ts';

const hit = (
  text: string,
  relevance: number,
  metadata: Record<string, unknown> = {},
): QueryHit => ({
  memory: {
    id: '01935c3e-8f5a-7c3b-9d2e-4f6a8b1c2d3e',
    tenant: 't',
    scope: 'app',
    kind: 'episode',
    text,
    metadata,
    categories: [],
    tags: [],
    importance: 0.5,
    tier: 'short',
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
    accessCount: 0,
    contentHash: 'h',
    embeddingModel: 'm',
    occurrences: 1,
  },
  score: relevance,
  scores: { relevance, recency: 1, importance: 0.5 },
});

const hits = [
  hit('Payments API 502s: connection pool exhausted on db-primary', 0.61, { service: 'payments' }),
  hit('Checkout latency spike from a slow payment provider', 0.92, { service: 'checkout' }),
  hit('Login failures from an expired TLS certificate', 0.4),
];

describe('formatContext', () => {
  it('lists memories most relevant first with scores and chosen metadata', () => {
    expect(formatContext(hits, { metadataKeys: ['service'] }).text).toBe(
      [
        'Relevant memories:',
        '- [relevance 0.92, episode, service="checkout"] Checkout latency spike from a slow payment provider',
        '- [relevance 0.61, episode, service="payments"] Payments API 502s: connection pool exhausted on db-primary',
        '- [relevance 0.40, episode] Login failures from an expired TLS certificate',
      ].join('\n'),
    );
  });

  it('never exceeds the character budget', () => {
    for (const maxChars of [60, 120, 180, 250, 400]) {
      expect(formatContext(hits, { maxChars }).text.length).toBeLessThanOrEqual(maxChars);
    }
  });

  it('says how many memories the budget left out', () => {
    const result = formatContext(hits, { maxChars: 240 });
    expect([
      result.included,
      result.omitted,
      result.text.endsWith('(1 more not shown: context budget)'),
    ]).toEqual([2, 1, true]);
  });

  it('returns an empty block for no hits', () => {
    expect(formatContext([])).toEqual({ text: '', included: 0, omitted: 0, truncated: false });
  });
});

import { describe, expect, it } from 'vitest';
import { loadCompactorConfig, namespaceSettings } from '../src/config.ts';

describe('compactor config', () => {
  it('defaults the MongoDB write concern to majority', () => {
    expect(loadCompactorConfig({}).mongoWriteConcern).toBe('majority');
  });

  it('reads a numeric MongoDB write concern', () => {
    expect(loadCompactorConfig({ MONGODB_WRITE_CONCERN: '1' }).mongoWriteConcern).toBe(1);
  });

  it('rejects an unacknowledged write concern, naming its env variable', () => {
    expect(() => loadCompactorConfig({ MONGODB_WRITE_CONCERN: '0' })).toThrow(
      /MONGODB_WRITE_CONCERN/,
    );
  });

  it('defaults the MongoDB server selection timeout to 10 s', () => {
    expect(loadCompactorConfig({}).mongoServerSelectionTimeoutMs).toBe(10_000);
  });
});

describe('compactor summary config', () => {
  it('defaults to the extractive summariser', () => {
    expect(loadCompactorConfig({}).summaryProvider).toBe('extractive');
  });

  it('reads the chat summariser settings', () => {
    const config = loadCompactorConfig({
      SUMMARY_PROVIDER: 'openai',
      SUMMARY_MODEL: 'llama3.1',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      SUMMARY_MAX_OUTPUT_TOKENS: '300',
      SUMMARY_TIMEOUT_MS: '5000',
    });
    expect([
      config.summaryProvider,
      config.summaryModel,
      config.openaiBaseUrl,
      config.summaryMaxOutputTokens,
      config.summaryTimeoutMs,
    ]).toEqual(['openai', 'llama3.1', 'http://127.0.0.1:11434/v1', 300, 5000]);
  });

  it('rejects an unknown summary provider, naming its env variable', () => {
    expect(() => loadCompactorConfig({ SUMMARY_PROVIDER: 'gpt' })).toThrow(/SUMMARY_PROVIDER/);
  });

  it('rejects a base URL that is not one, naming its env variable', () => {
    expect(() => loadCompactorConfig({ OPENAI_BASE_URL: 'localhost:11434' })).toThrow(
      /OPENAI_BASE_URL/,
    );
  });
});

describe('compactor capacity config', () => {
  it('removes nothing by default: short and mid demote, long keeps, tiers held on store', () => {
    const config = loadCompactorConfig({});
    expect({
      overflow: namespaceSettings(config).overflow('any'),
      tiersOnStore: config.tiersOnStore,
    }).toEqual({ overflow: { short: 'demote', mid: 'demote', long: 'keep' }, tiersOnStore: true });
  });

  it('reads an overflow policy per namespace over the default one', () => {
    const settings = namespaceSettings(
      loadCompactorConfig({
        TIER_OVERFLOW: JSON.stringify({ default: { long: 'archive' }, chat: { mid: 'delete' } }),
      }),
    );
    expect([settings.overflow('chat'), settings.overflow(undefined)]).toEqual([
      { short: 'demote', mid: 'delete', long: 'archive' },
      { short: 'demote', mid: 'demote', long: 'archive' },
    ]);
  });

  it('refuses to demote from the last tier, naming TIER_OVERFLOW', () => {
    expect(() =>
      loadCompactorConfig({ TIER_OVERFLOW: JSON.stringify({ default: { long: 'demote' } }) }),
    ).toThrow(/TIER_OVERFLOW/);
  });
});

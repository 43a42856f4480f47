import { describe, expect, it } from 'vitest';
import { loadCompactorConfig } from '../src/config.ts';

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

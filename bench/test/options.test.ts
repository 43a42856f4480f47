import { describe, expect, it } from 'vitest';
import { tenancyOption } from '../src/options.ts';

describe('bench options', () => {
  it('runs with tenancy on unless told off', () => {
    expect(tenancyOption(undefined)).toBe('on');
    expect(tenancyOption('on')).toBe('on');
    expect(tenancyOption('off')).toBe('off');
    expect(() => tenancyOption('static')).toThrow(/expected on or off/);
  });
});

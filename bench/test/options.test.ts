import { describe, expect, it } from 'vitest';
import { embedderOption, tenancyOption } from '../src/options.ts';

describe('bench options', () => {
  it('runs with tenancy on unless told off', () => {
    expect(tenancyOption(undefined)).toBe('on');
    expect(tenancyOption('on')).toBe('on');
    expect(tenancyOption('off')).toBe('off');
    expect(() => tenancyOption('static')).toThrow(/expected on or off/);
  });

  it('runs the hashing embedder unless told onnx', () => {
    expect(embedderOption(undefined)).toEqual({ EMBEDDING_PROVIDER: 'local' });
    expect(embedderOption('local')).toEqual({ EMBEDDING_PROVIDER: 'local' });
    expect(embedderOption('onnx')).toEqual({ EMBEDDING_PROVIDER: 'onnx' });
    expect(() => embedderOption('openai')).toThrow(/expected local or onnx/);
  });
});

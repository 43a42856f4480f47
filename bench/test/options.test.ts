import { describe, expect, it } from 'vitest';
import { embedderOption, scriptOptions, tenancyOption } from '../src/options.ts';

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

  it('reads number and text options with their defaults, and refuses a number that is not one', () => {
    const numbers = { size: 1_000, near: 0.95 };
    expect(scriptOptions(numbers, { engine: 'usearch' }, [])).toEqual({
      size: 1_000,
      near: 0.95,
      engine: 'usearch',
    });
    expect(
      scriptOptions(numbers, { engine: 'usearch' }, ['--size', '2e5', '--engine', 'arena']),
    ).toEqual({
      size: 200_000,
      near: 0.95,
      engine: 'arena',
    });
    expect(() => scriptOptions(numbers, {}, ['--size', '10k'])).toThrow(
      '--size 10k: expected a number',
    );
    expect(() => scriptOptions(numbers, {}, ['--near', ''])).toThrow(/--near : expected a number/);
    expect(() => scriptOptions(numbers, {}, ['--sise', '5'])).toThrow(/sise/);
  });
});

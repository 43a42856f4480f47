import { describe, expect, it } from 'vitest';
import { serviceTuning } from '../src/stack.ts';

describe('serviceTuning', () => {
  it('tunes the vector-store only: huge pages on its heap, a larger young generation', () => {
    expect([serviceTuning('vector-store', {}), serviceTuning('embedder', {})]).toEqual([
      { env: { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }, nodeArgs: ['--max-semi-space-size=64'] },
      { env: {}, nodeArgs: [] },
    ]);
  });

  it("leaves an operator's own GLIBC_TUNABLES alone", () => {
    expect(
      serviceTuning('vector-store', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).env,
    ).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { processTunables } from '../src/stack.ts';

describe('processTunables', () => {
  it('asks glibc for transparent huge pages in the vector-store only', () => {
    expect([processTunables('vector-store', {}), processTunables('embedder', {})]).toEqual([
      { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' },
      {},
    ]);
  });

  it("leaves an operator's own GLIBC_TUNABLES alone", () => {
    expect(processTunables('vector-store', { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toEqual(
      {},
    );
  });
});

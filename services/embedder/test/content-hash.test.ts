import { describe, expect, it } from 'vitest';
import { contentHash } from '../src/domain/content-hash.ts';

describe('contentHash', () => {
  it('is the sha256 hex of the normalised text', () => {
    expect(contentHash('deploy to vercel')).toBe(
      'd896992e065f08c10863646d3ecd069b28b90219f85159a7e63feb17d7fe8701',
    );
  });

  it('ignores case, so "Deploy to Vercel" duplicates "deploy to vercel"', () => {
    expect(contentHash('Deploy to Vercel')).toBe(contentHash('deploy to vercel'));
  });

  it('ignores surrounding and repeated whitespace', () => {
    expect(contentHash('  deploy\tto \n vercel ')).toBe(contentHash('deploy to vercel'));
  });

  it('applies NFKC, so compatibility forms match', () => {
    expect(contentHash('ﬁle ①')).toBe(contentHash('file 1'));
  });

  it('tells different words apart', () => {
    expect(contentHash('deploy to vercel')).not.toBe(contentHash('deploy to netlify'));
  });
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each integration file starts its own nats-server on a random port; two cores here.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    include: [
      'packages/*/test/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'test/**/*.test.ts',
      'eval/test/**/*.test.ts',
      'bench/test/**/*.test.ts',
    ],
    reporters: ['default', './test/summary-reporter.ts'],
  },
});

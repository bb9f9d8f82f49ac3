import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'shared/src/**/*.test.ts',
      'server/src/**/*.test.ts',
      'scripts/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    // Every wait in a test has its own deadline; these are the outer bounds.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Three instances, PostgreSQL and Redis per test, with latency bounds: run alone after the rest
    // (vitest.cluster.config.ts), not beside other files on a two-core machine.
    exclude: ['**/node_modules/**', 'server/src/cluster/**', 'scripts/cluster-local.test.ts'],
  },
});

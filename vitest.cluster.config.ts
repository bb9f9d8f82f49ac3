import { defineConfig } from 'vitest/config';

/** The multi-instance tests (real PostgreSQL and Redis), one file at a time after the main suite. */
export default defineConfig({
  test: {
    include: ['server/src/cluster/**/*.test.ts', 'scripts/cluster-local.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

import { defineConfig } from 'vitest/config';

// Unit tests of the UI's framework-free modules (npm run test -w web); the browser tests live in /e2e.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 10_000,
  },
});

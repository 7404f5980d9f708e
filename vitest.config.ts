import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    environment: 'node',
    // tfjs backends are process-global state; files run in separate forks so one test's backend
    // choice cannot leak into another's.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

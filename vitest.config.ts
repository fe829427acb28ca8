import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The Temporal core bridge is a native addon that crashes inside worker threads.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: workflow tests share one Temporal server; more forks only add contention.
    maxWorkers: 2,
    reporters: ['default'],
  },
});

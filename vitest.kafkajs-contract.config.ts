import { defineConfig } from 'vitest/config';

/** The driver contract on the kafkajs driver (test/contract/), outside `npm test` until it passes whole. */
export default defineConfig({
  test: {
    include: ['test/contract/**/*.contract.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});

import { defineConfig } from 'vitest/config';

/**
 * Three layers: unit (no services), integration and e2e (real Kafka, Redis and DynamoDB Local,
 * found or started once per run by test/support/global-setup.ts). `npm test` runs all of them.
 */
export default defineConfig({
  test: {
    // In CI a JSON report too, from which .ci/run prints its closing "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          typecheck: { enabled: true, include: ['test/unit/**/*.test-d.ts'] },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The services (and these 2 cores) are shared: one file at a time keeps timings sane.
          fileParallelism: false,
        },
      },
    ],
  },
});

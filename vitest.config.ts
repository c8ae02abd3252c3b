import { defineConfig } from 'vitest/config';

/**
 * What the projects on real services share. fileParallelism false also serialises across projects:
 * vitest 4 puts every file of such projects (isolated, default sequence.groupOrder) into one
 * single-worker group that runs after the parallel ones, so at most one integration file runs at a time.
 */
const integration = {
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 180_000,
  // The services (and these 2 cores) are shared: one file at a time keeps timings sane.
  fileParallelism: false,
};

/**
 * Three layers: unit (no services), integration and e2e (real Kafka, Redis and DynamoDB Local,
 * found or started once per run by test/support/global-setup.ts). `npm test` runs all of them, and
 * the runtime and pipeline integration tests a second time on kafkajs (integration-kafkajs).
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
          ...integration,
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // The default client, whatever the shell says: else a KAFKA_DRIVER=kafkajs would test kafkajs twice.
          env: { KAFKA_DRIVER: 'platformatic' },
        },
      },
      {
        // The runtime and the pipeline once more on the second Kafka client (test/support/kafka-io.ts
        // TEST_DRIVER; CLI workers the tests spawn inherit KAFKA_DRIVER too).
        test: {
          name: 'integration-kafkajs',
          ...integration,
          include: ['test/integration/runtime/**/*.test.ts', 'test/integration/pipeline/**/*.test.ts'],
          env: { KAFKA_DRIVER: 'kafkajs' },
        },
      },
    ],
  },
});

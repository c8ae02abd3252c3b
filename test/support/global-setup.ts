import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { stackConfig } from '../../infra/stack-config.js';
import { stackUp, stopServices, type ServiceName } from '../../infra/stack.js';
import type { TestServices } from './services.js';

/**
 * Finds the real services for the integration tests, in this order:
 * 1. KAFKA_BROKERS, REDIS_URL and DYNAMODB_ENDPOINT when all three are set;
 * 2. testcontainers when a Docker engine answers `docker info`;
 * 3. the project's own local stack (`votestream stack up`), started once per run and stopped at
 *    the end; services that were already running are reused and left running.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Several projects (integration, integration-kafkajs) list this file, and vitest runs it once per
  // project, each in its own module instance: share one set of services through the main process's
  // globalThis, or Docker would start a second Kafka next to the first. The last teardown stops it.
  const registry = globalThis as { [SHARED]?: SharedServices };
  const shared = (registry[SHARED] ??= { found: findServices(), users: 0 });
  shared.users++;
  const { services, stop } = await shared.found;
  project.provide('services', services);
  return async () => {
    shared.users--;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await stop();
  };
}

const SHARED = Symbol.for('votestream.test.services');

interface SharedServices {
  readonly found: Promise<FoundServices>;
  users: number;
}

interface FoundServices {
  readonly services: TestServices;
  readonly stop: () => Promise<void>;
}

async function findServices(): Promise<FoundServices> {
  const { KAFKA_BROKERS, REDIS_URL, DYNAMODB_ENDPOINT } = process.env;
  if (KAFKA_BROKERS && REDIS_URL && DYNAMODB_ENDPOINT) {
    return { services: { brokers: KAFKA_BROKERS, redis: REDIS_URL, dynamodbEndpoint: DYNAMODB_ENDPOINT, origin: 'env' }, stop: async () => undefined };
  }
  if (process.env.VOTESTREAM_TEST_NO_DOCKER !== '1' && dockerAnswers()) {
    const { startContainers } = await import('./containers.js');
    return startContainers();
  }
  const config = stackConfig({ dataDir: process.env.VOTESTREAM_TEST_STACK_DIR ?? '.stack' });
  const up = await stackUp(config, { log: (msg) => process.stderr.write(`[stack] ${msg}\n`) });
  const started = (Object.keys(up) as ServiceName[]).filter((name) => up[name].action === 'started');
  const services: TestServices = {
    brokers: up.kafka.address,
    redis: up.redis.address,
    dynamodbEndpoint: up.dynamodb.address,
    origin: 'local-stack',
  };
  process.stderr.write(
    `[stack] integration tests use the local stack (${Object.entries(up)
      .map(([n, r]) => `${n} ${r.action}`)
      .join(', ')})\n`,
  );
  return {
    services,
    stop: async () => {
      await stopServices(config, started);
    },
  };
}

function dockerAnswers(): boolean {
  const r = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
  return r.error === undefined && r.status === 0;
}

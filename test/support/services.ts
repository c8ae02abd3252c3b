import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** Addresses of the real services the integration tests talk to (provided by test/support/global-setup.ts). */
export interface TestServices {
  readonly brokers: string;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  /** Where they came from: environment variables, testcontainers or the project's local stack. */
  readonly origin: 'env' | 'testcontainers' | 'local-stack';
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: TestServices;
  }
}

export function services(): TestServices {
  return inject('services');
}

/**
 * A prefix unique to this test run and call, for topics, tables, groups and Redis keys, so that
 * runs never collide, even against a shared broker.
 */
export function uniquePrefix(label = 't'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}-`;
}

import type { KafkaDriver } from '../runtime/kafka/driver.js';
import type { Logger } from '../runtime/logger.js';

/** What every benchmark gets from the CLI: where the services are, a logger, and the command typed (for RESULTS.md). */
export interface BenchContext {
  readonly driver: KafkaDriver;
  readonly brokers: string;
  readonly redis: string;
  readonly dynamodbEndpoint: string;
  readonly logger: Logger;
  readonly command: string;
}

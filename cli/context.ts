import type { ArgumentsCamelCase } from 'yargs';
import { createLogger, type Logger } from '../runtime/logger.js';
import { CONFIG_ENV, resolveConfig, type ResolvedConfig } from './config.js';

/** Options every command accepts (yargs globals). */
export interface GlobalArgs {
  brokers?: string;
  driver?: string;
  redis?: string;
  dynamodbEndpoint?: string;
  logLevel?: string;
  config?: string;
  topicPrefix?: string;
}

export interface CommandContext {
  readonly config: ResolvedConfig;
  readonly log: Logger;
  /** Services whose address the user gave: the local stack must leave them alone. */
  readonly external: { kafka?: string; redis?: string; dynamodb?: string };
}

export function commandContext(argv: ArgumentsCamelCase<GlobalArgs>): CommandContext {
  const config = resolveConfig(
    { brokers: argv.brokers, driver: argv.driver, redis: argv.redis, dynamodbEndpoint: argv.dynamodbEndpoint, logLevel: argv.logLevel, topicPrefix: argv.topicPrefix },
    { configFile: argv.config },
  );
  const log = createLogger({ level: config.logLevel });
  const external: CommandContext['external'] = {};
  if (config.sources.brokers !== 'default') external.kafka = config.brokers;
  if (config.sources.redis !== 'default') external.redis = config.redis;
  if (config.sources.dynamodbEndpoint !== 'default') external.dynamodb = config.dynamodbEndpoint;
  return { config, log, external };
}

/**
 * For commands that start processes of their own (benchmarks, chaos): the resolved driver becomes
 * this process's KAFKA_DRIVER, which every child (worker, gateway, feed, generator, audit CLI)
 * inherits, so the whole run is on one Kafka client without each spawn site naming it.
 */
export function passDriverToChildren(config: ResolvedConfig): void {
  process.env[CONFIG_ENV.driver] = config.driver;
}

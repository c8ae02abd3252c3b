/**
 * The Kafka clients the runtime can run on, by name: the one place that picks a driver, for the
 * StreamsApp config (`driver`) and every CLI command (`--driver`, env KAFKA_DRIVER).
 */
import type { KafkaDriver } from './driver.js';
import { KafkajsDriver } from './kafkajs-driver.js';
import { PlatformaticKafkaDriver } from './platformatic-driver.js';

export const KAFKA_DRIVERS = ['platformatic', 'kafkajs'] as const;
export type KafkaDriverName = (typeof KAFKA_DRIVERS)[number];

export interface CreateKafkaDriverOptions {
  /** Comma-separated host:port list. */
  readonly brokers: string;
  /** Prefix of the client ids of the clients the driver creates. */
  readonly clientId?: string;
}

export function createKafkaDriver(name: KafkaDriverName, options: CreateKafkaDriverOptions): KafkaDriver {
  switch (name) {
    case 'platformatic':
      return new PlatformaticKafkaDriver(options);
    case 'kafkajs':
      return new KafkajsDriver(options);
  }
}

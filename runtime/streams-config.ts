import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { KAFKA_DRIVERS } from './kafka/create-driver.js';

export const PROCESSING_GUARANTEES = ['exactly_once_v2', 'at_least_once'] as const;
export type ProcessingGuarantee = (typeof PROCESSING_GUARANTEES)[number];

/** What a processing exception (not a deserialization error) does: stop the app, or dead-letter the record and go on. */
export type ProcessingExceptionHandler = 'fail' | 'dead-letter';

const schema = z
  .object({
    applicationId: z.string().regex(/^[A-Za-z0-9._-]+$/, 'may hold only letters, digits, ".", "_" and "-"'),
    brokers: z.string().min(1),
    /**
     * The Kafka client (runtime/kafka/create-driver.ts), unless StreamsApp is given a driver. On
     * kafkajs, which has no KIP-447, exactly_once_v2 runs one transactional producer per input
     * partition (runtime/commit-strategy.ts).
     */
    driver: z.enum(KAFKA_DRIVERS).default('platformatic'),
    processingGuarantee: z.enum(PROCESSING_GUARANTEES).default('exactly_once_v2'),
    commitIntervalMs: z.number().int().min(1).default(100),
    stateDir: z.string().min(1).default('.state'),
    maxBatchRecords: z.number().int().min(1).default(5000),
    metricsPort: z.number().int().min(0).max(65535).optional(),
    sessionTimeoutMs: z.number().int().min(6000).max(300_000).default(10_000),
    /** Stable per worker slot: the transactional ids derive from it, so a restarted slot fences its zombie. */
    instanceId: z.string().regex(/^[A-Za-z0-9._-]+$/).default(`${hostname()}-${process.pid}`),
    processingExceptionHandler: z.enum(['fail', 'dead-letter']).default('fail'),
    /** Where 'dead-letter' sends records whose processing threw; default `<source topic>-dlq`. */
    processingDeadLetterTopic: z.string().optional(),
    /**
     * The largest record batch a topic takes (the broker's and topics' `max.message.bytes`, 1 048 588
     * by default): a commit sends at most this much per topic in one request, and an output record
     * larger than this (less framing) is a record error, dead-lettered.
     */
    maxMessageBytes: z.number().int().min(16 * 1024).default(1_000_000),
    /** The longest wait between two attempts to recover from an outage (Kafka, a sink, a store). */
    maxRetryBackoffMs: z.number().int().min(100).default(10_000),
    /**
     * Process the next batch while the previous commit is in flight (its writes sealed, read but not
     * yet in LevelDB). Off: every commit stops processing until it is done, as before.
     */
    overlapCommits: z.boolean().default(true),
    /** How often consumer lag is refreshed for the metrics. */
    lagRefreshMs: z.number().int().min(100).default(5000),
  })
  .strict();

export type StreamsConfigInput = z.input<typeof schema>;
export type StreamsConfig = z.output<typeof schema>;

/** Validates at the edge: every problem named in one error. */
export function parseStreamsConfig(input: StreamsConfigInput): StreamsConfig {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new ConfigError(`invalid StreamsApp config:\n${lines.join('\n')}`);
}

export type ServiceName = 'kafka' | 'redis' | 'dynamodb';

/**
 * One process of the local stack, as `stack up|down|status` sees it: a whole service in the
 * single-node layout, or one node of it ('kafka-2', 'redis-1') in the replicated one.
 */
export interface LocalService {
  /** The node's name: the service's name when it has one node, else `<service>-<i>` (1-based). */
  readonly name: string;
  readonly service: ServiceName;
  /** host:port for Kafka; a URL for Redis and DynamoDB. */
  readonly address: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly startTimeoutMs: number;
  healthy(): Promise<boolean>;
  /** Checks prerequisites, writes configs, downloads what is missing; returns the command to run. */
  prepare(): { command: string; args: string[]; cwd?: string } | Promise<{ command: string; args: string[]; cwd?: string }>;
}

/** One service of the local stack, as `stack up|down|status` sees it. */
export interface LocalService {
  readonly name: 'kafka' | 'redis' | 'dynamodb';
  /** host:port for Kafka; a URL for Redis and DynamoDB. */
  readonly address: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly startTimeoutMs: number;
  healthy(): Promise<boolean>;
  /** Checks prerequisites, writes configs, downloads what is missing; returns the command to run. */
  prepare(): { command: string; args: string[]; cwd?: string } | Promise<{ command: string; args: string[]; cwd?: string }>;
}

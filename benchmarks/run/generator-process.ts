/**
 * One open-loop vote generator of `votestream bench run`, as its own process (so the load does not
 * share an event loop with the measuring parent, and N of them can use N cores):
 *
 *   node dist/benchmarks/run/generator-process.js '<json GeneratorProcessConfig>'
 *
 * Generator g of N sends the plan's votes with i % N === g, each at its due time (startAt + i/rate),
 * whatever happened to the earlier ones: latency runs from the intended send time, so a system that
 * falls behind is charged for the queue it built (no coordinated omission). Reports JSON lines on
 * stdout (`tick` every second, `done` at the end); logs go to stderr. The HS256 token secret comes
 * from env VOTESTREAM_TOKEN_SECRET, never from argv (argv is visible in `ps`). The Kafka client is
 * `kafka.driver`, else env KAFKA_DRIVER (which the CLI sets for the processes it starts), else platformatic.
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import { z } from 'zod';
import { ConfigError } from '../../runtime/errors.js';
import { createKafkaDriver, KAFKA_DRIVERS, type KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import { createLogger, type Logger } from '../../runtime/logger.js';
import { voteRecords } from '../bench-input.js';
import { VotePlan, type PlannedVote } from './vote-plan.js';

const PlanOptionsSchema = z.strictObject({
  runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/),
  rate: z.number().positive(),
  durationS: z.number().min(0),
  warmupS: z.number().min(0),
  voters: z.int().min(1),
  dupRatio: z.number().min(0).max(1),
  elections: z.int().min(1),
  candidates: z.int().min(1),
  regions: z.int().min(0),
  seed: z.int().optional(),
});

/** What every generator of a run gets (the parent adds each one's index). */
export const GeneratorSharedConfigSchema = z.strictObject({
  plan: PlanOptionsSchema,
  /** Epoch ms at which vote 0 is due. */
  startAt: z.number().int().min(0),
  via: z.enum(['kafka', 'http']),
  kafka: z
    .strictObject({
      brokers: z.string().min(1),
      topic: z.string().min(1),
      /** The Kafka client; default env KAFKA_DRIVER, else platformatic. */
      driver: z.enum(KAFKA_DRIVERS).optional(),
      /** Produce requests outstanding at most; default MAX_IN_FLIGHT. */
      maxInFlight: z.int().min(1).optional(),
    })
    .optional(),
  http: z
    .strictObject({
      /** Gateway base URL, e.g. http://127.0.0.1:8080. */
      url: z.url(),
      /** Keep-alive sockets. Default 256. */
      connections: z.int().min(1).optional(),
    })
    .optional(),
});
export type GeneratorSharedConfig = z.infer<typeof GeneratorSharedConfigSchema>;

export const GeneratorProcessConfigSchema = GeneratorSharedConfigSchema.extend({
  /** This generator's index g, 0 <= g < generators. */
  generator: z.int().min(0),
  generators: z.int().min(1),
}).superRefine((c, ctx) => {
  if (c.generator >= c.generators) ctx.addIssue({ code: 'custom', path: ['generator'], message: 'must be below generators' });
  if (c.via === 'kafka' && c.kafka === undefined) ctx.addIssue({ code: 'custom', path: ['kafka'], message: 'required with via kafka' });
  if (c.via === 'http' && c.http === undefined) ctx.addIssue({ code: 'custom', path: ['http'], message: 'required with via http' });
});
export type GeneratorProcessConfig = z.infer<typeof GeneratorProcessConfigSchema>;

export interface TickMessage {
  readonly type: 'tick';
  /** Seconds since vote 0 was due. */
  readonly t: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly behindMs: number;
}

export interface DoneMessage {
  readonly type: 'done';
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly failedIndices: number[];
  /**
   * How late, at worst, a vote due after the warm-up was sent. The warm-up absorbs the cold start
   * (the producer's first request connects and initialises: ~1 s on a loaded machine).
   */
  readonly maxBehindMs: number;
  /** The same over the warm-up. */
  readonly maxBehindWarmupMs: number;
  /** Gateway answers by status, `error`/`timeout` for no answer (http); `produce-error` (kafka). */
  readonly statuses: Record<string, number>;
  /** Intended send -> acknowledgement, µs, hdr-histogram-js compressed base64. */
  readonly ackHistogram: string;
  /** Epoch ms of the last send. */
  readonly lastSendAt: number;
  /** This process's CPU (user + system) over its whole life. */
  readonly cpuSeconds: number;
}

export type GeneratorMessage = TickMessage | DoneMessage;

/**
 * A voter token byte for byte as voting/gateway/token-issuer.ts issueToken makes it with HS256
 * (jose's claim order; the integration test compares them). Synchronous node:crypto rather than
 * jose's async WebCrypto path: 6 µs a token against 177 µs (measured, loaded 2-core machine), which
 * at 10k fresh voters/s would have been most of a core.
 */
export function signHs256Token(secret: string, voterId: string, electionId: string, nowSec: number, ttlSec: number): string {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
  const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64(JSON.stringify({ election: electionId, sub: voterId, iat: nowSec, nbf: nowSec, exp: nowSec + ttlSec }))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/**
 * Produce requests outstanding (kafka), by default. Beyond it due votes wait, charged the wait. One,
 * because the driver serialises a producer's sends (runtime/kafka/platformatic/helpers.ts
 * SerialQueue): a queued batch cannot grow while it waits, so queueing small ones only adds their
 * round trips to the latency (measured at 20k votes/s: p50 2.6 s with 32 queued, 0.18 s with 1),
 * while one outstanding send lets the next batch take everything that came due meanwhile.
 */
const MAX_IN_FLIGHT = 1;
/** Bounds one produce request (~150 B a vote) after a stall. */
const MAX_BATCH = 20_000;
/** Bounds the token cache; signing is a few µs, so a miss costs little. */
const MAX_CACHED_TOKENS = 200_000;

const nowMs = (): number => performance.timeOrigin + performance.now();

/** The sending state both transports share: counts, lateness, the histogram. */
class Tally {
  sent = 0;
  acknowledged = 0;
  failed = 0;
  readonly failedIndices: number[] = [];
  readonly statuses: Record<string, number> = {};
  maxBehindMs = 0;
  maxBehindWarmupMs = 0;
  /** Lateness of the most recent send. */
  lastBehindMs = 0;
  lastSendAt = 0;
  readonly histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

  constructor(readonly measuredFrom: number) {}

  /** `intended`: the due time of the oldest vote going out. */
  sending(intended: number, at: number): void {
    this.lastBehindMs = Math.max(0, at - intended);
    this.behind(intended, this.lastBehindMs);
    this.lastSendAt = at;
  }

  behind(intended: number, ms: number): void {
    if (intended >= this.measuredFrom) this.maxBehindMs = Math.max(this.maxBehindMs, ms);
    else this.maxBehindWarmupMs = Math.max(this.maxBehindWarmupMs, ms);
  }

  ack(intended: number, at: number): void {
    this.acknowledged++;
    this.histogram.recordValue(Math.max(1, Math.round((at - intended) * 1000)));
  }

  fail(i: number, status: string): void {
    this.failed++;
    this.failedIndices.push(i);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }
}

interface Transport {
  /** How many votes may go out now (0: wait for `settled`). */
  capacity(): number;
  /** Sends the votes (ts already set); calls back into the tally; `settled(n)` as n of them are answered. */
  send(votes: PlannedVote[], intended: number[], settled: (n: number) => void): void;
  close(): Promise<void>;
}

/** Env KAFKA_DRIVER as the CLI resolves it (unset or empty: platformatic); ConfigError naming it when it is no driver. */
function driverFromEnv(): KafkaDriverName {
  const value = process.env.KAFKA_DRIVER || 'platformatic';
  const parsed = z.enum(KAFKA_DRIVERS).safeParse(value);
  if (!parsed.success) throw new ConfigError(`KAFKA_DRIVER must be one of ${KAFKA_DRIVERS.join(', ')}, got ${JSON.stringify(value)}`);
  return parsed.data;
}

async function kafkaTransport(config: GeneratorProcessConfig, tally: Tally, logger: Logger): Promise<Transport> {
  const { brokers, topic } = config.kafka!;
  const maxInFlight = config.kafka!.maxInFlight ?? MAX_IN_FLIGHT;
  const driver = createKafkaDriver(config.kafka!.driver ?? driverFromEnv(), { brokers, clientId: `votestream-bench-gen${config.generator}` });
  // One idempotent producer: its sends go out in call order, so a voter's votes keep their order.
  const producer = await driver.createProducer({ clientId: `votestream-bench-gen${config.generator}` });
  let inFlight = 0;
  let errorsLogged = 0;
  return {
    capacity: () => (inFlight < maxInFlight ? MAX_BATCH : 0),
    send(votes, intended, settled) {
      inFlight++;
      producer.send(voteRecords(topic, votes.map((p) => p.vote))).then(
        () => {
          const at = nowMs();
          for (let k = 0; k < votes.length; k++) tally.ack(intended[k], at);
        },
        (error: unknown) => {
          // After the client's own retries: these votes are failed, not retried here (a retry
          // would be a new send the schedule never had). A failed request may still have reached
          // some partitions; the parent's verdict then reports the difference.
          for (const p of votes) tally.fail(p.i, 'produce-error');
          if (errorsLogged++ < 10) logger.error({ err: error, votes: votes.length }, 'produce failed');
        },
      ).finally(() => {
        inFlight--;
        settled(votes.length);
      });
    },
    close: () => producer.close(),
  };
}

function httpTransport(config: GeneratorProcessConfig, tally: Tally, secret: string): Transport {
  const target = new URL(config.http!.url);
  const connections = config.http!.connections ?? 256;
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let open = 0;
  const ttlSec = Math.ceil(config.plan.warmupS + config.plan.durationS) + 3600;
  const tokens = new Map<string, string>();
  const tokenFor = (voterId: string, electionId: string): string => {
    let token = tokens.get(voterId);
    if (token === undefined) {
      if (tokens.size >= MAX_CACHED_TOKENS) tokens.clear();
      token = signHs256Token(secret, voterId, electionId, Math.floor(Date.now() / 1000), ttlSec);
      tokens.set(voterId, token);
    }
    return token;
  };
  return {
    // One request per socket at a time, as wrk2: a vote due while all are busy waits here (and is
    // late, charged from its due time). Not handed to the agent's own queue: tens of thousands of
    // queued requests cost the generator ~300 µs of CPU a vote (measured), so it fell behind itself.
    capacity: () => connections - open,
    send(votes, intended, settled) {
      open += votes.length;
      const answered = (): void => {
        open--;
        settled(1);
      };
      votes.forEach((p, k) => {
        const { vote } = p;
        const body = JSON.stringify(vote.region === undefined ? { candidateId: vote.candidateId, voteId: vote.voteId } : { candidateId: vote.candidateId, region: vote.region, voteId: vote.voteId });
        let done = false;
        const finish = (status: string): void => {
          if (done) return;
          done = true;
          if (status === '202') {
            tally.ack(intended[k], nowMs());
            tally.statuses[status] = (tally.statuses[status] ?? 0) + 1;
          } else {
            tally.fail(p.i, status);
          }
          answered();
        };
        const req = request(
          {
            host: target.hostname,
            port: target.port,
            path: `/v1/elections/${encodeURIComponent(vote.electionId)}/votes`,
            method: 'POST',
            agent,
            headers: { authorization: `Bearer ${tokenFor(vote.voterId, vote.electionId)}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => finish(String(res.statusCode ?? 0)));
            res.on('error', () => finish('error'));
          },
        );
        req.setTimeout(60_000, () => {
          finish('timeout');
          req.destroy();
        });
        req.on('error', () => finish('error'));
        req.end(body);
      });
    },
    close: async () => agent.destroy(),
  };
}

/** Runs one generator to the end; resolves with the final report. */
export async function runGenerator(config: GeneratorProcessConfig, emit: (m: GeneratorMessage) => void, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<DoneMessage> {
  const plan = new VotePlan(config.plan);
  const tally = new Tally(config.startAt + config.plan.warmupS * 1000);
  let transport: Transport;
  if (config.via === 'kafka') {
    transport = await kafkaTransport(config, tally, logger);
  } else {
    const secret = env.VOTESTREAM_TOKEN_SECRET;
    if (secret === undefined || secret === '') throw new ConfigError('env VOTESTREAM_TOKEN_SECRET is required with via http');
    transport = httpTransport(config, tally, secret);
  }
  const { startAt } = config;
  const votes = plan.votes({ index: config.generator, of: config.generators });
  let pending: PlannedVote | undefined = votes.next().value ?? undefined;
  /** Votes handed to the transport and not answered yet. */
  let outstanding = 0;
  logger.info({ generator: config.generator, generators: config.generators, total: plan.total, via: config.via, startAt }, 'generator ready');

  const behindNow = (): number => {
    const now = nowMs();
    if (pending === undefined || startAt + pending.dueMs > now) return tally.lastBehindMs;
    // A vote still waiting is late already, even before it goes out.
    const waiting = now - (startAt + pending.dueMs);
    tally.behind(startAt + pending.dueMs, waiting);
    return Math.max(waiting, tally.lastBehindMs);
  };
  let tickNo = 0;
  let tickTimer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    tickNo++;
    const behindMs = behindNow();
    emit({ type: 'tick', t: tickNo, sent: tally.sent, acknowledged: tally.acknowledged, failed: tally.failed, behindMs: Math.round(behindMs) });
    tickTimer = setTimeout(tick, Math.max(0, startAt + (tickNo + 1) * 1000 - Date.now()));
  };
  tickTimer = setTimeout(tick, Math.max(0, startAt + 1000 - Date.now()));

  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let immediate = false;
    const schedule = (): void => {
      if (timer !== undefined || immediate) return;
      if (pending === undefined) {
        if (outstanding === 0) resolve();
        return;
      }
      const wait = startAt + pending.dueMs - nowMs();
      if (wait <= 0 && transport.capacity() > 0) {
        immediate = true;
        setImmediate(() => {
          immediate = false;
          pump();
        });
      } else if (wait > 0) {
        // ~2 ms granularity: finer timers cost CPU and Node's timers are 1 ms at best anyway.
        timer = setTimeout(
          () => {
            timer = undefined;
            pump();
          },
          Math.min(2, Math.max(1, wait)),
        );
      }
      // else: the transport is full; the next settled vote calls schedule().
    };
    const pump = (): void => {
      const room = Math.min(MAX_BATCH, transport.capacity());
      if (room <= 0) return;
      const now = nowMs();
      const batch: PlannedVote[] = [];
      const intended: number[] = [];
      while (pending !== undefined && startAt + pending.dueMs <= now && batch.length < room) {
        const due = startAt + pending.dueMs;
        // Integer ms (the schema's ts); floor keeps it within [startAt, startAt + last due].
        pending.vote.ts = Math.floor(due);
        batch.push(pending);
        intended.push(due);
        pending = votes.next().value ?? undefined;
      }
      if (batch.length > 0) {
        tally.sending(intended[0], now);
        tally.sent += batch.length;
        outstanding += batch.length;
        transport.send(batch, intended, (n) => {
          outstanding -= n;
          schedule();
        });
      }
      schedule();
    };
    schedule();
  });
  clearTimeout(tickTimer);
  // The second in progress, with the final counts, so the parent's per-second series covers the
  // whole load (the last votes are often acknowledged before its second ends).
  emit({ type: 'tick', t: tickNo + 1, sent: tally.sent, acknowledged: tally.acknowledged, failed: tally.failed, behindMs: Math.round(tally.lastBehindMs) });
  await transport.close();
  const done: DoneMessage = {
    type: 'done',
    sent: tally.sent,
    acknowledged: tally.acknowledged,
    failed: tally.failed,
    failedIndices: tally.failedIndices,
    maxBehindMs: Math.round(tally.maxBehindMs),
    maxBehindWarmupMs: Math.round(tally.maxBehindWarmupMs),
    statuses: tally.statuses,
    ackHistogram: hdr.encodeIntoCompressedBase64(tally.histogram),
    lastSendAt: Math.round(tally.lastSendAt),
    cpuSeconds: (() => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    })(),
  };
  logger.info({ generator: config.generator, sent: done.sent, acknowledged: done.acknowledged, failed: done.failed, maxBehindMs: done.maxBehindMs, cpuSeconds: done.cpuSeconds }, 'generator done');
  return done;
}

export function parseGeneratorConfig(argv: readonly string[]): GeneratorProcessConfig {
  if (argv.length !== 1) throw new ConfigError(`expected one argument (the JSON config), got ${argv.length}`);
  let value: unknown;
  try {
    value = JSON.parse(argv[0]);
  } catch (error) {
    throw new ConfigError(`the config is not JSON: ${(error as Error).message}`);
  }
  const result = GeneratorProcessConfigSchema.safeParse(value);
  if (!result.success) throw new ConfigError(`invalid config: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return result.data;
}

async function main(): Promise<void> {
  const logger = createLogger({ name: 'votestream-bench-generator' });
  let config: GeneratorProcessConfig;
  try {
    config = parseGeneratorConfig(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`generator-process: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const write = (m: GeneratorMessage): void => {
    process.stdout.write(`${JSON.stringify(m)}\n`);
  };
  try {
    const done = await runGenerator(config, write, logger);
    process.stdout.write(`${JSON.stringify(done)}\n`, () => process.exit(0));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`generator-process: ${error.message}\n`);
      process.exit(2);
    }
    logger.fatal({ err: error }, 'generator failed');
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) void main();

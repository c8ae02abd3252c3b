/**
 * The broker's own ceiling, measured with Kafka's own tools (ProducerPerformance and
 * ConsumerPerformance from org.apache.kafka:kafka-tools), so `votestream bench peers` can set the
 * framework's figures against what the same broker does for the reference Java clients on the same
 * machine. Each tool runs in its own JVM; the JVM's CPU and the broker's CPU are reported so the
 * caller can charge both per record.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KAFKA_VERSION, kafkaService } from '../../infra/kafka-service.js';
import { readPid } from '../../infra/managed-process.js';
import { ensureMavenJars } from '../../infra/maven-jars.js';
import { JAVA, requirePrerequisites } from '../../infra/prerequisites.js';
import { stackConfig, type StackConfig } from '../../infra/stack-config.js';
import { PlatformaticKafkaDriver } from '../../runtime/kafka/platformatic-driver.js';
import { BenchmarkError } from '../errors.js';
import { cpuSeconds } from '../process-cpu.js';

// ---------------------------------------------------------------------------------------------
// The tools' classpath
// ---------------------------------------------------------------------------------------------

/** The pom sits in <root>/benchmarks/peers/kafka-tools: beside this file in the sources, three levels up from dist/benchmarks/peers. */
function pomPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromSource = join(here, 'kafka-tools', 'pom.xml');
  return existsSync(fromSource) ? fromSource : join(here, '..', '..', '..', 'benchmarks', 'peers', 'kafka-tools', 'pom.xml');
}

/** The tools' jars, beside (not inside) the broker's: the broker's classpath must stay exactly the broker's. */
export function kafkaToolsLibsDir(config: StackConfig = stackConfig()): string {
  return join(config.cacheDir, `kafka-tools-${KAFKA_VERSION}`, 'libs');
}

/**
 * Resolves kafka-tools (same version as the stack's broker, so the measurement is of one Kafka)
 * through Maven into the cache, once. The marker is written only after a complete copy, so an
 * interrupted download is redone rather than half-used. Returns the directory of jars.
 */
export function ensureKafkaTools(log: (msg: string) => void, config: StackConfig = stackConfig()): Promise<string> {
  return ensureMavenJars({ pom: pomPath(), libs: kafkaToolsLibsDir(config), expectPrefix: 'kafka-tools-', properties: { 'kafka.version': KAFKA_VERSION }, what: `Apache Kafka ${KAFKA_VERSION} tools`, log });
}

// ---------------------------------------------------------------------------------------------
// Running a tool in a JVM
// ---------------------------------------------------------------------------------------------

/**
 * The JVM flags Kafka's own bin/kafka-producer-perf-test.sh and kafka-consumer-perf-test.sh run
 * with (their heap and kafka-run-class.sh's performance options), so the figures are those of the
 * tools as shipped. The locale is pinned because the tools format numbers with String.format: a
 * comma decimal separator would break the parsing. slf4j-simple at WARN keeps the clients' INFO
 * chatter out while a real problem still reaches stderr.
 */
const TOOL_JVM_FLAGS = [
  '-Xmx512M',
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
  '-Duser.language=en',
  '-Duser.country=US',
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
];

/**
 * A POSIX shell runs the JVM and then reports its children's CPU time (`times`, second line) on
 * fd 3. That figure is the JVM's whole CPU (all threads, to the moment it exited), which polling
 * /proc could only approach: the last poll before exit misses the tail, and after exit /proc has
 * nothing. The exit status is passed through.
 */
const WRAPPER = 'java "$@"; status=$?; times >&3; exit $status';

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** Enough of a failing tool's stderr to say why, without holding a chatty log in memory. */
const STDERR_TAIL = 16_384;

interface ToolRun {
  readonly stdout: string;
  readonly stderrTail: string;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

/** Children's user+system seconds from `times` output (dash prints 0m1.230000s, bash 0m1.230s). */
export function childCpuSecondsFromTimes(output: string): number | undefined {
  const lines = output.trim().split('\n');
  if (lines.length < 2) return undefined;
  const parts = [...lines[1].matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (parts.length !== 2 || parts.some((p) => !Number.isFinite(p))) return undefined;
  // `times` prints milliseconds at best; rounding drops the binary-fraction noise of the sum.
  return Math.round((parts[0] + parts[1]) * 1000) / 1000;
}

async function runTool(tool: string, mainClass: string, args: readonly string[], timeoutMs: number, log: (msg: string) => void): Promise<ToolRun> {
  const libs = await ensureKafkaTools(log);
  requirePrerequisites([JAVA]);
  const started = performance.now();
  // Its own process group, so a timeout (or this process exiting) takes the JVM down with the shell.
  const child = spawn('/bin/sh', ['-c', WRAPPER, 'sh', ...TOOL_JVM_FLAGS, '-cp', `${libs}/*`, mainClass, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', killGroup);
  let stdout = '';
  let stderr = '';
  let times = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
  });
  const fd3 = child.stdio[3];
  if (fd3 !== null && fd3 !== undefined && 'on' in fd3) fd3.on('data', (d: Buffer) => (times += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  try {
    const status = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    const wallSeconds = Math.round(performance.now() - started) / 1000;
    if (timedOut) throw new BenchmarkError('BENCHMARK_TIMEOUT', `${tool} did not finish within ${timeoutMs} ms; stderr:\n${stderr}`);
    if (status !== 0) throw new BenchmarkError('BENCHMARK_WORKER_EXITED', `${tool} exited with ${status}; stdout:\n${stdout.slice(-4096)}\nstderr:\n${stderr}`);
    const cpu = childCpuSecondsFromTimes(times);
    if (cpu === undefined) throw new BenchmarkError('BENCHMARK_OUTPUT', `${tool}: no CPU time from the wrapper's \`times\` (got ${JSON.stringify(times)})`);
    return { stdout, stderrTail: stderr, cpuSeconds: cpu, wallSeconds };
  } finally {
    clearTimeout(timer);
    process.removeListener('exit', killGroup);
  }
}

// ---------------------------------------------------------------------------------------------
// ProducerPerformance
// ---------------------------------------------------------------------------------------------

/**
 * The producer's settings unless the caller overrides them. acks=all with idempotence is what the
 * gateway's producer does (a vote is acknowledged only once it is durable and never duplicated).
 * linger.ms=5 is the Java client's 4.x default; batch.size=65536 holds about 400 records of 160 B,
 * close to the gateway's 500-vote batches, where the 16 KiB default would cap a batch at about 90.
 * No compression, as votestream sends none.
 */
export const PRODUCER_DEFAULTS: Readonly<Record<string, string>> = {
  acks: 'all',
  'enable.idempotence': 'true',
  'max.in.flight.requests.per.connection': '5',
  'linger.ms': '5',
  'batch.size': '65536',
  'compression.type': 'none',
};

export interface ProducerPerformanceOptions {
  readonly brokers: string;
  readonly topic: string;
  readonly records: number;
  readonly recordSize: number;
  /** Records per second to aim at; omitted: as fast as the broker takes them (-1). */
  readonly throughput?: number;
  /** Over PRODUCER_DEFAULTS; bootstrap.servers always comes from `brokers`. */
  readonly producerProps?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly log?: (msg: string) => void;
}

export interface ProducerPerformanceResult {
  /** Records acknowledged (the tool counts only successful sends). */
  readonly records: number;
  /** The tool's own figures, over its own clock from the first send to the last acknowledgement. */
  readonly recordsPerSecond: number;
  /** MiB/s of values (the tool divides by 1024 * 1024). */
  readonly mbPerSecond: number;
  readonly avgLatencyMs: number;
  readonly maxLatencyMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** The JVM's whole CPU, start-up and JIT included. */
  readonly cpuSeconds: number;
  /** The JVM's whole life, start-up included. */
  readonly wallSeconds: number;
}

const PRODUCER_SUMMARY =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/;

/** The final summary line (the only one with percentiles; the periodic lines have none). */
export function parseProducerSummary(stdout: string): Omit<ProducerPerformanceResult, 'cpuSeconds' | 'wallSeconds'> | undefined {
  const lines = stdout.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PRODUCER_SUMMARY.exec(lines[i]);
    if (m === null) continue;
    const n = m.slice(1).map(Number);
    return { records: n[0], recordsPerSecond: n[1], mbPerSecond: n[2], avgLatencyMs: n[3], maxLatencyMs: n[4], p50Ms: n[5], p95Ms: n[6], p99Ms: n[7], p999Ms: n[8] };
  }
  return undefined;
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new BenchmarkError('BENCHMARK_OUTPUT', `${name} must be a positive integer, got ${value}`);
}

/** The argv after the main class; exported so the report can state the exact command. */
export function producerPerformanceArgs(o: ProducerPerformanceOptions): string[] {
  const props = { ...PRODUCER_DEFAULTS, ...(o.producerProps ?? {}), 'bootstrap.servers': o.brokers };
  return [
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--record-size',
    String(o.recordSize),
    '--throughput',
    String(o.throughput ?? -1),
    // Last: argparse4j reads key=value pairs up to the next option.
    '--producer-props',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ];
}

/**
 * Runs org.apache.kafka.tools.ProducerPerformance: `records` values of `recordSize` bytes, no key
 * (the tool sends none, so the sticky partitioner spreads batches over the partitions). Fails
 * unless every record was acknowledged.
 */
export async function runProducerPerformance(o: ProducerPerformanceOptions): Promise<ProducerPerformanceResult> {
  requirePositiveInteger('records', o.records);
  requirePositiveInteger('recordSize', o.recordSize);
  const run = await runTool('ProducerPerformance', 'org.apache.kafka.tools.ProducerPerformance', producerPerformanceArgs(o), o.timeoutMs ?? DEFAULT_TIMEOUT_MS, o.log ?? (() => undefined));
  const summary = parseProducerSummary(run.stdout);
  if (summary === undefined) throw new BenchmarkError('BENCHMARK_OUTPUT', `ProducerPerformance printed no summary line; stdout:\n${run.stdout.slice(-4096)}\nstderr:\n${run.stderrTail}`);
  if (summary.records !== o.records) {
    throw new BenchmarkError('BENCHMARK_OUTPUT', `ProducerPerformance had ${summary.records} of ${o.records} records acknowledged; stderr:\n${run.stderrTail}`);
  }
  return { ...summary, cpuSeconds: run.cpuSeconds, wallSeconds: run.wallSeconds };
}

// ---------------------------------------------------------------------------------------------
// ConsumerPerformance
// ---------------------------------------------------------------------------------------------

export interface ConsumerPerformanceOptions {
  readonly brokers: string;
  readonly topic: string;
  /** The tool stops once it has read at least this many (whole polls, so it can read a few more). */
  readonly messages: number;
  /** Default read_uncommitted, the Java consumer's default. */
  readonly isolation?: 'read_committed' | 'read_uncommitted';
  /** Default a fresh one, deleted afterwards. */
  readonly group?: string;
  /**
   * The tool's --timeout: how long it waits for the next record (its clock starts before the group
   * join) before it gives up short. Default 30 s, not the tool's 10 s: on a loaded machine a join
   * alone took seconds, and a run cut short is a failed run.
   */
  readonly idleTimeoutMs?: number;
  readonly timeoutMs?: number;
  readonly log?: (msg: string) => void;
}

export interface ConsumerPerformanceResult {
  readonly records: number;
  /** Over the fetch time only (the tool's fetch.nMsg.sec): the group join is a one-off, reported as rebalanceMs. */
  readonly recordsPerSecond: number;
  /** MiB/s over the fetch time (fetch.MB.sec). */
  readonly mbPerSecond: number;
  /** Over the tool's whole consuming time, group join included (nMsg.sec). */
  readonly elapsedRecordsPerSecond: number;
  readonly rebalanceMs: number;
  readonly fetchMs: number;
  /** The JVM's whole CPU, start-up and JIT included. */
  readonly cpuSeconds: number;
  /** The JVM's whole life, start-up included. */
  readonly wallSeconds: number;
}

const CONSUMER_HEADER = 'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec';

/**
 * The summary line after the header (printed without --show-detailed-stats). A run cut short by the
 * idle timeout prints a WARNING line between the two, so the first line after the header with all
 * the fields is taken.
 */
export function parseConsumerSummary(stdout: string): Omit<ConsumerPerformanceResult, 'cpuSeconds' | 'wallSeconds'> | undefined {
  const lines = stdout.split('\n').map((l) => l.trim());
  const at = lines.indexOf(CONSUMER_HEADER);
  if (at < 0) return undefined;
  const names = CONSUMER_HEADER.split(', ');
  const values = lines
    .slice(at + 1)
    .map((l) => l.split(', '))
    .find((v) => v.length === names.length);
  if (values === undefined) return undefined;
  const field = (name: string): number => Number(values[names.indexOf(name)]);
  const r = {
    records: field('data.consumed.in.nMsg'),
    recordsPerSecond: field('fetch.nMsg.sec'),
    mbPerSecond: field('fetch.MB.sec'),
    elapsedRecordsPerSecond: field('nMsg.sec'),
    rebalanceMs: field('rebalance.time.ms'),
    fetchMs: field('fetch.time.ms'),
  };
  return Object.values(r).every(Number.isFinite) ? r : undefined;
}

export function consumerPerformanceArgs(o: ConsumerPerformanceOptions & { readonly group: string }, configFile: string): string[] {
  return [
    '--bootstrap-server',
    o.brokers,
    '--topic',
    o.topic,
    '--messages',
    String(o.messages),
    '--group',
    o.group,
    '--timeout',
    String(o.idleTimeoutMs ?? 30_000),
    '--consumer.config',
    configFile,
  ];
}

/**
 * Runs org.apache.kafka.tools.ConsumerPerformance from the earliest offset in a fresh group. Fails
 * unless it read at least `messages` (the tool itself only warns when its idle timeout ends a
 * short run).
 */
export async function runConsumerPerformance(o: ConsumerPerformanceOptions): Promise<ConsumerPerformanceResult> {
  requirePositiveInteger('messages', o.messages);
  const group = o.group ?? `bench-broker-ceiling-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'votestream-consumer-perf-'));
  try {
    const configFile = join(dir, 'consumer.properties');
    // 4.1's ConsumerPerformance has no option for the isolation level; its --consumer.config does.
    writeFileSync(configFile, [`isolation.level=${o.isolation ?? 'read_uncommitted'}`, 'auto.offset.reset=earliest', ''].join('\n'));
    const run = await runTool('ConsumerPerformance', 'org.apache.kafka.tools.ConsumerPerformance', consumerPerformanceArgs({ ...o, group }, configFile), o.timeoutMs ?? DEFAULT_TIMEOUT_MS, o.log ?? (() => undefined));
    const summary = parseConsumerSummary(run.stdout);
    if (summary === undefined) throw new BenchmarkError('BENCHMARK_OUTPUT', `ConsumerPerformance printed no summary line; stdout:\n${run.stdout.slice(-4096)}\nstderr:\n${run.stderrTail}`);
    if (summary.records < o.messages) {
      throw new BenchmarkError('BENCHMARK_OUTPUT', `ConsumerPerformance read ${summary.records} of ${o.messages} records; stdout:\n${run.stdout.slice(-4096)}`);
    }
    return { ...summary, cpuSeconds: run.cpuSeconds, wallSeconds: run.wallSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (o.group === undefined) await deleteGroup(o.brokers, group);
  }
}

/** Best effort: a leftover group of a benchmark harms nothing but clutter. */
async function deleteGroup(brokers: string, group: string): Promise<void> {
  const admin = new PlatformaticKafkaDriver({ brokers, clientId: 'bench-broker-ceiling' }).createAdmin();
  try {
    await admin.deleteGroups([group]);
  } catch {
    // Left for the broker's offsets retention.
  } finally {
    await admin.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// The broker's CPU
// ---------------------------------------------------------------------------------------------

/**
 * CPU seconds the local stack's broker has used so far (read it before and after a run), or
 * undefined when the broker is not one the stack started (env brokers, testcontainers) or is gone.
 * The pid comes from the stack's pid file; the command line is checked because a stale file may
 * name a pid the kernel has since given to something else.
 */
export function brokerCpuSeconds(config: StackConfig = stackConfig()): number | undefined {
  const pid = readPid(kafkaService(config, () => undefined).pidFile);
  if (pid === undefined) return undefined;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('kafka.Kafka')) return undefined;
  } catch {
    return undefined;
  }
  return cpuSeconds(pid);
}

// ---------------------------------------------------------------------------------------------
// A fresh topic
// ---------------------------------------------------------------------------------------------

export interface FreshTopic {
  readonly name: string;
  readonly partitions: number;
  /** Deletes the topic; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Creates a topic no one else uses (a unique name), so a run measures an empty log and reads back
 * exactly what it wrote. auto.create.topics.enable is off on the stack's broker, so the tools
 * cannot create it themselves.
 */
export async function createFreshTopic(brokers: string, partitions: number, prefix = 'bench-broker-ceiling'): Promise<FreshTopic> {
  requirePositiveInteger('partitions', partitions);
  const name = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const driver = new PlatformaticKafkaDriver({ brokers, clientId: 'bench-broker-ceiling' });
  const admin = driver.createAdmin();
  try {
    await admin.ensureTopics([{ name, partitions, replicationFactor: 1, configs: {} }]);
  } finally {
    await admin.close();
  }
  let removed = false;
  return {
    name,
    partitions,
    async remove() {
      if (removed) return;
      const a = driver.createAdmin();
      try {
        await a.deleteTopics([name]);
        removed = true;
      } finally {
        await a.close();
      }
    },
  };
}

/** Runs `fn` against a fresh topic and deletes the topic afterwards, whatever happened. */
export async function withFreshTopic<T>(brokers: string, partitions: number, fn: (topic: FreshTopic) => Promise<T>): Promise<T> {
  const topic = await createFreshTopic(brokers, partitions);
  let result: T;
  try {
    result = await fn(topic);
  } catch (error) {
    // The run's own failure is the one worth reporting; a failed delete must not replace it.
    await topic.remove().catch(() => undefined);
    throw error;
  }
  await topic.remove();
  return result;
}

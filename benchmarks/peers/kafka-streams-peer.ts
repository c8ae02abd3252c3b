/**
 * The Apache Kafka Streams 4.1.1 peer of our dedup stage (benchmarks/peers/kafka-streams, Java 17,
 * Maven) as a child JVM for benchmarks and tests: built once per source version into the cache,
 * started with the run's prefix, watched through its stderr, and always stopped: by SIGTERM (the
 * peer closes its streams), then SIGKILL after a grace period, and by SIGKILL when this process
 * exits or is interrupted (as benchmarks/worker-processes.ts does for our workers).
 */
import { spawn } from 'node:child_process';
import { killWithParent } from '../child-guard.js';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessStartError } from '../../infra/errors.js';
import { JAVA, MAVEN, requirePrerequisites } from '../../infra/prerequisites.js';
import { runCommand } from '../../infra/run-command.js';
import { stackConfig } from '../../infra/stack-config.js';
import type { Logger } from '../../runtime/logger.js';

const JAR_NAME = 'votestream-kafka-streams-peer.jar';
/** The Java sources sit in <root>/benchmarks/peers/kafka-streams: beside this file in the sources, three levels up from dist/benchmarks/peers. */
function projectDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const fromSource = join(here, 'kafka-streams');
  return existsSync(join(fromSource, 'pom.xml')) ? fromSource : join(here, '..', '..', '..', 'benchmarks', 'peers', 'kafka-streams');
}

/** The peer's application.id: it names its consumer group, transactional ids and changelog (`<id>-voters-changelog`). */
export function kafkaStreamsPeerApplicationId(prefix: string): string {
  return `${prefix}votestream-kafka-streams`;
}

/** Kafka Streams uses the application id as the group id of its sources. */
export function kafkaStreamsPeerGroupId(prefix: string): string {
  return kafkaStreamsPeerApplicationId(prefix);
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(path);
    }
  };
  out.push(join(dir, 'pom.xml'));
  walk(join(dir, 'src'));
  return out;
}

/** A hash of the pom and every source file (paths and bytes): a changed source gets a fresh build. */
function sourceHash(dir: string): string {
  const hash = createHash('sha256');
  for (const file of sourceFiles(dir)) {
    hash.update(relative(dir, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

let building: Promise<string> | undefined;

/**
 * Builds the peer's fat jar with Maven into `<cacheDir>/peers/kafka-streams-<source hash>/`, once
 * per source version; returns the jar's path. The build runs on a copy in a scratch directory (the
 * work tree stays clean) and a marker file written last records a complete jar, so an interrupted
 * build is redone rather than half-used. The first build resolves Kafka Streams and its
 * dependencies from Maven Central (tens of seconds).
 */
export function ensureKafkaStreamsPeerBuilt(log: (msg: string) => void): Promise<string> {
  building ??= build(log).catch((err: unknown) => {
    building = undefined;
    throw err;
  });
  return building;
}

async function build(log: (msg: string) => void): Promise<string> {
  const source = projectDir();
  const dir = join(stackConfig().cacheDir, 'peers', `kafka-streams-${sourceHash(source)}`);
  const jar = join(dir, JAR_NAME);
  const marker = join(dir, '.complete');
  if (existsSync(marker) && existsSync(jar)) return jar;
  requirePrerequisites([MAVEN]);
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(dir, 'build-'));
  try {
    cpSync(join(source, 'pom.xml'), join(scratch, 'pom.xml'));
    cpSync(join(source, 'src'), join(scratch, 'src'), { recursive: true });
    log(`building the Kafka Streams peer with Maven into ${dir} (first use of this source version)`);
    const started = Date.now();
    const r = await runCommand('mvn', ['-B', '-q', '-f', join(scratch, 'pom.xml'), 'package', '-DskipTests']);
    if (r.status !== 0) throw new ProcessStartError(`mvn could not build the Kafka Streams peer (exit ${r.status}):\n${r.output}`);
    // Copy then rename: a concurrent build of the same sources never sees a half-written jar.
    const partial = join(dir, `${JAR_NAME}.${process.pid}.partial`);
    copyFileSync(join(scratch, 'target', JAR_NAME), partial);
    renameSync(partial, jar);
    writeFileSync(marker, new Date().toISOString());
    log(`built the Kafka Streams peer in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    pruneOlderBuilds(dir);
    return jar;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Each build is a ~100 MB fat jar: the builds of earlier source versions go once a newer one exists. */
function pruneOlderBuilds(current: string): void {
  const parent = dirname(current);
  for (const name of readdirSync(parent)) {
    const path = join(parent, name);
    if (path !== current && /^kafka-streams-[0-9a-f]{16}$/.test(name)) rmSync(path, { recursive: true, force: true });
  }
}

/** The java to run the peer with: JAVA_HOME's when set, else the one on PATH. */
export function peerJavaCommand(): string {
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  requirePrerequisites([JAVA]);
  return 'java';
}

export interface KafkaStreamsPeerOptions {
  readonly brokers: string;
  readonly prefix: string;
  /** num.stream.threads. */
  readonly threads: number;
  /** Kafka Streams' state.dir (RocksDB stores, checkpoints); the caller removes it. */
  readonly stateDir: string;
  readonly logger: Logger;
  /** JVM flags; default a 1 GiB heap. */
  readonly jvmArgs?: readonly string[];
  /** How long the peer may take to reach RUNNING; default 120 s. */
  readonly startTimeoutMs?: number;
}

export interface KafkaStreamsPeer {
  readonly pid: number;
  /** The consumer group whose committed offsets on `<prefix>votes` show the peer's progress. */
  readonly groupId: string;
  readonly exited: Promise<number | null>;
  /** The last lines the JVM wrote, for error messages. */
  tail(): string[];
  /** SIGTERM (the peer closes its streams and commits), then SIGKILL after graceMs; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Matches the peer's line when every stream thread runs (dev.votestream.peer.Main). */
const RUNNING_LINE = /votestream-kafka-streams-peer: RUNNING /;
const TAIL_LINES = 50;

/** Builds the peer if needed, starts it and resolves once it runs; rejects with its last lines if it exits first. */
export async function startKafkaStreamsPeer(o: KafkaStreamsPeerOptions): Promise<KafkaStreamsPeer> {
  const jar = await ensureKafkaStreamsPeerBuilt((msg) => o.logger.info(msg));
  const java = peerJavaCommand();
  mkdirSync(o.stateDir, { recursive: true });
  const applicationId = kafkaStreamsPeerApplicationId(o.prefix);
  const args = [
    ...(o.jvmArgs ?? ['-Xms256m', '-Xmx1g']),
    '-jar',
    jar,
    '--bootstrap-servers',
    o.brokers,
    '--prefix',
    o.prefix,
    '--application-id',
    applicationId,
    '--threads',
    String(o.threads),
    '--state-dir',
    o.stateDir,
  ];
  const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new ProcessStartError(`could not start the Kafka Streams peer (${java})`);
  const pid = child.pid;
  killWithParent(child);
  const log = o.logger.child({ peer: 'kafka-streams', pid });
  const tail: string[] = [];
  let onRunning: (() => void) | undefined;
  const watch = (stream: NodeJS.ReadableStream): void => {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line.length === 0) continue;
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        if (RUNNING_LINE.test(line)) onRunning?.();
        if (/\b(WARN|ERROR)\b/.test(line)) log.warn({ line }, 'kafka streams peer');
      }
    });
  };
  watch(child.stdout!);
  watch(child.stderr!);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  const stop = async (graceMs = 30_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const startTimeoutMs = o.startTimeoutMs ?? 120_000;
  const outcome = await new Promise<'running' | 'exited' | 'timeout'>((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), startTimeoutMs);
    onRunning = () => {
      clearTimeout(timer);
      resolve('running');
    };
    void exited.then(() => {
      clearTimeout(timer);
      resolve('exited');
    });
  });
  onRunning = undefined;
  if (outcome !== 'running') {
    await stop(5_000);
    const why = outcome === 'exited' ? `exited with code ${await exited}` : `did not reach RUNNING within ${startTimeoutMs} ms`;
    throw new ProcessStartError(`the Kafka Streams peer ${why}; last lines:\n${tail.join('\n')}`);
  }
  log.info({ applicationId, threads: o.threads }, 'kafka streams peer running');
  return { pid, groupId: kafkaStreamsPeerGroupId(o.prefix), exited, tail: () => [...tail], stop };
}

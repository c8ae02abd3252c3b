/**
 * What exactly-once costs our dedup worker on its Kafka client, read at the end of a peers run
 * before the workers stop: the transactional producers it holds open, the Kafka transactions per
 * commit (one with KIP-447; one per partition with work on kafkajs, which has none), and the TCP
 * connections its process holds to the broker (every kafkajs producer is a client of its own).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { KafkaDriverName } from '../../runtime/kafka/create-driver.js';
import { topicNames } from '../../voting/topics.js';
import { votingTopology } from '../../voting/topology.js';
import { scrapeMetrics, sumMetric } from '../metrics-scrape.js';

/** One worker process's figures. */
export interface WorkerCost {
  readonly pid: number;
  /** votestream_transactional_producers of the dedup sub-topology. */
  readonly transactionalProducers: number;
  /** votestream_transactions_total of the dedup sub-topology. */
  readonly transactions: number;
  /** votestream_commits_total of the dedup sub-topology. */
  readonly commits: number;
  /** Established TCP connections of the process to a broker port; absent without /proc (not Linux). */
  readonly brokerConnections?: number;
}

/** A run's figures: the workers' sums, and each worker's. */
export interface ExactlyOnceCost {
  readonly driver: KafkaDriverName;
  readonly transactionalProducers: number;
  readonly transactions: number;
  readonly commits: number;
  /** transactions / commits, 2 decimals. */
  readonly transactionsPerCommit: number;
  readonly brokerConnections?: number;
  readonly workers: readonly WorkerCost[];
}

/**
 * The id the runtime labels the dedup sub-topology's metrics with: the sub-topology reading
 * `votes`, as `describe` numbers it for a `--roles dedup` worker.
 */
export function dedupSubtopologyId(prefix: string): string {
  const votes = topicNames(prefix).votes;
  const sub = votingTopology({ prefix, roles: ['dedup'] })
    .describe()
    .subTopologies.find((s) => s.nodes.some((n) => n.type === 'source' && n.topics.includes(votes)));
  // The dedup role always reads `votes`: without it the topology itself would be broken.
  return String(sub?.id ?? 0);
}

/** The broker ports of a bootstrap list (`host:port,...`). */
export function brokerPorts(brokers: string): Set<number> {
  return new Set(brokers.split(',').map((b) => Number(b.slice(b.lastIndexOf(':') + 1))));
}

/**
 * Established TCP connections of process `pid` to any of `ports`: its socket inodes
 * (/proc/<pid>/fd) matched against its network namespace's socket table (/proc/<pid>/net/tcp and
 * tcp6, state 01 = ESTABLISHED, remote port in hex). No `ss`, no root: a process we started is
 * ours to read. Counts only sockets the process holds itself (the table lists the whole
 * namespace, the broker's side and the other contenders' included). Undefined without /proc.
 */
export function brokerConnections(pid: number, ports: ReadonlySet<number>): number | undefined {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(m[1]);
    } catch {
      // The fd closed between the listing and the readlink.
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '01') continue;
      const remotePort = parseInt(f[2].slice(f[2].lastIndexOf(':') + 1), 16);
      if (ports.has(remotePort) && inodes.has(f[9])) count++;
    }
  }
  return count;
}

/**
 * Scrapes each worker until two reads in a row agree on its transactions and commits: a commit
 * whose transaction has ended but whose bookkeeping has not (the commit counter moves after the
 * stores) would otherwise show one transaction too many. Undefined when a worker does not answer.
 */
export async function measureExactlyOnceCost(o: {
  readonly driver: KafkaDriverName;
  readonly prefix: string;
  readonly brokers: string;
  readonly workers: readonly { readonly pid: number; readonly metricsUrl: string | undefined }[];
}): Promise<ExactlyOnceCost | undefined> {
  const where = { subtopology: dedupSubtopologyId(o.prefix) };
  const ports = brokerPorts(o.brokers);
  const read = async (url: string) => {
    const text = await scrapeMetrics(url);
    if (text === '') return undefined;
    return {
      transactionalProducers: sumMetric(text, 'votestream_transactional_producers', where),
      transactions: sumMetric(text, 'votestream_transactions_total', where),
      commits: sumMetric(text, 'votestream_commits_total', where),
    };
  };
  const workers: WorkerCost[] = [];
  for (const w of o.workers) {
    if (w.metricsUrl === undefined) return undefined;
    let last = await read(w.metricsUrl);
    for (let i = 0; i < 10 && last !== undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const next = await read(w.metricsUrl);
      const settled = next !== undefined && next.transactions === last.transactions && next.commits === last.commits;
      last = next;
      if (settled) break;
    }
    if (last === undefined) return undefined;
    const connections = brokerConnections(w.pid, ports);
    workers.push({ pid: w.pid, ...last, ...(connections !== undefined ? { brokerConnections: connections } : {}) });
  }
  const sum = (f: (w: WorkerCost) => number) => workers.reduce((n, w) => n + f(w), 0);
  const transactions = sum((w) => w.transactions);
  const commits = sum((w) => w.commits);
  return {
    driver: o.driver,
    transactionalProducers: sum((w) => w.transactionalProducers),
    transactions,
    commits,
    transactionsPerCommit: commits === 0 ? 0 : Math.round((transactions / commits) * 100) / 100,
    ...(workers.every((w) => w.brokerConnections !== undefined) ? { brokerConnections: sum((w) => w.brokerConnections!) } : {}),
    workers,
  };
}

/**
 * When has the dedup part of the voting workers finished its input? When the dedup group's committed
 * offsets on `votes` reach the topic's end offsets. Offsets commit together with the outputs (in the
 * same transaction under exactly_once_v2; after the outputs are acknowledged under at_least_once), so
 * at that moment every `votes-accepted` and `votes-rejected` record is committed.
 *
 * Why not the outputs' read_committed end offsets: under exactly_once_v2 every transaction leaves a
 * commit marker in each partition it wrote, so end offsets overcount records by the number of
 * commits. `votes` is written without transactions, so its offsets are exact record counts.
 */
import type { KafkaAdmin, TopicPartitionOffset } from '../runtime/kafka/driver.js';
import { votingApplicationId } from '../voting/topology.js';
import { topicNames } from '../voting/topics.js';
import { BenchmarkError } from './errors.js';

/** The dedup sub-topology's group: the app id and its first source node, `votes-source` (see StreamThread). */
export function dedupGroupId(prefix: string): string {
  return `${votingApplicationId(prefix)}-votes-source`;
}

export interface DedupCompletion {
  /** Date.now() when the committed offsets were first seen at the end. */
  readonly doneAt: number;
  /** Date.now() when the first committed progress was seen (the workers had joined and processed). */
  readonly firstProgressAt: number;
  /** (ms since `since`, records committed) every poll: the progress curve. */
  readonly curve: ReadonlyArray<readonly [number, number]>;
}

const sum = (xs: readonly TopicPartitionOffset[]): number => xs.reduce((n, x) => n + Number(x.offset), 0);

export async function waitForDedup(o: {
  readonly admin: KafkaAdmin;
  readonly prefix: string;
  readonly since: number;
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly onProgress?: (committed: number, total: number) => void;
  /** Rejects when something else failed (e.g. a worker died): the wait stops at once. */
  readonly abort?: Promise<never>;
  /** The group to watch; default our dedup group (a peer, e.g. Kafka Streams, has its own). */
  readonly groupId?: string;
}): Promise<DedupCompletion> {
  const votes = topicNames(o.prefix).votes;
  const group = o.groupId ?? dedupGroupId(o.prefix);
  const end = await o.admin.endOffsets([votes], 'read_uncommitted');
  const total = sum(end);
  const deadline = Date.now() + o.timeoutMs;
  const curve: Array<readonly [number, number]> = [];
  let firstProgressAt = 0;
  let aborted: unknown;
  o.abort?.catch((err: unknown) => (aborted = err));
  for (;;) {
    if (aborted !== undefined) throw aborted;
    const committed = sum(await o.admin.committedOffsets(group, [votes]).catch(() => []));
    const now = Date.now();
    curve.push([now - o.since, committed]);
    if (committed > 0 && firstProgressAt === 0) firstProgressAt = now;
    o.onProgress?.(committed, total);
    if (committed >= total) return { doneAt: now, firstProgressAt, curve };
    if (now > deadline) throw new BenchmarkError('BENCHMARK_TIMEOUT', `dedup did not finish within ${o.timeoutMs} ms: ${committed} of ${total} votes committed`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
  }
}

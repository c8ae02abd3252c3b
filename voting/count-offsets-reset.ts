/**
 * Rewinds the count path's consumer group after a Redis rebuild (DESIGN section 4: "a sink's
 * fences are its progress").
 *
 * `rebuildRedis` resets an election's Redis state and fences to what DynamoDB holds. Redis may have
 * been AHEAD of DynamoDB (the count path is the fast one), yet the count group's committed offsets
 * still say "done up to here": left alone, the count path would never re-apply the votes DynamoDB
 * did not have. So, per partition p of `votes-accepted`:
 *
 *   new count offset = min(count committed_p, persist committed_p)
 *
 * Everything below the persist group's committed offset is in DynamoDB (the persist path writes its
 * sink before it commits), hence covered by the rebuilt fences; everything from there on is
 * re-read, and the fences skip what is already counted. Rewinding the group touches every election
 * on the topic, which is harmless for the same reason. Never moving an offset forward keeps the
 * elections that were not rebuilt intact. The broker only accepts the change while the group has
 * no members, so a running count path is refused both here and by the broker.
 */
import { Admin } from '@platformatic/kafka';
import type { KafkaAdmin, KafkaDriver } from '../runtime/kafka/driver.js';
import { VotestreamError } from '../runtime/errors.js';
import type { VotingErrorCode } from './error-codes.js';
import { topicNames } from './topics.js';
import { votingApplicationId, votingTopology, type VotingRole } from './topology.js';

/** The count path is running (its group has members): a rebuild now would be overwritten. */
export class CountPathRunningError extends VotestreamError<VotingErrorCode> {
  constructor(message: string) {
    super('COUNT_PATH_RUNNING', message);
  }
}

/** One partition's step of the reset; `to < from` when the offset moves. */
export interface CountOffsetStep {
  readonly partition: number;
  /** The count group's committed offset; null when it has none (it then starts from the log start anyway). */
  readonly from: bigint | null;
  /** The persist group's committed offset; null when it has none (DynamoDB covers nothing of p). */
  readonly persist: bigint | null;
  readonly to: bigint | null;
  readonly moves: boolean;
}

export interface CountOffsetsPlanInput {
  readonly partitions: number;
  /** partition -> the count group's committed offset (absent: none). */
  readonly count: ReadonlyMap<number, bigint>;
  /** partition -> the persist group's committed offset (absent: none). */
  readonly persist: ReadonlyMap<number, bigint>;
  /** partition -> the log start offset of `votes-accepted`. */
  readonly logStart: ReadonlyMap<number, bigint>;
}

/**
 * The pure part: for each partition, where the count group must resume. A partition the persist
 * group never committed is rewound to the log start (DynamoDB may hold nothing of it); a partition
 * the count group never committed is left alone (it starts from the log start already).
 */
export function planCountOffsetsReset(input: CountOffsetsPlanInput): CountOffsetStep[] {
  const steps: CountOffsetStep[] = [];
  for (let partition = 0; partition < input.partitions; partition++) {
    const from = input.count.get(partition) ?? null;
    const persist = input.persist.get(partition) ?? null;
    if (from === null) {
      steps.push({ partition, from, persist, to: null, moves: false });
      continue;
    }
    const floor = persist ?? input.logStart.get(partition) ?? 0n;
    const to = floor < from ? floor : from;
    steps.push({ partition, from, persist, to, moves: to < from });
  }
  return steps;
}

/** The consumer group of one voting role, named exactly as the runtime names it (first source node). */
export function votingGroupId(prefix: string, role: VotingRole): string {
  const sub = votingTopology({ prefix, roles: [role] }).subTopologies[0];
  const source = sub.nodes.find((n) => n.kind === 'source');
  return `${votingApplicationId(prefix)}-${source?.name ?? `sub${sub.id}`}`;
}

export interface GroupActivity {
  readonly groupId: string;
  /** Broker's group state, e.g. EMPTY, DEAD, STABLE, PREPARINGREBALANCE. */
  readonly state: string;
  /** `clientId@host` of each member. */
  readonly members: string[];
}

/** Who is in a consumer group right now (DescribeGroups; a group that never existed is DEAD with no members). */
export async function describeGroupActivity(brokers: string, groupId: string): Promise<GroupActivity> {
  const admin = new Admin({ clientId: 'votestream-rebuild-groups', bootstrapBrokers: brokers.split(','), timeout: 15_000, retries: 3, retryDelay: 250 });
  try {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    if (group === undefined) return { groupId, state: 'DEAD', members: [] };
    return { groupId, state: group.state, members: [...group.members.values()].map((m) => `${m.clientId}@${m.clientHost}`) };
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Throws CountPathRunningError when the group has members. */
export function assertGroupIdle(activity: GroupActivity): void {
  if (activity.members.length === 0) return;
  throw new CountPathRunningError(
    `the count path is running: consumer group ${activity.groupId} is ${activity.state} with ${activity.members.length} member(s) (${activity.members.join(', ')}). ` +
      'Stop every worker that runs the count role first (run the others with --roles dedup persist); ' +
      'a worker that was killed leaves the group when its session times out (10 s by default).',
  );
}

export interface ResetCountOffsetsOptions {
  readonly brokers: string;
  readonly driver: KafkaDriver;
  readonly prefix?: string;
  /** Compute and return the plan without altering anything. */
  readonly dryRun?: boolean;
}

export interface ResetCountOffsetsResult {
  readonly countGroup: string;
  readonly persistGroup: string;
  readonly topic: string;
  readonly steps: CountOffsetStep[];
}

function byPartition(offsets: readonly { partition: number; offset: bigint }[]): Map<number, bigint> {
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}

/** Reads both groups' offsets, plans, and (unless dryRun) commits the moves for the idle count group. */
export async function resetCountOffsets(options: ResetCountOffsetsOptions): Promise<ResetCountOffsetsResult> {
  const prefix = options.prefix ?? '';
  const topic = topicNames(prefix).votesAccepted;
  const countGroup = votingGroupId(prefix, 'count');
  const persistGroup = votingGroupId(prefix, 'persist');
  assertGroupIdle(await describeGroupActivity(options.brokers, countGroup));
  const admin: KafkaAdmin = options.driver.createAdmin({ clientId: 'votestream-rebuild-offsets' });
  let steps: CountOffsetStep[];
  try {
    const partitions = (await admin.partitionCounts([topic])).get(topic) ?? 0;
    steps = planCountOffsetsReset({
      partitions,
      count: byPartition(await admin.committedOffsets(countGroup, [topic])),
      persist: byPartition(await admin.committedOffsets(persistGroup, [topic])),
      logStart: byPartition(await admin.beginningOffsets([topic])),
    });
  } finally {
    await admin.close();
  }
  const moves = steps.filter((s) => s.moves);
  if (options.dryRun !== true && moves.length > 0) {
    const client = new Admin({ clientId: 'votestream-rebuild-offsets', bootstrapBrokers: options.brokers.split(','), timeout: 15_000, retries: 3, retryDelay: 250 });
    try {
      await client.alterConsumerGroupOffsets({
        groupId: countGroup,
        topics: [{ name: topic, partitionOffsets: moves.flatMap((s) => (s.to === null ? [] : [{ partition: s.partition, offset: s.to }])) }],
      });
    } catch (err) {
      // A member that joined after the check makes the broker refuse (UNKNOWN_MEMBER_ID and the like).
      const activity = await describeGroupActivity(options.brokers, countGroup).catch(() => undefined);
      if (activity !== undefined) assertGroupIdle(activity);
      throw err;
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  return { countGroup, persistGroup, topic, steps };
}

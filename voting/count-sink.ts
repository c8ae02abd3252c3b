/**
 * The live vote counts (DESIGN section 3) as a configuration of the generic fenced Redis counter
 * sink: the group is the election, a vote adds 1 to its candidate in `vs:{E}:counts` and, with a
 * region, 1 to `region:candidate` in `vs:{E}:regions`; `_total` counts the votes; the fence is
 * `vs:{E}:offsets`, the watermark `vs:watermarks` (on a Redis Cluster `vs:{E}:watermarks` and
 * `vs:{partition:P}:counted`), and each applied batch is announced on
 * `vs:{E}:updates` with the candidate deltas.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import type { FieldIncrement } from '../sinks/count-deltas.js';
import { RedisCountSink, type RedisCountLayout } from '../sinks/redis-count-sink.js';
import type { RedisClient } from '../sinks/redis-client.js';
import type { BackoffOptions } from '../sinks/retry.js';
import type { SinkRecord } from '../sinks/sink.js';
import { countProgressKey, countsKey, electionWatermarksKey, offsetsKey, regionField, regionsKey, TOTAL_FIELD, updatesChannel, watermarksKey } from './redis-keys.js';
import type { AcceptedVote } from './vote.js';

const COUNTS = 'counts';
const REGIONS = 'regions';

/** The vote counts' layout under the deployment's key prefix. */
export function voteCountLayout(prefix = ''): RedisCountLayout<string, AcceptedVote> {
  return {
    hashes: [COUNTS, REGIONS],
    group: (record: SinkRecord<string, AcceptedVote>) => record.value.electionId,
    increments: (record: SinkRecord<string, AcceptedVote>): FieldIncrement[] => {
      const vote = record.value;
      const increments: FieldIncrement[] = [{ hash: COUNTS, field: vote.candidateId, by: 1 }];
      // A vote without a region counts only in the candidate counts.
      if (vote.region !== undefined) increments.push({ hash: REGIONS, field: regionField(vote.region, vote.candidateId), by: 1 });
      return increments;
    },
    hashKey: (electionId, hash) => (hash === COUNTS ? countsKey(electionId, prefix) : regionsKey(electionId, prefix)),
    fenceKey: (electionId) => offsetsKey(electionId, prefix),
    watermarkKey: watermarksKey(prefix),
    recordCount: { hash: COUNTS, field: TOTAL_FIELD },
    publish: { channel: (electionId) => updatesChannel(electionId, prefix), groupField: 'electionId', recordsField: 'votes', deltasOf: COUNTS, deltasField: 'counts' },
    cluster: { groupWatermarkKey: (electionId) => electionWatermarksKey(electionId, prefix), progressKey: (partition) => countProgressKey(partition, prefix) },
  };
}

export interface VoteCountSinkOptions {
  /** A URL (the sink opens and closes its own connection) or a client the caller owns and closes. */
  readonly redis: string | RedisClient;
  /** The deployment prefix in front of every key and channel (DESIGN section 3). Default none. */
  readonly prefix?: string;
  readonly registry?: Registry;
  readonly logger?: Logger;
  readonly backoff?: BackoffOptions;
}

/** The count role's sink: `votes-accepted` -> the election counts in Redis, exactly once. */
export class VoteCountSink extends RedisCountSink<string, AcceptedVote> {
  constructor(options: VoteCountSinkOptions) {
    const { prefix, ...rest } = options;
    super({ ...rest, layout: voteCountLayout(prefix) });
  }
}

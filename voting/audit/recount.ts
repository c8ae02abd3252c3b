/**
 * The recount (issue 12): the result of an election from the DynamoDB vote log alone. Every chain
 * is read and verified (recount-chains.ts), each voter must appear once in the whole election, and
 * the counts per candidate and per region come with the election root (DESIGN section 3) that a
 * signed checkpoint then commits to. Nothing here writes; official-result.ts publishes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { forEachBounded } from '../../sinks/bounded-parallel.js';
import { chainPk, electionRoot } from '../hash-chain.js';
import { electionPartitions, RecountRefusedError, walkChain } from './recount-chains.js';

export interface RecountOptions {
  readonly dynamodb: DynamoDBClient;
  /** The `votestream-votes` table. */
  readonly table: string;
  readonly electionId: string;
  /** The chains to read; default every chain the election has in the table. */
  readonly partitions?: readonly number[];
  /** Chains read at once (each is one paginated Query). Default 4. */
  readonly concurrency?: number;
  /** Progress: votes read so far, and the votes the chains' heads announce. */
  readonly onProgress?: (votesRead: number, votesExpected: number) => void;
  readonly nowMs?: () => number;
}

/** One chain's part of the election tree. */
export interface ChainSummary {
  readonly partition: number;
  readonly size: number;
  /** The Merkle Tree Hash of its vote hashes in seq order, hex. */
  readonly root: string;
}

export interface Recount {
  readonly electionId: string;
  readonly total: number;
  /** candidateId -> count. */
  readonly counts: Record<string, number>;
  /** region -> candidateId -> count (votes without a region are in `counts` only). */
  readonly regions: Record<string, Record<string, number>>;
  /** Chains with votes, in partition order (the leaves of the election tree). */
  readonly chains: readonly ChainSummary[];
  /** The election root, hex. */
  readonly root: string;
  /** When the vote log was read and verified (ms). */
  readonly verifiedAt: number;
}

/** Recounts election `electionId`; throws RecountRefusedError when its vote log does not verify. */
export async function recountElection(o: RecountOptions): Promise<Recount> {
  const found = o.partitions === undefined ? await electionPartitions(o.dynamodb, o.table, o.electionId) : undefined;
  const partitions = o.partitions ?? found!.map((c) => c.partition);
  const expected = found?.reduce((n, c) => n + c.votes, 0) ?? 0;
  const counts = new Map<string, number>();
  const regions = new Map<string, Map<string, number>>();
  // voterId -> the chain and seq that counted it: a second appearance is a vote counted twice.
  const voters = new Map<string, string>();
  const chains: ChainSummary[] = [];
  let total = 0;
  await forEachBounded([...partitions], o.concurrency ?? 4, async (partition) => {
    const walk = await walkChain({
      dynamodb: o.dynamodb,
      table: o.table,
      electionId: o.electionId,
      partition,
      onVote: (vote) => {
        const where = `${chainPk(o.electionId, partition)} seq ${vote.seq}`;
        const earlier = voters.get(vote.voterId);
        if (earlier !== undefined) throw new RecountRefusedError(`voter ${vote.voterId} appears twice: ${earlier} and ${where}`);
        voters.set(vote.voterId, where);
        counts.set(vote.candidateId, (counts.get(vote.candidateId) ?? 0) + 1);
        if (vote.region !== undefined) {
          const byCandidate = regions.get(vote.region) ?? new Map<string, number>();
          byCandidate.set(vote.candidateId, (byCandidate.get(vote.candidateId) ?? 0) + 1);
          regions.set(vote.region, byCandidate);
        }
        total++;
        if (total % 10_000 === 0) o.onProgress?.(total, expected);
      },
    });
    if (walk !== undefined && walk.size > 0) chains.push({ partition, size: walk.size, root: walk.root });
    o.onProgress?.(total, expected);
  });
  chains.sort((a, b) => a.partition - b.partition);
  return {
    electionId: o.electionId,
    total,
    counts: sortedRecord(counts),
    regions: Object.fromEntries([...regions.keys()].sort().map((r) => [r, sortedRecord(regions.get(r)!)])),
    chains,
    root: electionRoot(chains),
    verifiedAt: (o.nowMs ?? Date.now)(),
  };
}

// Sorted keys: two recounts of one log serialize alike, which is how a republish is recognised.
function sortedRecord(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m.keys()].sort().map((k) => [k, m.get(k)!]));
}

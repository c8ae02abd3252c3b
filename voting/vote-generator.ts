import { createHash } from 'node:crypto';
import type { Election } from './election.js';
import type { Vote } from './vote.js';

export interface VoteGeneratorOptions {
  /** Votes in all, duplicates included. */
  readonly count: number;
  /** Share of votes that repeat an earlier (election, voter) pair, 0..1. */
  readonly duplicateRatio: number;
  readonly elections: readonly Election[];
  /** Same seed, same votes: tests and benchmarks are repeatable. */
  readonly seed?: number;
  /** The `ts` of the first vote; later ones add 1 ms each. */
  readonly startTs?: number;
  /** Voter ids are `<voterPrefix><n>` (default `u`): distinct prefixes give distinct voters. */
  readonly voterPrefix?: string;
}

export interface GeneratedVotes {
  readonly votes: Vote[];
  /** `electionId:voterId` -> voteId of its first vote: exactly what must be accepted. */
  readonly firstVoteIds: Map<string, string>;
  readonly duplicates: number;
}

/** A small fast PRNG (mulberry32): deterministic, good enough to spread load. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A v4-shaped UUID derived from a counter and seed, so votes are reproducible. */
function uuidFor(seed: number, n: number, salt = ''): string {
  const h = createHash('sha1').update(`${salt}${seed}:${n}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Votes for the given (open) elections: each distinct voter votes once per election it appears in,
 * and `duplicateRatio` of all votes repeat an earlier pair with a new voteId and candidate, always
 * after the original in the same partition order (same key), so the first one is the one counted.
 */
export function generateVotes(o: VoteGeneratorOptions): GeneratedVotes {
  const rand = prng(o.seed ?? 42);
  const startTs = o.startTs ?? 1_763_800_000_000;
  const duplicates = Math.round(o.count * o.duplicateRatio);
  const distinct = o.count - duplicates;
  const votes: Vote[] = [];
  const firstVoteIds = new Map<string, string>();
  const pairs: Vote[] = [];
  let n = 0;
  const make = (election: Election, voterId: string): Vote => {
    const candidate = election.candidates[Math.floor(rand() * election.candidates.length)];
    const region = election.regions.length > 0 && rand() < 0.8 ? election.regions[Math.floor(rand() * election.regions.length)] : undefined;
    const vote: Vote = {
      voteId: uuidFor(o.seed ?? 42, n, o.voterPrefix),
      electionId: election.electionId,
      voterId,
      candidateId: candidate.id,
      ts: startTs + n,
      ...(region !== undefined ? { region } : {}),
    };
    n++;
    return vote;
  };
  for (let i = 0; i < distinct; i++) {
    const election = o.elections[i % o.elections.length];
    const vote = make(election, `${o.voterPrefix ?? 'u'}${i}`);
    votes.push(vote);
    pairs.push(vote);
    firstVoteIds.set(`${vote.electionId}:${vote.voterId}`, vote.voteId);
    // Spread the duplicates through the stream rather than all at the end.
    if (votes.length - pairs.length < duplicates && i > 0 && rand() < duplicates / distinct) {
      const original = pairs[Math.floor(rand() * pairs.length)];
      votes.push(make(o.elections.find((e) => e.electionId === original.electionId)!, original.voterId));
    }
  }
  while (votes.length < o.count) {
    const original = pairs[Math.floor(rand() * pairs.length)];
    votes.push(make(o.elections.find((e) => e.electionId === original.electionId)!, original.voterId));
  }
  return { votes, firstVoteIds, duplicates: votes.length - distinct };
}

/**
 * Open elections for tests and benchmarks: version 1 of each, effective from its opening, with
 * candidates c1..cN, regions and a window covering the votes. Fixed values, so publishing them
 * again (another `simulate` run) republishes identical versions, which the workers ignore.
 */
export function sampleElections(count: number, options: { candidates?: number; prefix?: string } = {}): Election[] {
  return Array.from({ length: count }, (_, i) => ({
    electionId: `${options.prefix ?? 'e'}${i + 1}`,
    title: `Election ${i + 1}`,
    candidates: Array.from({ length: options.candidates ?? 4 }, (_, c) => ({ id: `c${c + 1}`, name: `Candidate ${c + 1}` })),
    regions: ['N', 'S', 'E', 'W'],
    version: 1,
    effectiveAt: 1_700_000_000_000,
    opensAt: 1_700_000_000_000,
    closesAt: 1_900_000_000_000,
  }));
}

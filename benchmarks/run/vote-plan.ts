/**
 * The deterministic vote schedule of `votestream bench run`: which vote is due when, who casts it,
 * and therefore exactly what the counts must be once the run has drained. Every generator process
 * rebuilds the same plan from the same options (no state is shipped between processes), so the
 * plan is a pure function of its options: a seeded PRNG, never Math.random or the clock.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../runtime/errors.js';
import type { Election } from '../../voting/election.js';
import type { Vote } from '../../voting/vote.js';
import { prng } from '../../voting/vote-generator.js';

export interface VotePlanOptions {
  readonly runId: string;
  /** Votes per second offered. */
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  /** Cap on distinct voters: once reached, every further vote is a duplicate. */
  readonly voters: number;
  /** Probability (0..1) that a vote repeats an earlier voter. */
  readonly dupRatio: number;
  readonly elections: number;
  readonly candidates: number;
  /** 0: votes carry no region. */
  readonly regions: number;
  /** PRNG seed; default derived from runId. */
  readonly seed?: number;
}

/** One vote of the plan. `vote.ts` is 0 here: the sender stamps it with the intended send time. */
export interface PlannedVote {
  readonly i: number;
  /** When the vote is due, in ms after vote 0 was due. */
  readonly dueMs: number;
  readonly vote: Vote;
  /** The voter's first vote in the plan (a later one of the same voter is a duplicate). */
  readonly firstValid: boolean;
  readonly electionId: string;
  readonly candidateId: string;
  readonly region: string | undefined;
}

export interface ElectionExpectation {
  readonly total: number;
  /** candidateId -> count; only candidates with at least one vote (as the Redis hash holds them). */
  readonly counts: Record<string, number>;
  /** `region:candidateId` -> count; only non-zero entries. */
  readonly regions: Record<string, number>;
}

/** A duplicate is due at least this long after its voter's first vote. */
export const DUPLICATE_MIN_GAP_MS = 1000;

/** Election ids of a run: `${runId}-e${k}`, k from 1. */
export function electionIds(o: Pick<VotePlanOptions, 'runId' | 'elections'>): string[] {
  return Array.from({ length: o.elections }, (_, k) => `${o.runId}-e${k + 1}`);
}

const candidateId = (c: number): string => `c${c + 1}`;
const regionId = (r: number): string => `R${r + 1}`;

/**
 * The run's elections: open from a minute before `now` (so no vote of the run, stamped at its
 * send time, can fall before `opensAt`, and `effectiveAt` is safely in the past when the workers
 * read it) until a day after it.
 */
export function planElections(o: VotePlanOptions, now: number): Election[] {
  const opensAt = now - 60_000;
  return electionIds(o).map((electionId, k) => ({
    electionId,
    version: 1,
    effectiveAt: opensAt,
    title: `Bench run ${o.runId} election ${k + 1}`,
    candidates: Array.from({ length: o.candidates }, (_, c) => ({ id: candidateId(c), name: `Candidate ${c + 1}` })),
    regions: Array.from({ length: o.regions }, (_, r) => regionId(r)),
    opensAt,
    closesAt: now + 86_400_000,
  }));
}

/** A stateless 32-bit mix of (seed, n) (murmur3's finaliser), for per-voter choices. */
function mix(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class VotePlan {
  readonly options: VotePlanOptions;
  /** Votes in the schedule, warm-up included. */
  readonly total: number;
  /** Distinct voters the plan ends up with. */
  readonly voterCount: number;
  readonly electionIds: readonly string[];
  /** voterOf[i]: the voter (0-based) casting vote i. */
  readonly #voterOf: Int32Array;
  /** firstOf[n]: the index of voter n's first vote (increasing in n). */
  readonly #firstOf: Int32Array;
  readonly #seed: number;
  /** The first four groups of the voteIds, from runId; the last 12 digits are i. */
  readonly #uuidHead: string;

  constructor(o: VotePlanOptions) {
    if (!(o.rate > 0) || !(o.durationS >= 0) || !(o.warmupS >= 0) || !(o.voters >= 1) || !(o.dupRatio >= 0 && o.dupRatio <= 1) || !(o.elections >= 1) || !(o.candidates >= 1) || !(o.regions >= 0)) {
      throw new ConfigError(`invalid vote plan options: ${JSON.stringify(o)}`);
    }
    this.options = o;
    this.total = Math.round(o.rate * (o.warmupS + o.durationS));
    this.electionIds = electionIds(o);
    const digest = createHash('sha256').update(o.runId).digest();
    this.#seed = o.seed ?? digest.readUInt32BE(0);
    const hex = digest.toString('hex');
    this.#uuidHead = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-8${hex.slice(15, 18)}`;

    const random = prng(this.#seed);
    const voterOf = new Int32Array(this.total);
    const firstOf = new Int32Array(Math.min(this.total, o.voters));
    let voters = 0;
    // Voters [0, eligible) were first due at least DUPLICATE_MIN_GAP_MS before vote i; firstOf is
    // increasing, so the bound only moves forward.
    let eligible = 0;
    for (let i = 0; i < this.total; i++) {
      const due = this.dueMs(i);
      while (eligible < voters && due - this.dueMs(firstOf[eligible]) >= DUPLICATE_MIN_GAP_MS) eligible++;
      // One draw per vote whatever happens, so a change in one choice does not shift every later one.
      const dupDraw = random();
      const pickDraw = random();
      const duplicate = voters >= o.voters || (dupDraw < o.dupRatio && eligible > 0);
      if (!duplicate) {
        firstOf[voters] = i;
        voterOf[i] = voters++;
      } else if (eligible > 0) {
        voterOf[i] = Math.floor(pickDraw * eligible);
      } else {
        // Only when the voter cap is reached within the first second: no voter is old enough, so
        // the 1 s gap cannot hold; the earliest voter is the closest to it.
        voterOf[i] = 0;
      }
    }
    this.#voterOf = voterOf;
    this.#firstOf = firstOf;
    this.voterCount = voters;
  }

  /** Vote i is due at i/rate s after the start. */
  dueMs(i: number): number {
    return (i * 1000) / this.options.rate;
  }

  voterOf(i: number): number {
    return this.#voterOf[i];
  }

  /** Index of voter n's first vote. */
  firstIndexOf(voter: number): number {
    return this.#firstOf[voter];
  }

  voterId(voter: number): string {
    return `v${this.options.runId}-${voter}`;
  }

  /** RFC 9562 version 4 layout (version nibble 4, variant 10xx), unique per (runId, i). */
  voteId(i: number): string {
    return `${this.#uuidHead}-${i.toString(16).padStart(12, '0')}`;
  }

  /**
   * A voter's election, candidate and region, fixed for all its votes: a duplicate then carries the
   * same choice as its original, so the counts do not depend on which of the two is judged first
   * (over HTTP, a duplicate sent later can overtake its original on another connection).
   * Elections round-robin (each gets a share), candidate and region by a hash of the voter.
   */
  choiceOf(voter: number): { readonly election: number; readonly candidate: number; readonly region: number | undefined } {
    const o = this.options;
    const h = mix(this.#seed, voter);
    return {
      election: voter % o.elections,
      candidate: h % o.candidates,
      region: o.regions === 0 ? undefined : mix(h, voter) % o.regions,
    };
  }

  /** Vote i in full. */
  vote(i: number): PlannedVote {
    const voter = this.#voterOf[i];
    const choice = this.choiceOf(voter);
    const electionId = this.electionIds[choice.election];
    const candidate = candidateId(choice.candidate);
    const region = choice.region === undefined ? undefined : regionId(choice.region);
    const vote: Vote =
      region === undefined
        ? { voteId: this.voteId(i), electionId, voterId: this.voterId(voter), candidateId: candidate, ts: 0 }
        : { voteId: this.voteId(i), electionId, voterId: this.voterId(voter), candidateId: candidate, region, ts: 0 };
    return { i, dueMs: this.dueMs(i), vote, firstValid: this.#firstOf[voter] === i, electionId, candidateId: candidate, region };
  }

  /** The votes in i order; with `share`, only those with i % share.of === share.index (one generator's). */
  *votes(share?: { readonly index: number; readonly of: number }): Generator<PlannedVote> {
    const step = share?.of ?? 1;
    for (let i = share?.index ?? 0; i < this.total; i += step) yield this.vote(i);
  }
}

/**
 * For each counted voter, the index of its earliest acknowledged vote. A voter is counted when ANY
 * of its votes was acknowledged: when its first vote failed (never reached Kafka) and a duplicate
 * did, that duplicate is the one the dedup accepts, with the same choice.
 */
function countedVotes(plan: VotePlan, failed: ReadonlySet<number>): number[] {
  const seen = new Uint8Array(plan.voterCount);
  const out: number[] = [];
  for (let i = 0; i < plan.total; i++) {
    if (failed.has(i)) continue;
    const voter = plan.voterOf(i);
    if (seen[voter] === 1) continue;
    seen[voter] = 1;
    out.push(i);
  }
  return out;
}

/**
 * What Redis must hold per election once every acknowledged vote is counted: each voter with at
 * least one acknowledged vote, once. Every planned election is present, an unvoted one with total 0.
 */
export function expectedCounts(plan: VotePlan, failed: ReadonlySet<number>): Map<string, ElectionExpectation> {
  const out = new Map<string, { total: number; counts: Record<string, number>; regions: Record<string, number> }>();
  for (const id of plan.electionIds) out.set(id, { total: 0, counts: {}, regions: {} });
  for (const i of countedVotes(plan, failed)) {
    const choice = plan.choiceOf(plan.voterOf(i));
    const e = out.get(plan.electionIds[choice.election])!;
    const c = candidateId(choice.candidate);
    e.total++;
    e.counts[c] = (e.counts[c] ?? 0) + 1;
    if (choice.region !== undefined) {
      const key = `${regionId(choice.region)}:${c}`;
      e.regions[key] = (e.regions[key] ?? 0) + 1;
    }
  }
  return out;
}

/**
 * Due times (ms from the start, ascending) of the votes that will be counted, one per counted voter
 * (its earliest acknowledged vote): what the arrival-latency matcher pairs count increments with.
 */
export function firstValidDueTimes(plan: VotePlan, failed: ReadonlySet<number>): number[] {
  return countedVotes(plan, failed).map((i) => plan.dueMs(i));
}

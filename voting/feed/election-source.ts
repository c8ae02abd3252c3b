import type { Election } from '../election.js';

/** What the feed needs of the elections it serves: the gateway's ElectionView has exactly this. */
export interface ElectionSource {
  /** The version of `electionId` in force now, if any. */
  current(electionId: string): Election | undefined;
  /** Every election with at least one version, sorted. */
  ids(): string[];
  /** Why it cannot be trusted right now (not loaded, or failing to read); undefined when fine. */
  readonly problem: string | undefined;
}

/** An election the feed serves: one `elections` holds a version of, in force now or not yet. */
export function isKnownElection(source: ElectionSource, electionId: string): boolean {
  return source.current(electionId) !== undefined || source.ids().includes(electionId);
}

/** An election as `GET /v1/elections` lists it. */
export interface ElectionSummary {
  readonly electionId: string;
  readonly title: string;
  readonly opensAt: number;
  readonly closesAt: number;
}

/** The elections with a version in force now (a version that only starts later is not shown yet). */
export function electionSummaries(source: ElectionSource): ElectionSummary[] {
  const out: ElectionSummary[] = [];
  for (const id of source.ids()) {
    const e = source.current(id);
    if (e !== undefined) out.push({ electionId: e.electionId, title: e.title, opensAt: e.opensAt, closesAt: e.closesAt });
  }
  return out;
}

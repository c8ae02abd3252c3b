/** Voters holding more than one vote, and voteId set differences: the checks shared by verify and invariants. */

/** Voters with more than one vote among `votes`, sorted by voterId, each with its votes in input order. */
export function duplicateVoters<T extends { readonly voterId: string }>(votes: Iterable<T>): [string, T[]][] {
  const byVoter = new Map<string, T[]>();
  for (const v of votes) {
    const list = byVoter.get(v.voterId);
    if (list === undefined) byVoter.set(v.voterId, [v]);
    else list.push(v);
  }
  return [...byVoter].filter(([, list]) => list.length > 1).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The voteIds of `a` not in `b`, sorted. */
export function missingFrom(a: Iterable<string>, b: ReadonlySet<string> | ReadonlyMap<string, unknown>): string[] {
  const out: string[] = [];
  for (const id of new Set(a)) if (!b.has(id)) out.push(id);
  return out.sort();
}

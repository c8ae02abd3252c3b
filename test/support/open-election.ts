import type { Election } from '../../voting/election.js';

/**
 * Version 1 of an election open from a minute before `nowMs` for an hour, with candidates c1 and
 * c2 and regions north and south; `changes` set whatever a test needs otherwise.
 */
export function openElection(electionId: string, nowMs: number, changes: Partial<Election> = {}): Election {
  return {
    electionId,
    version: 1,
    effectiveAt: nowMs - 60_000,
    title: `Election ${electionId}`,
    candidates: [
      { id: 'c1', name: 'One' },
      { id: 'c2', name: 'Two' },
    ],
    regions: ['north', 'south'],
    opensAt: nowMs - 60_000,
    closesAt: nowMs + 3_600_000,
    ...changes,
  };
}

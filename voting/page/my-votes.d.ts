// Types of my-votes.js for the Node tests (the page itself is plain JS, no build step).
export interface MyVote {
  readonly voteId: string;
  /** The candidate's name as the form showed it. */
  readonly candidate: string;
  readonly at: number;
}
export interface VoteStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
export const MAX_KEPT: number;
export function myVotes(storage: VoteStorage, electionId: string): MyVote[];
export function rememberVote(storage: VoteStorage, electionId: string, vote: MyVote): boolean;
export function receiptPath(electionId: string, voteId: string): string;

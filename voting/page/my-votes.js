// The votes this browser cast with the page's form, per election, kept in localStorage: the feed
// serves a vote's receipt only once the election is official, often long after the vote, so the
// page remembers the voteIds the gateway answered and links their receipts when the result comes.
// Free of the DOM (storage is passed in) so that Node tests can import it.

const KEY_PREFIX = 'votestream:my-votes:';
/** Only the most recent ones: a demo page can be clicked many times. */
export const MAX_KEPT = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The votes remembered for an election, oldest first; [] when storage is unavailable or holds junk. */
export function myVotes(storage, electionId) {
  let list;
  try {
    list = JSON.parse(storage.getItem(KEY_PREFIX + electionId) ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(list)) return [];
  return list.filter((v) => v !== null && typeof v === 'object' && typeof v.voteId === 'string' && UUID.test(v.voteId) && typeof v.candidate === 'string' && Number.isFinite(v.at));
}

/** Remembers a vote the gateway accepted ({voteId, candidate: its name, at: ms}); false when storage refused it. */
export function rememberVote(storage, electionId, vote) {
  if (typeof vote.voteId !== 'string' || !UUID.test(vote.voteId)) return false;
  const list = [...myVotes(storage, electionId).filter((v) => v.voteId !== vote.voteId), { voteId: vote.voteId, candidate: String(vote.candidate), at: vote.at }];
  try {
    storage.setItem(KEY_PREFIX + electionId, JSON.stringify(list.slice(-MAX_KEPT)));
    return true;
  } catch {
    // Private mode or a full quota: the vote still counts, only its receipt link is not kept.
    return false;
  }
}

/** Where the feed serves a vote's receipt (DESIGN section 3). */
export function receiptPath(electionId, voteId) {
  return `/v1/elections/${encodeURIComponent(electionId)}/receipts/${encodeURIComponent(voteId)}`;
}

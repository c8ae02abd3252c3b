package dev.votestream.peer;

/**
 * The validation decision for a schema-valid vote against the version in force at its `ts`
 * (voting/decide.ts decideVote): the first rule that applies is the reason; null accepts it
 * (subject to dedup).
 */
final class Decide {
  private Decide() {}

  static String decide(Vote vote, Election version) {
    if (version == null || !version.electionId.equals(vote.electionId)) return "unknown-election";
    if (!version.hasCandidate(vote.candidateId)) return "unknown-candidate";
    if (vote.region != null && !version.regions.isEmpty() && !version.hasRegion(vote.region)) return "malformed";
    if (vote.ts < version.opensAt || vote.ts > version.closesAt) return "closed";
    return null;
  }
}

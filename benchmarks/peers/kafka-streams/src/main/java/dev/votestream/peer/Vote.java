package dev.votestream.peer;

import java.util.Map;

/**
 * A schema-valid vote (DESIGN section 3, voting/vote.ts VoteSchema) and its output values, written
 * exactly as the votestream worker writes them: the vote's fields in schema order, then `source`
 * (votes-accepted) or `reason` (votes-rejected).
 */
final class Vote {
  final String voteId;
  final String electionId;
  final String voterId;
  final String candidateId;
  /** Null when the vote names no region. */
  final String region;
  final long ts;

  private Vote(String voteId, String electionId, String voterId, String candidateId, String region, long ts) {
    this.voteId = voteId;
    this.electionId = electionId;
    this.voterId = voterId;
    this.candidateId = candidateId;
    this.region = region;
    this.ts = ts;
  }

  /** The vote, or null when the object fails the strict schema (then it is rejected `malformed`). */
  static Vote fromObject(Map<String, Object> o) {
    for (String key : o.keySet()) {
      switch (key) {
        case "voteId", "electionId", "voterId", "candidateId", "region", "ts" -> {}
        default -> {
          return null;
        }
      }
    }
    Object voteId = o.get("voteId");
    Object electionId = o.get("electionId");
    Object voterId = o.get("voterId");
    Object candidateId = o.get("candidateId");
    Object region = o.get("region");
    Object ts = o.get("ts");
    if (!Ids.isUuid(voteId)) return null;
    if (!Ids.isId(electionId, Ids.MAX_ELECTION_ID_LENGTH)) return null;
    if (!Ids.isId(voterId, Ids.MAX_VOTER_ID_LENGTH)) return null;
    if (!Ids.isId(candidateId, Ids.MAX_CANDIDATE_ID_LENGTH)) return null;
    if (region != null && !Ids.isId(region, Ids.MAX_REGION_LENGTH)) return null;
    if (!Ids.isNonNegativeSafeInt(ts)) return null;
    return new Vote((String) voteId, (String) electionId, (String) voterId, (String) candidateId, (String) region, (long) (double) (Double) ts);
  }

  private StringBuilder fields() {
    StringBuilder sb = new StringBuilder(200);
    sb.append("{\"voteId\":");
    JsJsonWriter.writeString(sb, voteId);
    sb.append(",\"electionId\":");
    JsJsonWriter.writeString(sb, electionId);
    sb.append(",\"voterId\":");
    JsJsonWriter.writeString(sb, voterId);
    sb.append(",\"candidateId\":");
    JsJsonWriter.writeString(sb, candidateId);
    if (region != null) {
      sb.append(",\"region\":");
      JsJsonWriter.writeString(sb, region);
    }
    return sb.append(",\"ts\":").append(ts);
  }

  /** The `votes-accepted` value: the vote plus where it was read in `votes`. */
  byte[] accepted(int partition, long offset) {
    return JsJsonWriter.utf8(fields().append(",\"source\":{\"partition\":").append(partition).append(",\"offset\":").append(offset).append("}}").toString());
  }

  /** The `votes-rejected` value for this vote. */
  byte[] rejected(String reason) {
    return JsJsonWriter.utf8(fields().append(",\"reason\":\"").append(reason).append("\"}").toString());
  }
}

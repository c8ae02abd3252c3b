package dev.votestream.peer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One election version (DESIGN section 3; voting/election.ts ElectionSchema): unknown fields are
 * stripped, the rest validated as the worker validates them, so both skip the same bad records.
 */
final class Election {
  final String electionId;
  final long version;
  final long effectiveAt;
  final String title;
  final List<String[]> candidates;
  final List<String> regions;
  final long opensAt;
  final long closesAt;
  private final Set<String> candidateIds;
  private final Set<String> regionSet;

  private Election(String electionId, long version, long effectiveAt, String title, List<String[]> candidates, List<String> regions, long opensAt, long closesAt) {
    this.electionId = electionId;
    this.version = version;
    this.effectiveAt = effectiveAt;
    this.title = title;
    this.candidates = candidates;
    this.regions = regions;
    this.opensAt = opensAt;
    this.closesAt = closesAt;
    this.candidateIds = new HashSet<>();
    for (String[] c : candidates) candidateIds.add(c[0]);
    this.regionSet = new HashSet<>(regions);
  }

  boolean hasCandidate(String id) {
    return candidateIds.contains(id);
  }

  boolean hasRegion(String region) {
    return regionSet.contains(region);
  }

  /** The version, or a reason why it is not one (the caller logs and skips the record). */
  static Object fromObject(Object value) {
    if (!(value instanceof Map<?, ?> o)) return "not a JSON object";
    Object electionId = o.get("electionId");
    if (!Ids.isId(electionId, Ids.MAX_ELECTION_ID_LENGTH)) return "electionId: invalid";
    Object version = o.get("version");
    if (!Ids.isSafeIntAtLeast(version, 1)) return "version: invalid";
    Object effectiveAt = o.get("effectiveAt");
    Object opensAt = o.get("opensAt");
    Object closesAt = o.get("closesAt");
    if (!Ids.isNonNegativeSafeInt(effectiveAt)) return "effectiveAt: invalid";
    if (!Ids.isNonNegativeSafeInt(opensAt)) return "opensAt: invalid";
    if (!Ids.isNonNegativeSafeInt(closesAt)) return "closesAt: invalid";
    Object title = o.get("title");
    if (!(title instanceof String t) || t.length() < 1 || t.length() > 256) return "title: invalid";
    if (!(o.get("candidates") instanceof List<?> cs) || cs.size() < 1 || cs.size() > 10_000) return "candidates: invalid";
    List<String[]> candidates = new ArrayList<>(cs.size());
    Set<String> seen = new HashSet<>();
    for (Object c : cs) {
      if (!(c instanceof Map<?, ?> cm)) return "candidates: invalid";
      Object id = cm.get("id");
      Object name = cm.get("name");
      if (!Ids.isId(id, Ids.MAX_CANDIDATE_ID_LENGTH)) return "candidates: invalid id";
      if (!(name instanceof String n) || n.length() < 1 || n.length() > 256) return "candidates: invalid name";
      if (!seen.add((String) id)) return "candidates: duplicate id";
      candidates.add(new String[] {(String) id, (String) name});
    }
    if (!(o.get("regions") instanceof List<?> rs) || rs.size() > 10_000) return "regions: invalid";
    List<String> regions = new ArrayList<>(rs.size());
    Set<String> seenRegions = new HashSet<>();
    for (Object r : rs) {
      if (!Ids.isId(r, Ids.MAX_REGION_LENGTH)) return "regions: invalid";
      if (!seenRegions.add((String) r)) return "regions: duplicate";
      regions.add((String) r);
    }
    long opens = (long) (double) (Double) opensAt;
    long closes = (long) (double) (Double) closesAt;
    if (!(opens < closes)) return "closesAt: must be greater than opensAt";
    return new Election((String) electionId, (long) (double) (Double) version, (long) (double) (Double) effectiveAt, t, candidates, regions, opens, closes);
  }

  /** The version as an object in DESIGN field order (voting/election.ts encodeElection). */
  Map<String, Object> toObject() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("electionId", electionId);
    out.put("version", version);
    out.put("effectiveAt", effectiveAt);
    out.put("title", title);
    List<Object> cs = new ArrayList<>(candidates.size());
    for (String[] c : candidates) {
      Map<String, Object> cm = new LinkedHashMap<>();
      cm.put("id", c[0]);
      cm.put("name", c[1]);
      cs.add(cm);
    }
    out.put("candidates", cs);
    out.put("regions", new ArrayList<Object>(regions));
    out.put("opensAt", opensAt);
    out.put("closesAt", closesAt);
    return out;
  }

  String encode() {
    StringBuilder sb = new StringBuilder();
    JsJsonWriter.write(sb, toObject());
    return sb.toString();
  }
}

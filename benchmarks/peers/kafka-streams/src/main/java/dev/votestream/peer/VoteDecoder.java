package dev.votestream.peer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes a `votes` value into one of three outcomes, as voting/vote.ts decodeVote does: a valid
 * vote; a JSON object that fails the schema (rejected `malformed`, the raw object kept); or
 * something that is not a JSON object at all (dead-lettered, with the same error text).
 */
final class VoteDecoder {
  enum Kind { VALID, MALFORMED, UNDECODABLE }

  static final class Decoded {
    final Kind kind;
    final Vote vote;
    final Map<String, Object> raw;
    final String error;

    private Decoded(Kind kind, Vote vote, Map<String, Object> raw, String error) {
      this.kind = kind;
      this.vote = vote;
      this.raw = raw;
      this.error = error;
    }
  }

  private VoteDecoder() {}

  /** A JSON object, or the error (a String) worded as voting/vote.ts parseObject words it. */
  static Object parseObject(byte[] bytes) {
    Object value = JsonBytes.parse(bytes);
    if (value instanceof JsonBytes.Failure f) return f.message();
    if (value instanceof Map<?, ?>) return value;
    String what = value == JsonNull.INSTANCE ? "null"
        : value instanceof List<?> ? "an array"
        : value instanceof String ? "a string"
        : value instanceof Double ? "a number"
        : "a boolean";
    return "expected a JSON object, got " + what;
  }

  @SuppressWarnings("unchecked")
  static Decoded decode(byte[] bytes) {
    Object parsed = parseObject(bytes);
    if (parsed instanceof String error) return new Decoded(Kind.UNDECODABLE, null, null, error);
    Map<String, Object> raw = (Map<String, Object>) parsed;
    Vote vote = Vote.fromObject(raw);
    if (vote != null) return new Decoded(Kind.VALID, vote, null, null);
    // voting/vote.ts: an object nested deeper than its rejection could be written back is undecodable.
    if (nestsTooDeep(raw)) return new Decoded(Kind.UNDECODABLE, null, null, "JSON nested deeper than " + MAX_JSON_DEPTH + " levels");
    return new Decoded(Kind.MALFORMED, null, raw, null);
  }

  /** voting/vote.ts MAX_VOTE_JSON_DEPTH. */
  static final int MAX_JSON_DEPTH = 64;

  /** As vote.ts nestsTooDeep: the root is level 1; a container found inside one at the last level is too deep. */
  private static boolean nestsTooDeep(Map<String, Object> root) {
    java.util.ArrayDeque<Object[]> stack = new java.util.ArrayDeque<>();
    stack.push(new Object[] {root, 1});
    while (!stack.isEmpty()) {
      Object[] top = stack.pop();
      int depth = (Integer) top[1];
      Iterable<?> children = top[0] instanceof Map<?, ?> m ? m.values() : (List<?>) top[0];
      for (Object child : children) {
        if (!(child instanceof Map<?, ?>) && !(child instanceof List<?>)) continue;
        if (depth == MAX_JSON_DEPTH) return true;
        stack.push(new Object[] {child, depth + 1});
      }
    }
    return false;
  }

  /** The raw object with `reason: "malformed"` last (a `reason` it carried is dropped), as malformedRejection. */
  static byte[] malformedRejection(Map<String, Object> raw) {
    Map<String, Object> out = new LinkedHashMap<>(raw);
    out.remove("reason");
    out.put("reason", "malformed");
    return JsJsonWriter.toUtf8(out);
  }
}

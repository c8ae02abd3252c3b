package dev.votestream.peer;

import java.util.regex.Pattern;

/** The identifier and UUID rules of the vote contract (voting/vote.ts: ID_PATTERN, UUID_PATTERN). */
final class Ids {
  static final int MAX_ELECTION_ID_LENGTH = 64;
  static final int MAX_VOTER_ID_LENGTH = 128;
  static final int MAX_CANDIDATE_ID_LENGTH = 64;
  static final int MAX_REGION_LENGTH = 64;

  private static final Pattern UUID = Pattern.compile(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
          + "|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff");

  private Ids() {}

  /** `^[A-Za-z0-9][A-Za-z0-9._@+-]*$` within 1..max UTF-16 units, as zod checks it. */
  static boolean isId(Object value, int max) {
    if (!(value instanceof String s)) return false;
    int n = s.length();
    if (n < 1 || n > max) return false;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      boolean alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '@' && c != '+' && c != '-'))) return false;
    }
    return true;
  }

  static boolean isUuid(Object value) {
    return value instanceof String s && s.length() == 36 && UUID.matcher(s).matches();
  }

  /** A JavaScript safe integer >= 0 (zod's `z.int().min(0)`); -0 counts, as it does there. */
  static boolean isNonNegativeSafeInt(Object value) {
    return value instanceof Double d && d == Math.rint(d) && d >= 0 && d <= 9007199254740991d;
  }

  static boolean isSafeIntAtLeast(Object value, long min) {
    return value instanceof Double d && d == Math.rint(d) && Math.abs(d) <= 9007199254740991d && d >= min;
  }
}

package dev.votestream.peer;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes values as JavaScript's JSON.stringify does (Node 20), then UTF-8 as Buffer.from does, so
 * that the peer's `votes-rejected` values for malformed votes (the raw object re-encoded) are the
 * same bytes as the votestream worker's: array-index property names first in numeric order, the
 * others in insertion order; numbers in ECMAScript Number::toString form (non-finite as null); lone
 * surrogates escaped as \\udxxx.
 */
final class JsJsonWriter {
  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final double MAX_SAFE_INTEGER = 9007199254740991d;

  private JsJsonWriter() {}

  static void write(StringBuilder out, Object value) {
    if (value instanceof String s) {
      writeString(out, s);
    } else if (value instanceof Double d) {
      writeNumber(out, d);
    } else if (value instanceof Long l) {
      out.append(l.longValue());
    } else if (value instanceof Integer i) {
      out.append(i.intValue());
    } else if (value instanceof Boolean b) {
      out.append(b.booleanValue());
    } else if (value instanceof Map<?, ?> m) {
      writeObject(out, m);
    } else if (value instanceof List<?> l) {
      out.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) out.append(',');
        write(out, l.get(i));
      }
      out.append(']');
    } else {
      out.append("null");
    }
  }

  private static void writeObject(StringBuilder out, Map<?, ?> map) {
    List<String> indices = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Object k : map.keySet()) {
      String key = (String) k;
      if (isArrayIndex(key)) indices.add(key);
      else names.add(key);
    }
    indices.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
    out.append('{');
    boolean first = true;
    for (List<String> group : List.of(indices, names)) {
      for (String key : group) {
        if (!first) out.append(',');
        first = false;
        writeString(out, key);
        out.append(':');
        write(out, map.get(key));
      }
    }
    out.append('}');
  }

  /** A canonical array index (0 .. 2^32 - 2): JavaScript objects enumerate these first, ascending. */
  static boolean isArrayIndex(String key) {
    int n = key.length();
    if (n == 0 || n > 10) return false;
    if (key.charAt(0) == '0') return n == 1;
    for (int i = 0; i < n; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') return false;
    }
    return Long.parseLong(key) < 4294967295L;
  }

  static void writeString(StringBuilder out, String s) {
    out.append('"');
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
          if (c < 0x20) {
            hexEscape(out, c);
          } else if (Character.isHighSurrogate(c)) {
            if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
              out.append(c).append(s.charAt(++i));
            } else {
              hexEscape(out, c);
            }
          } else if (Character.isLowSurrogate(c)) {
            hexEscape(out, c);
          } else {
            out.append(c);
          }
      }
    }
    out.append('"');
  }

  private static void hexEscape(StringBuilder out, char c) {
    out.append("\\u").append(HEX[(c >> 12) & 15]).append(HEX[(c >> 8) & 15]).append(HEX[(c >> 4) & 15]).append(HEX[c & 15]);
  }

  static void writeNumber(StringBuilder out, double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      out.append("null");
    } else if (d == Math.rint(d) && Math.abs(d) <= MAX_SAFE_INTEGER) {
      // Exact and already shortest; also turns -0 into "0", as JavaScript does.
      out.append((long) d);
    } else {
      out.append(numberToString(d));
    }
  }

  /**
   * ECMAScript Number::toString(10): the fewest significant digits that read back as the same
   * double (the closest such), laid out plainly for exponents -7 < n <= 21, else as d.ddde+x.
   */
  static String numberToString(double d) {
    if (d == 0) return "0";
    String sign = d < 0 ? "-" : "";
    BigDecimal exact = new BigDecimal(Math.abs(d));
    BigDecimal shortest = exact;
    for (int p = 1; p <= 17; p++) {
      BigDecimal candidate = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
      if (candidate.doubleValue() == Math.abs(d)) {
        shortest = candidate;
        break;
      }
    }
    shortest = shortest.stripTrailingZeros();
    String digits = shortest.unscaledValue().toString();
    int k = digits.length();
    int n = k - shortest.scale();
    StringBuilder out = new StringBuilder(sign);
    if (k <= n && n <= 21) {
      out.append(digits);
      for (int i = 0; i < n - k; i++) out.append('0');
    } else if (0 < n && n <= 21) {
      out.append(digits, 0, n).append('.').append(digits, n, k);
    } else if (-6 < n && n <= 0) {
      out.append("0.");
      for (int i = 0; i < -n; i++) out.append('0');
      out.append(digits);
    } else {
      int e = n - 1;
      out.append(digits.charAt(0));
      if (k > 1) out.append('.').append(digits, 1, k);
      out.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
    }
    return out.toString();
  }

  /** UTF-8 as Node's Buffer.from(string) writes it: a lone surrogate becomes U+FFFD. */
  static byte[] utf8(String s) {
    boolean clean = true;
    for (int i = 0; i < s.length() && clean; i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
        else clean = false;
      }
    }
    if (clean) return s.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        sb.append('\uFFFD');
      } else {
        sb.append(c);
      }
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  static byte[] toUtf8(Object value) {
    StringBuilder sb = new StringBuilder(128);
    write(sb, value);
    return utf8(sb.toString());
  }
}

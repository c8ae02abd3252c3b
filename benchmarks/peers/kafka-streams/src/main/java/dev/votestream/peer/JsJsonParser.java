package dev.votestream.peer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses JSON as JavaScript's JSON.parse does in Node 20 (V8 11.3), because the votestream worker
 * decodes votes that way and the peer must judge, re-encode and dead-letter byte for byte alike:
 * numbers become doubles, a repeated property keeps its first position and its last value, and a
 * refusal carries V8's own message (it ends up in the `error` header of `votes-dlq`). Values are
 * LinkedHashMap (objects), ArrayList (arrays), String, Double, Boolean and JsonNull.
 */
final class JsJsonParser {
  /** V8 shows this many characters of context either side of an unexpected token. */
  private static final int CONTEXT = 10;
  private static final int MIN_LENGTH_FOR_CONTEXT = CONTEXT * 2 + 1;

  private final String text;
  private int pos;
  private JsJsonParser(String text) {
    this.text = text;
  }

  static Object parse(String text) throws JsonParseException {
    JsJsonParser p = new JsJsonParser(text);
    p.skipWhitespace();
    Object value = p.value();
    p.skipWhitespace();
    if (p.pos < text.length()) {
      throw new JsonParseException("Unexpected non-whitespace character after JSON at position " + p.pos);
    }
    return value;
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      pos++;
    }
  }

  private Object value() throws JsonParseException {
    if (pos >= text.length()) throw unexpected();
    char c = text.charAt(pos);
    switch (c) {
      case '"':
        return string();
      case '{':
        return object();
      case '[':
        return array();
      case 't':
        literal("true");
        return Boolean.TRUE;
      case 'f':
        literal("false");
        return Boolean.FALSE;
      case 'n':
        literal("null");
        return JsonNull.INSTANCE;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        throw unexpected();
    }
  }

  private Map<String, Object> object() throws JsonParseException {
    pos++; // '{'
    Map<String, Object> out = new LinkedHashMap<>();
    skipWhitespace();
    if (pos < text.length() && text.charAt(pos) == '}') {
      pos++;
      return out;
    }
    if (pos >= text.length() || text.charAt(pos) != '"') {
      throw new JsonParseException("Expected property name or '}' in JSON at position " + pos);
    }
    boolean first = true;
    for (;;) {
      String key = string();
      skipWhitespace();
      if (pos >= text.length() || text.charAt(pos) != ':') {
        // V8 names the expectation only for an object's first property.
        if (first) throw new JsonParseException("Expected ':' after property name in JSON at position " + pos);
        throw unexpected();
      }
      pos++;
      skipWhitespace();
      out.put(key, value());
      first = false;
      skipWhitespace();
      if (pos < text.length() && text.charAt(pos) == '}') {
        pos++;
        return out;
      }
      if (pos >= text.length() || text.charAt(pos) != ',') {
        throw new JsonParseException("Expected ',' or '}' after property value in JSON at position " + pos);
      }
      pos++;
      skipWhitespace();
      if (pos >= text.length() || text.charAt(pos) != '"') {
        throw new JsonParseException("Expected double-quoted property name in JSON at position " + pos);
      }
    }
  }

  private List<Object> array() throws JsonParseException {
    pos++; // '['
    List<Object> out = new ArrayList<>();
    skipWhitespace();
    if (pos < text.length() && text.charAt(pos) == ']') {
      pos++;
      return out;
    }
    for (;;) {
      skipWhitespace();
      out.add(value());
      skipWhitespace();
      if (pos < text.length() && text.charAt(pos) == ']') {
        pos++;
        return out;
      }
      if (pos >= text.length() || text.charAt(pos) != ',') {
        throw new JsonParseException("Expected ',' or ']' after array element in JSON at position " + pos);
      }
      pos++;
    }
  }

  private void literal(String word) throws JsonParseException {
    for (int i = 0; i < word.length(); i++) {
      if (pos >= text.length() || text.charAt(pos) != word.charAt(i)) throw unexpected();
      pos++;
    }
  }

  private Double number() throws JsonParseException {
    int start = pos;
    if (text.charAt(pos) == '-') {
      pos++;
      if (pos >= text.length() || !isDigit(text.charAt(pos))) {
        throw new JsonParseException("No number after minus sign in JSON at position " + pos);
      }
    }
    if (text.charAt(pos) == '0') {
      pos++;
      if (pos < text.length() && isDigit(text.charAt(pos))) throw unexpected();
    } else {
      while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
    }
    if (pos < text.length() && text.charAt(pos) == '.') {
      pos++;
      if (pos >= text.length() || !isDigit(text.charAt(pos))) {
        throw new JsonParseException("Unterminated fractional number in JSON at position " + pos);
      }
      while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
    }
    if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
      pos++;
      if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
      if (pos >= text.length() || !isDigit(text.charAt(pos))) {
        throw new JsonParseException("Exponent part is missing a number in JSON at position " + pos);
      }
      while (pos < text.length() && isDigit(text.charAt(pos))) pos++;
    }
    // Java's parseDouble rounds correctly, as V8 does, so both get the same double.
    return Double.valueOf(text.substring(start, pos));
  }

  private String string() throws JsonParseException {
    pos++; // opening quote
    StringBuilder sb = null;
    int runStart = pos;
    for (;;) {
      if (pos >= text.length()) throw new JsonParseException("Unterminated string in JSON at position " + pos);
      char c = text.charAt(pos);
      if (c == '"') {
        String s = sb == null ? text.substring(runStart, pos) : sb.append(text, runStart, pos).toString();
        pos++;
        return s;
      }
      if (c < 0x20) throw new JsonParseException("Bad control character in string literal in JSON at position " + pos);
      if (c != '\\') {
        pos++;
        continue;
      }
      if (sb == null) sb = new StringBuilder();
      sb.append(text, runStart, pos);
      pos++;
      if (pos >= text.length()) throw new JsonParseException("Unexpected end of JSON input");
      char e = text.charAt(pos);
      switch (e) {
        case '"': sb.append('"'); break;
        case '\\': sb.append('\\'); break;
        case '/': sb.append('/'); break;
        case 'b': sb.append('\b'); break;
        case 'f': sb.append('\f'); break;
        case 'n': sb.append('\n'); break;
        case 'r': sb.append('\r'); break;
        case 't': sb.append('\t'); break;
        case 'u': {
          int code = 0;
          for (int i = 0; i < 4; i++) {
            pos++;
            int digit = pos < text.length() ? Character.digit(text.charAt(pos), 16) : -1;
            if (digit < 0 || text.charAt(pos) > 'f') throw new JsonParseException("Bad Unicode escape in JSON at position " + pos);
            code = code * 16 + digit;
          }
          sb.append((char) code);
          break;
        }
        default:
          throw new JsonParseException("Bad escaped character in JSON at position " + pos);
      }
      pos++;
      runStart = pos;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** V8's message for the token at `pos` when no specific expectation applies. */
  private JsonParseException unexpected() {
    if (pos >= text.length()) return new JsonParseException("Unexpected end of JSON input");
    char c = text.charAt(pos);
    if (c == '"') return new JsonParseException("Unexpected string in JSON at position " + pos);
    if (c == '-' || isDigit(c)) return new JsonParseException("Unexpected number in JSON at position " + pos);
    if (text.equals("NaN") || text.equals("Infinity") || text.equals("undefined") || text.equals("[object Object]")) {
      return new JsonParseException("\"" + text + "\" is not valid JSON");
    }
    String token = String.valueOf(c);
    int length = text.length();
    if (length < MIN_LENGTH_FOR_CONTEXT) {
      return new JsonParseException("Unexpected token '" + token + "', \"" + text + "\" is not valid JSON");
    }
    if (pos < CONTEXT) {
      return new JsonParseException("Unexpected token '" + token + "', \"" + text.substring(0, pos + CONTEXT) + "\"... is not valid JSON");
    }
    if (pos < length - CONTEXT) {
      return new JsonParseException(
          "Unexpected token '" + token + "', ...\"" + text.substring(pos - CONTEXT, pos + CONTEXT) + "\"... is not valid JSON");
    }
    return new JsonParseException("Unexpected token '" + token + "', ...\"" + text.substring(pos - CONTEXT) + "\" is not valid JSON");
  }
}

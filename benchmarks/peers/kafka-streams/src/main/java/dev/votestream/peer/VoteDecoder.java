package dev.votestream.peer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

  /** Strict UTF-8 (no overlongs, no surrogates), as Node's isUtf8; null if the bytes are not. */
  static String strictUtf8(byte[] bytes) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      return decoder.decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Parses a JSON object from UTF-8 bytes; the error reads as voting/vote.ts parseObject words it. */
  static Object parseObject(byte[] bytes) {
    if (bytes == null) return "record value is null";
    String text = strictUtf8(bytes);
    if (text == null) return "record value is not valid UTF-8";
    Object value;
    try {
      value = JsJsonParser.parse(text);
    } catch (JsonParseException e) {
      return "invalid JSON: " + e.getMessage();
    } catch (StackOverflowError e) {
      // V8's parser is iterative and has no depth limit; nesting this deep is never a vote.
      return "invalid JSON: nested too deeply";
    }
    if (value instanceof Map<?, ?>) return value;
    String what = value == JsonNull.INSTANCE ? "null"
        : value instanceof List<?> ? "an array"
        : value instanceof String ? "a string"
        : value instanceof Double ? "a number"
        : "a boolean";
    return "expected a JSON object, got " + what;
  }

  /** Any JSON value (for `elections`), or an Exception whose message says why there is none. */
  static Object parseObjectOrValue(byte[] bytes) {
    if (bytes == null) return new Exception("record value is null");
    String text = strictUtf8(bytes);
    if (text == null) return new Exception("record value is not valid UTF-8");
    try {
      return JsJsonParser.parse(text);
    } catch (JsonParseException | StackOverflowError e) {
      return new Exception("invalid JSON: " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  static Decoded decode(byte[] bytes) {
    Object parsed = parseObject(bytes);
    if (parsed instanceof String error) return new Decoded(Kind.UNDECODABLE, null, null, error);
    Map<String, Object> raw = (Map<String, Object>) parsed;
    Vote vote = Vote.fromObject(raw);
    if (vote != null) return new Decoded(Kind.VALID, vote, null, null);
    return new Decoded(Kind.MALFORMED, null, raw, null);
  }

  /** The raw object with `reason: "malformed"` last (a `reason` it carried is dropped), as malformedRejection. */
  static byte[] malformedRejection(Map<String, Object> raw) {
    Map<String, Object> out = new LinkedHashMap<>(raw);
    out.remove("reason");
    out.put("reason", "malformed");
    return JsJsonWriter.toUtf8(out);
  }
}

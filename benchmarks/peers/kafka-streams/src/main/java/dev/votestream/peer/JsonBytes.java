package dev.votestream.peer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A record value read as the worker reads it: null, not strict UTF-8 (Node's isUtf8: no overlongs,
 * no surrogates), or not JSON are failures with the worker's wording; otherwise the parsed value.
 */
final class JsonBytes {
  /** Why a value is not JSON, worded as voting/vote.ts words it. */
  record Failure(String message) {}

  private JsonBytes() {}

  /** The parsed value (see JsJsonParser), or a Failure. */
  static Object parse(byte[] bytes) {
    if (bytes == null) return new Failure("record value is null");
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return new Failure("record value is not valid UTF-8");
    }
    try {
      return JsJsonParser.parse(text);
    } catch (JsonParseException e) {
      return new Failure("invalid JSON: " + e.getMessage());
    } catch (StackOverflowError e) {
      // V8 parses any depth (its parser is iterative); this parser recurses. Nesting this deep is
      // never a vote nor an election, so it is refused here, with a message V8 would not give.
      return new Failure("invalid JSON: nested too deeply");
    }
  }
}

package dev.votestream.peer;

/** JSON text that JavaScript's JSON.parse would refuse; the message is the one V8 (Node 20) gives. */
final class JsonParseException extends Exception {
  JsonParseException(String message) {
    super(message, null, false, false);
  }
}

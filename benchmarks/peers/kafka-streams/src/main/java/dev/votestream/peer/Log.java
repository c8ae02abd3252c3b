package dev.votestream.peer;

import java.time.Instant;

/** One line per event on stderr, which the TypeScript launcher reads. */
final class Log {
  private Log() {}

  static void info(String message) {
    System.err.println(Instant.now() + " INFO votestream-kafka-streams-peer: " + message);
  }

  static void warn(String message) {
    System.err.println(Instant.now() + " WARN votestream-kafka-streams-peer: " + message);
  }
}

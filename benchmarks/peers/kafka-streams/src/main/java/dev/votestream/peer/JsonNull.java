package dev.votestream.peer;

/** JSON's null as a value, so that a missing property (Java null) and a null one stay apart. */
enum JsonNull {
  INSTANCE
}

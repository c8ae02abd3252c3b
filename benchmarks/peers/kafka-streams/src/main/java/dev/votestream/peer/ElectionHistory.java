package dev.votestream.peer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every version of one election, in version order: the value of the global `elections` store
 * (voting/election.ts mergeElectionVersion and versionAt). Stored as a JSON array of versions.
 */
final class ElectionHistory {
  /** A record that cannot join its election's history; the updater logs and skips it. */
  static final class VersionException extends Exception {
    VersionException(String message) {
      super(message, null, false, false);
    }
  }

  final List<Election> versions;

  private ElectionHistory(List<Election> versions) {
    this.versions = Collections.unmodifiableList(versions);
  }

  static final ElectionHistory EMPTY = new ElectionHistory(new ArrayList<>());

  /** Folds the next `elections` record in; same rules, same order as the worker. */
  ElectionHistory merge(Election incoming, String key) throws VersionException {
    if (key == null || !key.equals(incoming.electionId)) {
      throw new VersionException("record key \"" + key + "\" is not its electionId \"" + incoming.electionId + "\"");
    }
    if (versions.isEmpty()) return new ElectionHistory(new ArrayList<>(List.of(incoming)));
    Election last = versions.get(versions.size() - 1);
    if (incoming.version <= last.version) {
      for (Election v : versions) {
        if (v.version == incoming.version && v.encode().equals(incoming.encode())) return this;
      }
      throw new VersionException("version " + incoming.version + " of \"" + incoming.electionId + "\" conflicts with the history (latest is " + last.version + ")");
    }
    if (incoming.effectiveAt < last.effectiveAt) {
      throw new VersionException("version " + incoming.version + " of \"" + incoming.electionId + "\" is effective at " + incoming.effectiveAt + ", before version " + last.version);
    }
    List<Election> next = new ArrayList<>(versions);
    next.add(incoming);
    return new ElectionHistory(next);
  }

  /** The version in force at `ts`: the greatest effectiveAt <= ts (the later version on a tie), or null. */
  Election versionAt(long ts) {
    for (int i = versions.size() - 1; i >= 0; i--) {
      if (versions.get(i).effectiveAt <= ts) return versions.get(i);
    }
    return null;
  }

  byte[] encode() {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < versions.size(); i++) {
      if (i > 0) sb.append(',');
      sb.append(versions.get(i).encode());
    }
    return sb.append(']').toString().getBytes(StandardCharsets.UTF_8);
  }

  static ElectionHistory decode(byte[] bytes) {
    if (bytes == null) return EMPTY;
    try {
      List<Election> versions = new ArrayList<>();
      for (Object o : (List<?>) JsJsonParser.parse(new String(bytes, StandardCharsets.UTF_8))) {
        versions.add((Election) Election.fromObject(o));
      }
      return new ElectionHistory(versions);
    } catch (JsonParseException | ClassCastException e) {
      // Only this class writes the store, so this is a bug, not a record error.
      throw new IllegalStateException("corrupt elections store value", e);
    }
  }
}

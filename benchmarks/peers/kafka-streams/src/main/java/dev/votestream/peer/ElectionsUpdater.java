package dev.votestream.peer;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the global `elections` store: folds each `elections` record into its election's history.
 * A record that does not decode or cannot join the history is logged and skipped, never fatal
 * (as the worker's global table does): one bad record must not hide the versions after it.
 * Kafka Streams runs this processor on restore too (addGlobalStore reprocesses), so the store
 * always holds histories, never raw records.
 */
final class ElectionsUpdater implements Processor<String, byte[], Void, Void> {
  private KeyValueStore<String, byte[]> store;

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    store = context.getStateStore(PeerTopology.ELECTIONS_STORE);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    Object parsed = JsonBytes.parse(record.value());
    Object election = parsed instanceof JsonBytes.Failure f ? f.message() : Election.fromObject(parsed);
    if (!(election instanceof Election incoming)) {
      Log.warn("skipped an elections record that is not a valid election version: " + election);
      return;
    }
    try {
      ElectionHistory history = ElectionHistory.decode(store.get(incoming.electionId));
      ElectionHistory next = history.merge(incoming, record.key());
      if (next != history) store.put(incoming.electionId, next.encode());
    } catch (ElectionHistory.VersionException e) {
      Log.warn("skipped an elections record: " + e.getMessage());
    }
  }
}

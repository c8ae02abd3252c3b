package dev.votestream.peer;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The Processor API topology of the peer: `elections` into a global store of histories, and
 * `votes` -> dedup -> `votes-accepted` | `votes-rejected` | `votes-dlq`. Sinks use the producer's
 * default partitioner (murmur2 of the key bytes, as the worker's), so partition p in is p out.
 */
final class PeerTopology {
  static final String ELECTIONS_STORE = "elections";
  /** Its changelog is `<application.id>-voters-changelog`. */
  static final String VOTERS_STORE = "voters";
  static final String ACCEPTED_SINK = "accepted-sink";
  static final String REJECTED_SINK = "rejected-sink";
  static final String DLQ_SINK = "dlq-sink";

  private PeerTopology() {}

  static Topology build(String prefix, ElectionsCompleteness completeness) {
    Topology topology = new Topology();
    topology.addGlobalStore(
        // Small and rebuilt from `elections` on every start: a global store keeps no changelog.
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(ELECTIONS_STORE), Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(),
        "elections-source",
        Serdes.String().deserializer(),
        new ByteArrayDeserializer(),
        prefix + "elections",
        "elections-updater",
        ElectionsUpdater::new);
    topology.addSource("votes-source", new ByteArrayDeserializer(), new ByteArrayDeserializer(), prefix + "votes");
    topology.addProcessor("dedup", () -> new DedupProcessor(completeness), "votes-source");
    // The default persistent (RocksDB) store with its changelog; the record cache absorbs the
    // reads of voters seen since the last commit and batches the writes, as the worker's buffer does.
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(VOTERS_STORE), Serdes.String(), Serdes.String()).withCachingEnabled(),
        "dedup");
    topology.addSink(ACCEPTED_SINK, prefix + "votes-accepted", new ByteArraySerializer(), new ByteArraySerializer(), "dedup");
    topology.addSink(REJECTED_SINK, prefix + "votes-rejected", new ByteArraySerializer(), new ByteArraySerializer(), "dedup");
    topology.addSink(DLQ_SINK, prefix + "votes-dlq", new ByteArraySerializer(), new ByteArraySerializer(), "dedup");
    return topology;
  }
}

package dev.votestream.peer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The dedup stage of voting/topology.ts in one processor: decode (undecodable to `votes-dlq`,
 * schema failures rejected `malformed`), judge (key must be the voterId, `ts` at most
 * MAX_VOTE_AHEAD_MS past the record's timestamp, then the election version in force at `ts`, read
 * once the elections store is known complete up to `ts`),
 * dedupe on `electionId:voterId` in the `voters` store, and forward to the sink for the outcome.
 * Input headers travel to every output as the worker's records carry them (NodeHeaders).
 */
final class DedupProcessor implements Processor<byte[], byte[], byte[], byte[]> {
  /** voting/topology.ts MAX_VOTE_AHEAD_MS. */
  static final long MAX_VOTE_AHEAD_MS = 2_000;

  private final ElectionsCompleteness completeness;
  private ProcessorContext<byte[], byte[]> context;
  private KeyValueStore<String, byte[]> elections;
  private KeyValueStore<String, String> voters;
  /**
   * Parsed histories by election id with the store value they came from: the in-memory global
   * store hands back the array it holds, so an unchanged history is recognised without parsing.
   */
  private final Map<String, Object[]> histories = new HashMap<>();

  DedupProcessor(ElectionsCompleteness completeness) {
    this.completeness = completeness;
  }

  @Override
  public void init(ProcessorContext<byte[], byte[]> context) {
    this.context = context;
    this.elections = context.getStateStore(PeerTopology.ELECTIONS_STORE);
    this.voters = context.getStateStore(PeerTopology.VOTERS_STORE);
  }

  @Override
  public void process(Record<byte[], byte[]> input) {
    RecordMetadata meta = context.recordMetadata().orElseThrow();
    Record<byte[], byte[]> record = input.withHeaders(NodeHeaders.passOn(input.headers()));
    VoteDecoder.Decoded decoded = VoteDecoder.decode(record.value());
    switch (decoded.kind) {
      case UNDECODABLE -> deadLetter(record, meta, "undecodable vote on \"" + meta.topic() + "\": " + decoded.error);
      case MALFORMED -> {
        // The worker reads the key as a (lossy) UTF-8 string and writes that string back.
        byte[] key = record.key() == null ? null : NodeUtf8.decode(record.key()).getBytes(StandardCharsets.UTF_8);
        context.forward(record.withKey(key).withValue(VoteDecoder.malformedRejection(decoded.raw)), PeerTopology.REJECTED_SINK);
      }
      case VALID -> judge(record, meta, decoded.vote);
    }
  }

  private void judge(Record<byte[], byte[]> record, RecordMetadata meta, Vote vote) {
    byte[] key = vote.voterId.getBytes(StandardCharsets.UTF_8);
    String reason;
    String recordKey = record.key() == null ? null : NodeUtf8.decode(record.key());
    if (!vote.voterId.equals(recordKey) || vote.ts > record.timestamp() + MAX_VOTE_AHEAD_MS) {
      reason = "malformed";
    } else {
      // While it waits, the task waits: later votes of the partition must not be decided first.
      if (!completeness.isCompleteUpTo(vote.ts)) {
        try {
          completeness.awaitCompleteUpTo(vote.ts);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new StreamsException("closing while waiting for the elections store", e);
        }
      }
      reason = Decide.decide(vote, history(vote.electionId).versionAt(vote.ts));
    }
    if (reason == null) {
      String identity = vote.electionId + ":" + vote.voterId;
      if (voters.get(identity) != null) {
        reason = "duplicate";
      } else {
        voters.put(identity, vote.voteId);
        context.forward(record.withKey(key).withValue(vote.accepted(meta.partition(), meta.offset())), PeerTopology.ACCEPTED_SINK);
        return;
      }
    }
    context.forward(record.withKey(key).withValue(vote.rejected(reason)), PeerTopology.REJECTED_SINK);
  }

  private ElectionHistory history(String electionId) {
    byte[] stored = elections.get(electionId);
    Object[] cached = histories.get(electionId);
    if (cached != null && cached[0] == stored) return (ElectionHistory) cached[1];
    ElectionHistory history = ElectionHistory.decode(stored);
    histories.put(electionId, new Object[] {stored, history});
    return history;
  }

  /** The original key and bytes, with the input's headers and then why and where it was read. */
  private void deadLetter(Record<byte[], byte[]> record, RecordMetadata meta, String error) {
    context.forward(new Record<>(record.key(), record.value(), record.timestamp(), NodeHeaders.deadLetter(record.headers(), error, meta.topic(), meta.partition(), meta.offset())), PeerTopology.DLQ_SINK);
  }
}

package dev.votestream.peer;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.processor.internals.DefaultKafkaClientSupplier;

/**
 * Kafka Streams' default clients, except that the global consumer tells ElectionsCompleteness how
 * far the global store has applied `elections`. The global thread applies every record of a poll
 * before it polls again, so the consumer's positions at the start of a poll are applied positions
 * (and, being positions, they step over transaction markers, as end offsets count them).
 */
final class TrackingClientSupplier extends DefaultKafkaClientSupplier {
  private final ElectionsCompleteness completeness;

  TrackingClientSupplier(ElectionsCompleteness completeness) {
    this.completeness = completeness;
  }

  @Override
  public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
    return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer()) {
      @Override
      public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
        for (TopicPartition tp : assignment()) {
          try {
            completeness.applied(tp, position(tp, Duration.ZERO));
          } catch (RuntimeException e) {
            // No position yet (just assigned): nothing is known applied on it.
          }
        }
        return super.poll(timeout);
      }
    };
  }
}

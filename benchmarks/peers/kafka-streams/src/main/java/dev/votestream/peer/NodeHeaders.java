package dev.votestream.peer;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers as the worker passes them on (runtime/consumed-record.ts, runtime/dead-letter-headers.ts):
 * every output carries its input's headers exactly as consumed (repeated names, order and
 * `__proto__` kept), and a dead letter appends `error`, `source-topic`, `source-partition` and
 * `source-offset` after them, so that outputs compare byte for byte.
 */
final class NodeHeaders {
  private NodeHeaders() {}

  /** What the worker's outputs carry for a record with these input headers: a copy of the list. */
  static Headers passOn(Headers headers) {
    return new RecordHeaders(headers.toArray());
  }

  /** The input's headers, then where and why it was dead-lettered. */
  static Headers deadLetter(Headers headers, String error, String topic, int partition, long offset) {
    RecordHeaders out = new RecordHeaders(headers.toArray());
    out.add("error", JsJsonWriter.utf8(error));
    out.add("source-topic", topic.getBytes(StandardCharsets.UTF_8));
    out.add("source-partition", Integer.toString(partition).getBytes(StandardCharsets.UTF_8));
    out.add("source-offset", Long.toString(offset).getBytes(StandardCharsets.UTF_8));
    return out;
  }
}

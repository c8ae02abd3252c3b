package dev.votestream.peer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers as the worker passes them on: it keeps a record's headers as a JavaScript object
 * (runtime/consumed-record.ts), so a repeated name keeps its first place and its last value, names
 * that are array indices come first in numeric order, and `__proto__` is lost. The peer writes the
 * same headers, in the same order, so that outputs compare byte for byte.
 */
final class NodeHeaders {
  private NodeHeaders() {}

  /** The headers by name, as the worker's object holds them (insertion order, last value wins). */
  static Map<String, byte[]> collapse(Headers headers) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (Header h : headers) {
      if (!h.key().equals("__proto__")) out.put(h.key(), h.value());
    }
    return out;
  }

  /** Kafka headers in the order JavaScript enumerates the object's names. */
  static Headers toHeaders(Map<String, byte[]> byName) {
    List<String> indices = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (String name : byName.keySet()) {
      if (JsJsonWriter.isArrayIndex(name)) indices.add(name);
      else names.add(name);
    }
    indices.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
    RecordHeaders out = new RecordHeaders();
    for (String name : indices) out.add(name, byName.get(name));
    for (String name : names) out.add(name, byName.get(name));
    return out;
  }

  /** What the worker's outputs carry for a record with these input headers. */
  static Headers passOn(Headers headers) {
    if (!headers.iterator().hasNext()) return headers;
    return toHeaders(collapse(headers));
  }
}

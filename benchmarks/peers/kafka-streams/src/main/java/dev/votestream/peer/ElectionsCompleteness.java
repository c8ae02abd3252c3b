package dev.votestream.peer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * "The elections store holds every record appended to `elections` before wall-clock time X"
 * (DESIGN section 3, judging rule; runtime/global-store-thread.ts in the worker): a vote with
 * timestamp T is judged only once the store is complete up to T, so a decision never depends on
 * how far the global thread happened to have read. An observer takes `elections`' end offsets
 * (read_committed) at an instant and, once the global consumer's applied positions reach them,
 * declares the store complete up to that instant. Observations run every second when nobody waits,
 * at once (or at T, when T is ahead of the clock) when a stream thread waits.
 */
final class ElectionsCompleteness implements AutoCloseable {
  private static final long IDLE_INTERVAL_MS = 1_000;
  private static final long MIN_GAP_MS = 10;

  private final String topic;
  private final Admin admin;
  /** Positions below which every record has been applied to the store, per partition. */
  private final Map<Integer, Long> applied = new ConcurrentHashMap<>();
  private final Object monitor = new Object();
  /** Written under the monitor; read without it on the hot path. */
  private volatile long completeUpTo = -1;
  /** The earliest instant a stream thread waits for; Long.MAX_VALUE when none waits. */
  private long wanted = Long.MAX_VALUE;
  private volatile boolean closed;
  private final Thread observer;

  ElectionsCompleteness(String bootstrapServers, String topic) {
    this.topic = topic;
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "votestream-peer-elections-watermark");
    this.admin = Admin.create(props);
    this.observer = new Thread(this::observe, "elections-watermark");
    this.observer.setDaemon(true);
  }

  void start() {
    observer.start();
  }

  /** Called by the global consumer before each poll: everything it handed out before has been applied. */
  void applied(TopicPartition tp, long position) {
    if (!tp.topic().equals(topic)) return;
    applied.merge(tp.partition(), position, Math::max);
    synchronized (monitor) {
      monitor.notifyAll();
    }
  }

  /** Blocks the calling stream thread until the store is complete up to `timeMs`. */
  void awaitCompleteUpTo(long timeMs) throws InterruptedException {
    synchronized (monitor) {
      while (completeUpTo < timeMs) {
        if (closed) throw new InterruptedException("closing");
        if (timeMs < wanted) {
          wanted = timeMs;
          monitor.notifyAll();
        }
        monitor.wait(100);
      }
    }
  }

  boolean isCompleteUpTo(long timeMs) {
    return completeUpTo >= timeMs;
  }

  private void observe() {
    List<TopicPartition> partitions = null;
    long lastObservation = Long.MIN_VALUE / 2;
    while (!closed) {
      try {
        synchronized (monitor) {
          for (;;) {
            if (closed) return;
            long now = System.currentTimeMillis();
            long due = wanted == Long.MAX_VALUE ? lastObservation + IDLE_INTERVAL_MS : Math.max(wanted, lastObservation + MIN_GAP_MS);
            if (due <= now) break;
            monitor.wait(Math.max(1, due - now));
          }
        }
        if (partitions == null) {
          int count = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
          partitions = new java.util.ArrayList<>();
          for (int p = 0; p < count; p++) partitions.add(new TopicPartition(topic, p));
        }
        long at = System.currentTimeMillis();
        lastObservation = at;
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (TopicPartition tp : partitions) request.put(tp, OffsetSpec.latest());
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get(30, TimeUnit.SECONDS)
            .forEach((tp, info) -> ends.put(tp, info.offset()));
        synchronized (monitor) {
          while (!closed && !reached(ends)) monitor.wait(100);
          if (closed) return;
          if (at > completeUpTo) completeUpTo = at;
          if (wanted <= completeUpTo) wanted = Long.MAX_VALUE;
          monitor.notifyAll();
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        if (closed) return;
        Log.warn("elections end offsets unavailable; retrying: " + e);
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  private boolean reached(Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      if (applied.getOrDefault(end.getKey().partition(), -1L) < end.getValue()) return false;
    }
    return true;
  }

  @Override
  public void close() {
    closed = true;
    synchronized (monitor) {
      monitor.notifyAll();
    }
    observer.interrupt();
    admin.close(java.time.Duration.ofSeconds(5));
  }
}

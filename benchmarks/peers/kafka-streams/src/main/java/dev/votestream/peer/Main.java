package dev.votestream.peer;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * Runs the peer: `--bootstrap-servers H:P --prefix P --application-id A --threads N --state-dir D`.
 * Logs one line containing " RUNNING " when every thread runs; SIGTERM closes the streams cleanly
 * (commits, closes the transactions) and exits 0 (1 if the close timed out). Exits 1 if Kafka
 * Streams fails. Beside Kafka Streams runs the elections watermark (ElectionsCompleteness), fed by
 * the global consumer (TrackingClientSupplier).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    // Before any Kafka class creates its logger: Kafka's INFO lines would drown ours.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    Map<String, String> opts = parse(args);
    String prefix = opts.getOrDefault("prefix", "");
    String applicationId = require(opts, "application-id");
    int threads = Integer.parseInt(opts.getOrDefault("threads", "1"));

    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, require(opts, "bootstrap-servers"));
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, require(opts, "state-dir"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Kafka Streams' own default under exactly-once, stated so the benchmark's setting is explicit;
    // it is also the worker's commitIntervalMs.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // The record cache in front of RocksDB (default 10 MiB) shared by the threads; more keeps a
    // whole commit interval of voters at high rates.
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L * 1024 * 1024);
    // Larger producer batches and a short linger: outputs leave in bulk within the commit interval.
    props.put(StreamsConfig.producerPrefix("batch.size"), 256 * 1024);
    props.put(StreamsConfig.producerPrefix("linger.ms"), 5);

    ElectionsCompleteness completeness = new ElectionsCompleteness(require(opts, "bootstrap-servers"), prefix + "elections");
    KafkaStreams streams = new KafkaStreams(PeerTopology.build(prefix, completeness), props, new TrackingClientSupplier(completeness));
    CountDownLatch done = new CountDownLatch(1);
    // Set from Kafka Streams' threads, read by main and the shutdown hook.
    AtomicInteger exitCode = new AtomicInteger();
    streams.setStateListener((next, previous) -> {
      if (next == KafkaStreams.State.RUNNING) {
        Log.info("RUNNING application.id=" + applicationId + " threads=" + threads + " prefix=" + prefix);
      } else if (next == KafkaStreams.State.ERROR) {
        exitCode.set(1);
        done.countDown();
      } else if (next == KafkaStreams.State.NOT_RUNNING) {
        done.countDown();
      }
    });
    streams.setUncaughtExceptionHandler(e -> {
      Log.warn("stream thread failed: " + e);
      e.printStackTrace();
      exitCode.set(1);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Thread hook = new Thread(() -> {
      Log.info("closing on signal");
      boolean closed = streams.close(Duration.ofSeconds(30));
      completeness.close();
      Log.info(closed ? "closed" : "close timed out");
      System.err.flush();
      // A JVM ended by SIGTERM exits 143 even after a clean close; the launcher reads 0 as "closed cleanly".
      Runtime.getRuntime().halt(closed && exitCode.get() == 0 ? 0 : 1);
    }, "peer-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    Log.info("starting application.id=" + applicationId + " threads=" + threads);
    completeness.start();
    streams.start();
    done.await();
    if (exitCode.get() != 0) {
      Log.warn("Kafka Streams stopped with an error");
      streams.close(Duration.ofSeconds(10));
      completeness.close();
      Runtime.getRuntime().halt(1);
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      }
      out.put(args[i].substring(2), args[++i]);
    }
    return out;
  }

  private static String require(Map<String, String> opts, String name) {
    String v = opts.get(name);
    if (v == null) throw new IllegalArgumentException("--" + name + " is required");
    return v;
  }
}

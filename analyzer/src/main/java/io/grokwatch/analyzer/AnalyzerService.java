package io.grokwatch.analyzer;

import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The running analyzer: ensures the topics exist, starts the Kafka Streams application of
 * {@link AnalyzerTopology} and waits until it is RUNNING. Owns its streams instance; {@link #close()} stops it.
 * Instances with the same application id share the work: runs are spread across them by partition.
 */
public final class AnalyzerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AnalyzerService.class);
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param applicationId    Streams application id (consumer group, internal topic prefix); default
     *                         {@code grokwatch-analyzer}
     * @param stateDir         local state directory of the stores
     * @param topics           topic names
     * @param partitions       partitions of topics created here (runs and checkpoints must match)
     * @param singleBroker     a one-broker cluster: replication factor 1 for everything created
     * @param analysisThreads  threads one checkpoint's analysis may use
     */
    public record Config(String bootstrapServers, String applicationId, Path stateDir, Topics topics, int partitions,
                         boolean singleBroker, int analysisThreads) {
        public static final String DEFAULT_APPLICATION_ID = "grokwatch-analyzer";

        public Config {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(stateDir, "stateDir");
            Objects.requireNonNull(topics, "topics");
            if (applicationId == null || applicationId.isBlank()) {
                throw new IllegalArgumentException("application id must not be empty");
            }
            if (partitions < 1) {
                throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
            }
            if (analysisThreads < 1) {
                throw new IllegalArgumentException("analysis threads must be >= 1, got " + analysisThreads);
            }
        }
    }

    private final KafkaStreams streams;
    private final Config config;

    private AnalyzerService(Config config, KafkaStreams streams) {
        this.config = config;
        this.streams = streams;
    }

    public static AnalyzerService start(Config config, AnalyzerMetrics metrics) {
        return start(config, metrics, io.grokwatch.detect.DetectorSuite.defaults());
    }

    public static AnalyzerService start(Config config, AnalyzerMetrics metrics, io.grokwatch.detect.DetectorSuite detectors) {
        TopicAdmin.ensureTopics(config.bootstrapServers(), config.topics(), config.partitions(),
                (short) (config.singleBroker() ? 1 : 3));
        Topics t = config.topics();
        KafkaStreams streams = new KafkaStreams(
                AnalyzerTopology.build(t.runs(), t.checkpoints(), t.spectra(), t.alerts(), t.deadLetter(), metrics,
                        config.analysisThreads(), detectors),
                ClientConfigs.streams(config.bootstrapServers(), config.applicationId(), config.stateDir(),
                        config.singleBroker()));
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("analyzer stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        AnalyzerService service = new AnalyzerService(config, streams);
        warmUp(config.analysisThreads());
        streams.start();
        service.awaitRunning();
        LOG.info("analyzer {} running against {}", config.applicationId(), config.bootstrapServers());
        return service;
    }

    /**
     * One throw-away analysis of a small random modular-addition model before the first real checkpoint: it loads
     * the native BLAS/LAPACK and lets the JIT compile the hot paths, which otherwise cost the first checkpoints
     * of the first run up to a second of latency each.
     */
    static void warmUp(int threads) {
        long t0 = System.nanoTime();
        int p = 13;
        int h = 64;
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        double[] w1 = new double[h * 2 * p];
        double[] w2 = new double[p * h];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = r.nextDouble() - 0.5;
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = r.nextDouble() - 0.5;
        }
        io.grokwatch.model.Parameters params = new io.grokwatch.model.Parameters()
                .put("net.0.weight", new long[] {h, 2 * p}, w1).put("net.3.weight", new long[] {p, h}, w2);
        io.grokwatch.model.Network net = new io.grokwatch.model.Network(
                io.grokwatch.model.ModelDescription.modularAddition(p, h), params);
        try (io.grokwatch.analysis.ModularAdditionAnalyzer a = new io.grokwatch.analysis.ModularAdditionAnalyzer(p,
                4 * (p - 1) + 2, true, threads)) {
            for (int i = 0; i < 20; i++) {
                a.analyze(net);
            }
        }
        LOG.info("analysis warmed up in {} ms", Math.round((System.nanoTime() - t0) / 1e6));
    }

    private void awaitRunning() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING) {
                close();
                throw new IllegalStateException("analyzer failed to start: streams state " + streams.state());
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("analyzer not RUNNING after " + START_TIMEOUT.toSeconds()
                        + " s (state " + streams.state() + "); is the broker at " + config.bootstrapServers()
                        + " reachable?");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while starting the analyzer", e);
            }
        }
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
    }
}

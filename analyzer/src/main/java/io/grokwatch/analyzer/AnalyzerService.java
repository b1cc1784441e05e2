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
     * Throw-away analyses of a random modular-addition model before the first real checkpoint: they load the
     * native BLAS/LAPACK and let the JIT compile the hot paths at the shapes real runs use (probe grids of
     * hundreds of inputs, width 512, layer spectra), which otherwise cost the first checkpoints of the first run
     * up to a second of latency each. Bounded by {@link #WARM_UP_BUDGET}.
     */
    static void warmUp(int threads) {
        long t0 = System.nanoTime();
        // The demo's shape (the paper's p = 29, width 512): the first runs people start are that one.
        int p = 29;
        int h = 512;
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        double[] w1 = new double[h * 2 * p];
        double[] w2 = new double[p * h];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (r.nextDouble() - 0.5) * 0.2;
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (r.nextDouble() - 0.5) * 0.2;
        }
        io.grokwatch.model.Parameters params = new io.grokwatch.model.Parameters()
                .put("net.0.weight", new long[] {h, 2 * p}, w1).put("net.3.weight", new long[] {p, h}, w2);
        // The processor's whole path, not just the eigen-solves: descriptor, checkpoint decoding and binding,
        // the stored bases' encoding, the spectrum JSON and the detectors.
        io.grokwatch.run.RunDescriptor descriptor = new io.grokwatch.run.RunDescriptor("warm-up",
                io.grokwatch.model.ModelDescription.modularAddition(p, h),
                io.grokwatch.run.ProbeSource.generator("modular-addition:p=" + p),
                io.grokwatch.run.RunDescriptor.AnalysisSettings.classMean(200), 1, java.util.Map.of());
        io.grokwatch.detect.DetectorSuite detectors = io.grokwatch.detect.DetectorSuite.defaults();
        com.fasterxml.jackson.databind.node.ObjectNode detectorState = detectors.initialState();
        int runs = 0;
        try (io.grokwatch.run.RunAnalyzer a = new io.grokwatch.run.RunAnalyzer(descriptor, threads)) {
            byte[] stored = null;
            while (runs < 12 && System.nanoTime() - t0 < WARM_UP_BUDGET.toNanos()) {
                io.grokwatch.run.CheckpointMetadata meta = io.grokwatch.run.CheckpointMetadata.of(runs, runs)
                        .withMetrics(0.5, 0.5, 0.5, 0.5);
                io.grokwatch.run.CheckpointRecord record = io.grokwatch.run.CheckpointRecord.decode(
                        io.grokwatch.run.CheckpointRecord.encode(params, meta));
                io.grokwatch.run.RunAnalyzer.Analysis analysis = a.analyze(record.weights(),
                        io.grokwatch.run.EigenBases.decode(stored));
                stored = io.grokwatch.run.EigenBases.encode(analysis.bases());
                SpectrumRecord.of("warm-up", meta, analysis, System.currentTimeMillis());
                detectorState = detectors.observe(detectorState, SpectrumRecord.observation(meta, analysis)).state();
                runs++;
            }
        }
        LOG.info("analysis warmed up in {} ms ({} analyses)", Math.round((System.nanoTime() - t0) / 1e6), runs);
    }

    /** Longest the start-up warm-up may take. */
    static final Duration WARM_UP_BUDGET = Duration.ofMillis(2500);

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

    /**
     * Stops the streams and leaves the consumer group. Streams stays in its group on close by default (to spare a
     * rebalance on a quick bounce); then the next start, with a new member id, waits out the old member's
     * session timeout (45 s) before it gets the partitions, which every restart of a single analyzer paid.
     */
    @Override
    public void close() {
        streams.close(org.apache.kafka.streams.CloseOptions.timeout(Duration.ofSeconds(30))
                .withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }
}

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
 * The running analyzer: ensures the topics exist, warms up (the analysis, then the Kafka paths through a
 * throwaway copy of the pipeline: {@link PipelineWarmUp}), starts the Kafka Streams application of
 * {@link AnalyzerTopology} and waits until it is RUNNING. A restart on a state directory that already holds the
 * application's state warms up the analysis only, while Streams restores. Owns its streams instance;
 * {@link #close()} stops it. Instances with the same application id share the work: runs are spread across them by
 * partition; each is a static member of the group ({@link io.grokwatch.kafka.StaticMembership}).
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
     * @param backlog          checkpoints arriving faster than they are analysed: all analysed, or the newest
     *                         ({@link Backlog}); default {@link Backlog#ALL}
     * @param limits           what one record may cost or produce; default {@link AnalyzerLimits#DEFAULTS}
     */
    public record Config(String bootstrapServers, String applicationId, Path stateDir, Topics topics, int partitions,
                         boolean singleBroker, int analysisThreads, Backlog backlog, AnalyzerLimits limits) {
        public static final String DEFAULT_APPLICATION_ID = "grokwatch-analyzer";

        /** Within the default limits. */
        public Config(String bootstrapServers, String applicationId, Path stateDir, Topics topics, int partitions,
                      boolean singleBroker, int analysisThreads, Backlog backlog) {
            this(bootstrapServers, applicationId, stateDir, topics, partitions, singleBroker, analysisThreads, backlog,
                    AnalyzerLimits.DEFAULTS);
        }

        /** Every checkpoint analysed ({@link Backlog#ALL}). */
        public Config(String bootstrapServers, String applicationId, Path stateDir, Topics topics, int partitions,
                      boolean singleBroker, int analysisThreads) {
            this(bootstrapServers, applicationId, stateDir, topics, partitions, singleBroker, analysisThreads,
                    Backlog.ALL);
        }

        public Config {
            Objects.requireNonNull(backlog, "backlog");
            Objects.requireNonNull(limits, "limits");
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
    private final RepeatedFailures failures;
    private final BrokerReachability broker;
    /** Completes, with the reason, when the analyzer has failed for good (Kafka Streams in ERROR). */
    private final java.util.concurrent.CompletableFuture<String> failed = new java.util.concurrent.CompletableFuture<>();
    private final AnalyzerMetrics.Binding streamsMetrics;
    private volatile boolean closing;

    private AnalyzerService(KafkaStreams streams, RepeatedFailures failures, BrokerReachability broker,
                            AnalyzerMetrics.Binding streamsMetrics) {
        this.streams = streams;
        this.failures = failures;
        this.broker = broker;
        this.streamsMetrics = streamsMetrics;
    }

    public static AnalyzerService start(Config config, AnalyzerMetrics metrics) {
        return start(config, metrics, io.grokwatch.detect.DetectorSuite.defaults());
    }

    public static AnalyzerService start(Config config, AnalyzerMetrics metrics, io.grokwatch.detect.DetectorSuite detectors) {
        TopicAdmin.ensureTopics(config.bootstrapServers(), config.topics(), config.partitions(),
                (short) (config.singleBroker() ? 1 : 3));
        // A restart (after a crash, most likely, with checkpoints waiting) gets back to analysing first: the
        // throwaway pipeline of a first start was half of what such a restart took to analyse again
        // (docs/operations.md, "Chaos suite"); the analysis warms up while Streams restores its stores instead.
        boolean restart = java.nio.file.Files.isDirectory(config.stateDir().resolve(config.applicationId()));
        if (!restart) {
            warmUp(config, detectors);
        }
        Topics t = config.topics();
        KafkaStreams streams = new KafkaStreams(
                AnalyzerTopology.build(t, AnalyzerTopology.Settings.of(metrics, config.analysisThreads())
                        .withDetectors(detectors).withBacklog(config.backlog()).withLimits(config.limits())),
                io.grokwatch.kafka.StaticMembership.apply(ClientConfigs.streams(config.bootstrapServers(),
                        config.applicationId(), config.stateDir(), config.singleBroker()),
                        io.grokwatch.kafka.StaticMembership.instanceId(config.stateDir(), config.applicationId())));
        RepeatedFailures failures = new RepeatedFailures(config.limits().maxRecordRetries(),
                java.time.InstantSource.system());
        // Failures of a record's analysis never get here (the processor dead-letters them); what does is the
        // pipeline's (a store, the broker, a send the broker refuses). Once the same one repeats past the limit it
        // will not go away by retrying: the analyzer stops (ERROR) rather than stall its partitions in silence.
        streams.setUncaughtExceptionHandler(e -> {
            if (failures.failed(e)) {
                LOG.error("analyzer stream thread failed and {}; shutting the analyzer down",
                        failures.exhausted().orElse(""), e);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
            LOG.error("analyzer stream thread failed; replacing it", e);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        AnalyzerService service = new AnalyzerService(streams, failures,
                new BrokerReachability(config.bootstrapServers()), metrics.streams(streams));
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.ERROR) {
                service.failed.complete(service.liveness().detail());
            }
        });
        streams.start();
        if (restart) {
            LOG.info("state of {} found in {}: a restart; warming up the analysis while Streams restores",
                    config.applicationId(), config.stateDir());
            warmUp(config.analysisThreads());
        }
        try {
            awaitRunning(streams, START_TIMEOUT, "analyzer " + config.applicationId() + " against "
                    + config.bootstrapServers());
        } catch (RuntimeException e) {
            service.close();
            throw e;
        }
        LOG.info("analyzer {} running against {}", config.applicationId(), config.bootstrapServers());
        return service;
    }

    /**
     * Before consuming anything, so that the first checkpoints are analysed as fast as the later ones: the analysis
     * in this process ({@link #warmUp(int)}), and every Kafka path a checkpoint takes, through a throwaway copy of
     * the pipeline ({@link PipelineWarmUp}); the first runs while the copy starts. Where the copy cannot run (e.g.
     * the analyzer may not create topics) the analyzer starts anyway, with a warning.
     */
    private static void warmUp(Config config, io.grokwatch.detect.DetectorSuite detectors) {
        boolean[] analysisWarm = {false};
        Runnable analysis = () -> {
            warmUp(config.analysisThreads());
            analysisWarm[0] = true;
        };
        try {
            PipelineWarmUp.logResult(PipelineWarmUp.run(config, detectors, analysis));
        } catch (RuntimeException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new IllegalStateException("interrupted while warming up the analyzer", e);
            }
            LOG.warn("cannot warm up through Kafka ({}); the first checkpoints will take longer", e.toString());
            if (!analysisWarm[0]) {
                analysis.run();
            }
        }
    }

    /**
     * Throw-away analyses of {@link WarmUpRun} in this process, without Kafka: they load the native BLAS/LAPACK
     * and let the JIT compile the processor's work (checkpoint decoding and binding, the eigen-solves, the stored
     * bases' encoding, the spectrum and run state as JSON, the detectors) at the shapes real runs use. Bounded by
     * {@link #WARM_UP_BUDGET}.
     */
    static void warmUp(int threads) {
        long t0 = System.nanoTime();
        WarmUpRun run = new WarmUpRun();
        io.grokwatch.detect.DetectorSuite detectors = io.grokwatch.detect.DetectorSuite.defaults();
        io.grokwatch.detect.DetectorStates detectorState = detectors.initialState();
        int runs = 0;
        try (io.grokwatch.run.RunAnalyzer a = new io.grokwatch.run.RunAnalyzer(run.descriptor("warm-up"), threads)) {
            byte[] stored = null;
            while (runs < 12 && System.nanoTime() - t0 < WARM_UP_BUDGET.toNanos()) {
                io.grokwatch.run.CheckpointRecord record = io.grokwatch.run.CheckpointRecord.decode(run.checkpoint(runs));
                io.grokwatch.run.CheckpointMetadata meta = record.metadata();
                io.grokwatch.run.RunAnalyzer.Analysis analysis = a.analyze(record.weights(),
                        io.grokwatch.run.EigenBases.decode(stored));
                stored = io.grokwatch.run.EigenBases.encode(analysis.bases());
                // Hundreds of doubles to text and back per checkpoint: cold, their formatting alone took the JIT
                // most of a second next to the first real analyses.
                io.grokwatch.records.SpectrumRecord.read(analysis.record("warm-up", meta, System.currentTimeMillis())
                        .toBytes());
                detectorState = detectors.observe(detectorState, analysis.observation(meta)).state();
                RunState.read(new RunState(meta.step(), meta.epoch(), runs + 1, 0, analysis.eigenvalues(), detectorState)
                        .toBytes());
                runs++;
            }
        }
        LOG.info("analysis warmed up in {} ms ({} analyses); {}", Math.round((System.nanoTime() - t0) / 1e6), runs,
                io.grokwatch.linalg.BlasKernels.current().describe());
    }

    /** Longest the start-up warm-up may take. */
    static final Duration WARM_UP_BUDGET = Duration.ofMillis(2500);

    /**
     * Waits until {@code streams} is RUNNING.
     *
     * @throws IllegalStateException if it fails, does not get there within {@code timeout}, or the wait is
     *                               interrupted (the interrupt flag is set again); the caller closes it
     */
    static void awaitRunning(KafkaStreams streams, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (streams.state() == KafkaStreams.State.ERROR || streams.state() == KafkaStreams.State.NOT_RUNNING) {
                throw new IllegalStateException(what + " failed to start: streams state " + streams.state());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " not RUNNING after " + timeout.toSeconds() + " s (state "
                        + streams.state() + "); is the broker reachable?");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting " + what, e);
            }
        }
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** The streams instance, for tests that act on its threads. */
    KafkaStreams streams() {
        return streams;
    }

    /**
     * {@code /healthz}: failing once Kafka Streams is in ERROR (or stopped without being closed), when it has no
     * stream thread left, or once the same failure repeated past {@link AnalyzerLimits#maxRecordRetries()}.
     */
    public io.grokwatch.observability.Health liveness() {
        KafkaStreams.State state = streams.state();
        java.util.Optional<String> exhausted = failures.exhausted();
        if (exhausted.isPresent()) {
            return io.grokwatch.observability.Health.failing("analyzer gave up: " + exhausted.get());
        }
        if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR) {
            return io.grokwatch.observability.Health.failing("Kafka Streams is in " + state);
        }
        if (!closing && (state == KafkaStreams.State.NOT_RUNNING || state == KafkaStreams.State.PENDING_SHUTDOWN)) {
            return io.grokwatch.observability.Health.failing("Kafka Streams stopped (" + state + ")");
        }
        if (state.isRunningOrRebalancing() && liveThreads() == 0) {
            return io.grokwatch.observability.Health.failing("Kafka Streams has no stream thread left (" + state + ")");
        }
        return io.grokwatch.observability.Health.ok("Kafka Streams " + state + ", " + liveThreads()
                + " stream thread(s)");
    }

    private int liveThreads() {
        try {
            return (int) streams.metadataForLocalThreads().stream()
                    .filter(t -> !t.threadState().equals("DEAD") && !t.threadState().equals("PENDING_SHUTDOWN"))
                    .count();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** {@code /readyz}: ready only while Kafka Streams is RUNNING and the broker answers. */
    public io.grokwatch.observability.Health readiness() {
        KafkaStreams.State state = streams.state();
        if (state != KafkaStreams.State.RUNNING) {
            return io.grokwatch.observability.Health.failing("Kafka Streams is " + state + ", not RUNNING");
        }
        String unreachable = broker.unreachable();
        if (unreachable != null) {
            return io.grokwatch.observability.Health.failing(unreachable);
        }
        return io.grokwatch.observability.Health.ok("ready");
    }

    /** Completes, with the reason, once the analyzer has failed for good (Kafka Streams in ERROR). */
    public java.util.concurrent.CompletableFuture<String> failure() {
        return failed;
    }

    /**
     * Stops the streams and leaves the consumer group. Streams stays in its group on close by default (to spare a
     * rebalance on a quick bounce); then the next start, with a new member id, waits out the old member's
     * session timeout (45 s) before it gets the partitions, which every restart of a single analyzer paid.
     */
    @Override
    public void close() {
        closing = true;
        broker.close();
        streams.close(org.apache.kafka.streams.CloseOptions.timeout(Duration.ofSeconds(30))
                .withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        // After the streams: their last metrics stay readable until they are gone.
        streamsMetrics.close();
    }
}

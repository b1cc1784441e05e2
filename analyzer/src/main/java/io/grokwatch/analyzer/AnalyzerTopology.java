package io.grokwatch.analyzer;

import io.grokwatch.kafka.RecordSerdes;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

import java.time.InstantSource;

/**
 * The analyzer's topology, separate from any running application so tests can drive it: run descriptors
 * and checkpoints (both keyed by run id, co-partitioned) flow into one processor with two stores; spectra,
 * alerts and dead letters flow out.
 */
public final class AnalyzerTopology {
    public static final String RUNS_STORE = "runs";
    public static final String RUN_STATE_STORE = "run-state";
    /** Per run: the eigenbases of the last analysed checkpoint ({@link io.grokwatch.run.EigenBases}). */
    public static final String EIGENBASIS_STORE = "eigenbasis";
    /** Per run: the checkpoint waiting for its analysis ({@link PendingCheckpoint}). */
    public static final String PENDING_STORE = "pending-checkpoint";
    static final String SPECTRA_SINK = "spectra";
    static final String DEAD_LETTER_SINK = "dead-letter";
    static final String ALERTS_SINK = "alerts";

    private AnalyzerTopology() {
    }

    /**
     * The changelogs of the stores written with every checkpoint (eigenbases, pending checkpoints): records up to
     * {@link io.grokwatch.kafka.ClientConfigs#MAX_STATE_RECORD_BYTES}, compacted (Streams' default for them), in
     * segments of {@link io.grokwatch.kafka.ClientConfigs#STATE_CHANGELOG_SEGMENT_BYTES}. Compaction never touches
     * the segment being written, and at the broker's 1 GiB default that segment held every eigenbasis a partition's
     * runs had written, all of it read back after every unclean stop under exactly-once; shorter segments let the
     * cleaner keep about the latest bases per run and a segment more (measured in docs/operations.md, "Chaos suite").
     */
    static java.util.Map<String, String> changelogConfigs() {
        return java.util.Map.of(
                org.apache.kafka.common.config.TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                Integer.toString(io.grokwatch.kafka.ClientConfigs.MAX_STATE_RECORD_BYTES),
                org.apache.kafka.common.config.TopicConfig.SEGMENT_BYTES_CONFIG,
                Integer.toString(io.grokwatch.kafka.ClientConfigs.STATE_CHANGELOG_SEGMENT_BYTES));
    }

    /**
     * How the analyzer works, apart from its topics.
     *
     * @param metrics         what it reports as it works
     * @param analysisThreads threads each run's analysis may use for independent eigen-solves
     * @param detectors       the detectors and their thresholds
     * @param backlog         what happens when checkpoints come faster than analyses
     * @param clock           the wall clock that checkpoints' timestamps are compared with (the system's, but in
     *                        tests): whether a checkpoint is fresh under {@link Backlog#LATEST}, the latencies in
     *                        spectra, the runs that count towards the analyzer's load. When a run's input has drained
     *                        is the stream thread's time.
     * @param limits          what one record may cost or produce
     */
    public record Settings(AnalyzerMetrics metrics, int analysisThreads, io.grokwatch.detect.DetectorSuite detectors,
                           Backlog backlog, InstantSource clock, AnalyzerLimits limits) {
        public Settings {
            java.util.Objects.requireNonNull(metrics, "metrics");
            java.util.Objects.requireNonNull(detectors, "detectors");
            java.util.Objects.requireNonNull(backlog, "backlog");
            java.util.Objects.requireNonNull(clock, "clock");
            java.util.Objects.requireNonNull(limits, "limits");
            if (analysisThreads < 1) {
                throw new IllegalArgumentException("analysis threads must be at least 1, got " + analysisThreads);
            }
        }

        /** The default detectors, backlog {@link Backlog#ALL}, the system clock and the default limits. */
        public static Settings of(AnalyzerMetrics metrics, int analysisThreads) {
            return new Settings(metrics, analysisThreads, io.grokwatch.detect.DetectorSuite.defaults(), Backlog.ALL,
                    InstantSource.system(), AnalyzerLimits.DEFAULTS);
        }

        public Settings withDetectors(io.grokwatch.detect.DetectorSuite d) {
            return new Settings(metrics, analysisThreads, d, backlog, clock, limits);
        }

        public Settings withBacklog(Backlog b) {
            return new Settings(metrics, analysisThreads, detectors, b, clock, limits);
        }

        public Settings withClock(InstantSource c) {
            return new Settings(metrics, analysisThreads, detectors, backlog, c, limits);
        }

        public Settings withLimits(AnalyzerLimits l) {
            return new Settings(metrics, analysisThreads, detectors, backlog, clock, l);
        }
    }

    /** The topology reading and writing {@code topics}, working as {@code settings} say. */
    public static Topology build(io.grokwatch.kafka.Topics topics, Settings settings) {
        Topology t = new Topology();
        AnalyzerLoad load = new AnalyzerLoad();
        t.addSource("runs-in", new StringDeserializer(), new ByteArrayDeserializer(), topics.runs());
        t.addSource("checkpoints-in", new StringDeserializer(), new ByteArrayDeserializer(), topics.checkpoints());
        t.addProcessor("analyze", () -> new CheckpointProcessor(topics.runs(), settings, load), "runs-in",
                "checkpoints-in");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RUNS_STORE), Serdes.String(),
                Serdes.ByteArray()), "analyze");
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RUN_STATE_STORE), Serdes.String(),
                Serdes.ByteArray()), "analyze");
        // Eigenbases are large (n x k floats per kernel): their changelog accepts records of that size, in segments
        // far shorter than the broker's default (changelogConfigs).
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EIGENBASIS_STORE), Serdes.String(),
                Serdes.ByteArray()).withLoggingEnabled(changelogConfigs()), "analyze");
        // Checkpoints up to the topic's size limit wait here under LATEST. The cache keeps only the last write per
        // run between commits, so a checkpoint superseded within one commit interval never reaches the changelog.
        t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PENDING_STORE), Serdes.String(),
                Serdes.ByteArray()).withCachingEnabled().withLoggingEnabled(changelogConfigs()), "analyze");
        // Each sink takes the one record type of its topic (CheckpointProcessor forwards it only there).
        t.addSink(SPECTRA_SINK, topics.spectra(), new StringSerializer(), RecordSerdes.spectrum().serializer(),
                "analyze");
        t.addSink(ALERTS_SINK, topics.alerts(), new StringSerializer(), RecordSerdes.alert().serializer(), "analyze");
        t.addSink(DEAD_LETTER_SINK, topics.deadLetter(), new StringSerializer(), RecordSerdes.deadLetter().serializer(),
                "analyze");
        return t;
    }
}

package io.grokwatch.analyzer;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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
     * runs had written (~18 checkpoints at p = 113), all of it read back after every unclean stop under exactly-once;
     * shorter segments let the cleaner keep about the latest bases per run and a segment more (docs/operations.md,
     * "Chaos suite": 960 MB to 160 MB for 24 bases of 40 MB).
     */
    static java.util.Map<String, String> changelogConfigs() {
        return java.util.Map.of(
                org.apache.kafka.common.config.TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                Integer.toString(io.grokwatch.kafka.ClientConfigs.MAX_STATE_RECORD_BYTES),
                org.apache.kafka.common.config.TopicConfig.SEGMENT_BYTES_CONFIG,
                Integer.toString(io.grokwatch.kafka.ClientConfigs.STATE_CHANGELOG_SEGMENT_BYTES));
    }

    /**
     * @param analysisThreads threads each run's analysis may use for independent eigen-solves
     */
    public static Topology build(String runsTopic, String checkpointsTopic, String spectraTopic, String alertsTopic,
                                 String deadLetterTopic, AnalyzerMetrics metrics, int analysisThreads) {
        return build(runsTopic, checkpointsTopic, spectraTopic, alertsTopic, deadLetterTopic, metrics, analysisThreads,
                io.grokwatch.detect.DetectorSuite.defaults());
    }

    /** As above with the given detectors (thresholds from config). */
    public static Topology build(String runsTopic, String checkpointsTopic, String spectraTopic, String alertsTopic,
                                 String deadLetterTopic, AnalyzerMetrics metrics, int analysisThreads,
                                 io.grokwatch.detect.DetectorSuite detectors) {
        return build(runsTopic, checkpointsTopic, spectraTopic, alertsTopic, deadLetterTopic, metrics, analysisThreads,
                detectors, Backlog.ALL);
    }

    /** As above with the given backlog policy. */
    public static Topology build(String runsTopic, String checkpointsTopic, String spectraTopic, String alertsTopic,
                                 String deadLetterTopic, AnalyzerMetrics metrics, int analysisThreads,
                                 io.grokwatch.detect.DetectorSuite detectors, Backlog backlog) {
        return build(runsTopic, checkpointsTopic, spectraTopic, alertsTopic, deadLetterTopic, metrics, analysisThreads,
                detectors, backlog, InstantSource.system());
    }

    /**
     * As above with the wall clock that checkpoints' timestamps are compared with (the system's, but in tests):
     * whether a checkpoint is fresh under {@link Backlog#LATEST}, the latencies in spectra, the runs that count
     * towards the analyzer's load. When a run's input has drained is the stream thread's time.
     */
    public static Topology build(String runsTopic, String checkpointsTopic, String spectraTopic, String alertsTopic,
                                 String deadLetterTopic, AnalyzerMetrics metrics, int analysisThreads,
                                 io.grokwatch.detect.DetectorSuite detectors, Backlog backlog, InstantSource clock) {
        return build(runsTopic, checkpointsTopic, spectraTopic, alertsTopic, deadLetterTopic, metrics, analysisThreads,
                detectors, backlog, clock, AnalyzerLimits.DEFAULTS);
    }

    /** As above within the given limits on what one record may cost or produce. */
    public static Topology build(String runsTopic, String checkpointsTopic, String spectraTopic, String alertsTopic,
                                 String deadLetterTopic, AnalyzerMetrics metrics, int analysisThreads,
                                 io.grokwatch.detect.DetectorSuite detectors, Backlog backlog, InstantSource clock,
                                 AnalyzerLimits limits) {
        java.util.Objects.requireNonNull(clock, "clock");
        java.util.Objects.requireNonNull(limits, "limits");
        Topology t = new Topology();
        AnalyzerLoad load = new AnalyzerLoad();
        t.addSource("runs-in", new StringDeserializer(), new ByteArrayDeserializer(), runsTopic);
        t.addSource("checkpoints-in", new StringDeserializer(), new ByteArrayDeserializer(), checkpointsTopic);
        t.addProcessor("analyze", () -> new CheckpointProcessor(runsTopic, metrics, analysisThreads, detectors,
                backlog, load, clock, limits),
                "runs-in", "checkpoints-in");
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
        t.addSink(SPECTRA_SINK, spectraTopic, new StringSerializer(), new ByteArraySerializer(), "analyze");
        t.addSink(ALERTS_SINK, alertsTopic, new StringSerializer(), new ByteArraySerializer(), "analyze");
        t.addSink(DEAD_LETTER_SINK, deadLetterTopic, new StringSerializer(), new ByteArraySerializer(), "analyze");
        return t;
    }
}

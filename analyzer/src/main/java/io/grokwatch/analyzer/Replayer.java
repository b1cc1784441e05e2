package io.grokwatch.analyzer;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.SpectrumRecord;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.RunAnalyzer;
import io.grokwatch.run.RunDescriptor;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * Re-analyses a run from its checkpoint topic: reads the run's latest descriptor and every checkpoint of the
 * run (from a step on), in order, and analyses each exactly as the live analyzer does. Same descriptor and
 * same bytes give the same numbers, so a replay reproduces the live spectra.
 */
public final class Replayer {
    private static final Duration POLL = Duration.ofMillis(200);

    private final String bootstrapServers;
    private final Topics topics;
    private final io.grokwatch.detect.DetectorSuite detectors;

    public Replayer(String bootstrapServers, Topics topics) {
        this(bootstrapServers, topics, io.grokwatch.detect.DetectorSuite.defaults());
    }

    /** A replayer whose detectors use the given thresholds (the live analyzer's, to reproduce its alerts). */
    public Replayer(String bootstrapServers, Topics topics, io.grokwatch.detect.DetectorSuite detectors) {
        this.bootstrapServers = bootstrapServers;
        this.topics = topics;
        this.detectors = detectors;
    }

    /** The run's descriptor as last published. */
    public RunDescriptor descriptor(String runId) {
        byte[] latest = null;
        for (ConsumerRecord<String, byte[]> r : readAll(topics.runs())) {
            if (runId.equals(r.key())) {
                latest = r.value();
            }
        }
        if (latest == null) {
            throw new IllegalArgumentException("no descriptor for run '" + runId + "' on " + topics.runs());
        }
        // The analyzer's default limits: a descriptor it would refuse is refused here too, with the reason,
        // rather than analysed until the replay runs out of memory.
        return io.grokwatch.run.RunLimits.DEFAULTS.parse(latest);
    }

    /**
     * Analyses the run's checkpoints with step >= {@code fromStep} in topic order, handing each spectrum
     * (the live format, with {@code "replay": true}) to {@code sink}; checkpoints the live analyzer would
     * dead-letter are skipped the same way. Returns the number of spectra.
     */
    public int replay(String runId, long fromStep, Consumer<SpectrumRecord> sink) {
        return replay(runId, fromStep, sink, alert -> { });
    }

    /**
     * As {@link #replay(String, long, Consumer)}, also re-running the detectors from the run's start (earlier
     * checkpoints are analysed to rebuild their state) and handing alerts at or after {@code fromStep} to
     * {@code alerts}.
     */
    public int replay(String runId, long fromStep, Consumer<SpectrumRecord> sink, Consumer<AlertRecord> alerts) {
        RunDescriptor d = descriptor(runId);
        io.grokwatch.detect.DetectorStates detectorState = detectors.initialState();
        long lastStep = -1;
        int n = 0;
        java.util.Map<String, io.grokwatch.linalg.Matrix> bases = java.util.Map.of();
        RunPace pace = null;
        try (RunAnalyzer analyzer = new RunAnalyzer(d)) {
            for (ConsumerRecord<String, byte[]> r : readAll(topics.checkpoints())) {
                if (!runId.equals(r.key())) {
                    continue;
                }
                CheckpointRecord c;
                try {
                    c = CheckpointRecord.decode(r.value());
                } catch (RuntimeException bad) {
                    continue;
                }
                long step = c.metadata().step();
                if (step <= lastStep) {
                    continue;
                }
                long started = System.nanoTime();
                RunAnalyzer.Analysis a;
                try {
                    a = analyzer.analyze(c.weights(), bases);
                } catch (RuntimeException bad) {
                    continue;
                }
                lastStep = step;
                // Through the same F32 encoding as the live analyzer's store, so solves start from the same numbers.
                if (!a.bases().isEmpty()) {
                    bases = io.grokwatch.run.EigenBases.rounded(a.bases());
                }
                var detected = detectors.observe(detectorState, a.observation(c.metadata()));
                detectorState = detected.state();
                // Against the checkpoints' original timestamps: whether this analyzer would have kept up with the run.
                double serviceSeconds = (System.nanoTime() - started) / 1e9;
                pace = pace == null ? RunPace.first(r.timestamp(), c.metadata().epoch())
                        : pace.next(r.timestamp(), c.metadata().epoch(), 0, serviceSeconds);
                if (step < fromStep) {
                    continue;
                }
                detected.alerts().forEach(alert -> alerts.accept(CheckpointProcessor.record(runId, alert)));
                // Alone: a replay is one run, whatever else shared the live analyzer.
                SpectrumRecord out = a.record(runId, c.metadata(), r.timestamp())
                        .withPace(pace.reported(AnalyzerLoad.Total.of(pace))).asReplay();
                sink.accept(out);
                n++;
            }
        }
        return n;
    }

    /** Every record of a topic up to its end offsets at the time of the call, partition by partition. */
    private List<ConsumerRecord<String, byte[]>> readAll(String topic) {
        Properties p = ClientConfigs.consumer(bootstrapServers, "grokwatch-replay-unused");
        p.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                parts.add(new TopicPartition(topic, info.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out reading " + topic);
                }
                c.poll(POLL).forEach(out::add);
            }
            return out;
        }
    }
}

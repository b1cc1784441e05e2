package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Parameters;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The analyzer's topology driven record by record: spectra for good input, a reasoned dead letter for bad. */
class AnalyzerTopologyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int P = 7;
    private static final int H = 16;

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> runs;
    private TestInputTopic<String, byte[]> checkpoints;
    private TestOutputTopic<String, byte[]> spectra;
    private TestOutputTopic<String, byte[]> deadLetters;
    private final AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();
    /** The analyzer's wall clock: it stands still unless a test moves it on. */
    private final TestClock clock = new TestClock();

    @BeforeEach
    void start() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "analyzer-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(AnalyzerTopology.build(new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(metrics, 1).withClock(clock)), props, clock.instant());
        runs = driver.createInputTopic("runs", new StringSerializer(), new ByteArraySerializer());
        checkpoints = driver.createInputTopic("checkpoints", new StringSerializer(), new ByteArraySerializer());
        spectra = driver.createOutputTopic("spectra", new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic("dlq", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    static RunDescriptor descriptor(String runId) {
        return new RunDescriptor(runId, ModelDescription.modularAddition(P, H), ProbeSource.generator(
                "modular-addition:p=" + P), RunDescriptor.AnalysisSettings.classMean(30), 1, Map.of("name", "test"));
    }

    static Parameters weights(long seed) {
        Random r = new Random(seed);
        Matrix w1 = new Matrix(H, 2 * P);
        Matrix w2 = new Matrix(P, H);
        for (double[] d : List.of(w1.data(), w2.data())) {
            for (int i = 0; i < d.length; i++) {
                d[i] = r.nextGaussian();
            }
        }
        return new Parameters().putMatrix("net.0.weight", w1).putMatrix("net.3.weight", w2);
    }

    static byte[] checkpoint(long step, long seed) {
        return CheckpointRecord.encode(weights(seed), CheckpointMetadata.of(step, step).withMetrics(0.5, 0.6, 0.9, 0.1));
    }

    private List<JsonNode> read(TestOutputTopic<String, byte[]> topic) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (byte[] v : topic.readValuesToList()) {
            out.add(JSON.readTree(v));
        }
        return out;
    }

    @Test
    void theLargeStoresChangelogsTakeTheirLargestRecordInShortSegments() {
        // What a restore after an unclean stop reads: compaction leaves the segment being written alone.
        java.util.Map<String, String> configs = AnalyzerTopology.changelogConfigs();
        int segment = Integer.parseInt(configs.get("segment.bytes"));
        int largest = Integer.parseInt(configs.get("max.message.bytes"));
        assertTrue(segment >= largest, "the broker refuses a batch larger than the segment");
        assertTrue(segment <= 128 * 1024 * 1024, "far below the broker's 1 GiB default: " + segment);
    }

    @Test
    void descriptorAndCheckpointsGiveOneSpectrumEach() throws Exception {
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        for (long step = 1; step <= 3; step++) {
            checkpoints.pipeInput("run-a", checkpoint(step, step));
        }
        List<JsonNode> out = read(spectra);
        assertEquals(3, out.size());
        for (int i = 0; i < 3; i++) {
            JsonNode s = out.get(i);
            assertEquals("run-a", s.get("runId").asText());
            assertEquals(i + 1, s.get("step").asLong());
            assertEquals(30, s.get("eigenvalues").size());
            assertTrue(s.get("overlaps").has("secondCliff"));
            assertTrue(s.get("layers").has("net.0"));
            assertEquals(0.1, s.get("testAccuracy").asDouble());
        }
        assertTrue(deadLetters.isEmpty());
        assertEquals(3, metrics.analysedCount());
    }

    @Test
    void eachSpectrumAfterTheFirstMeasuresDriftAgainstTheStoredEigenbasis() throws Exception {
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        checkpoints.pipeInput("run-a", checkpoint(2, 1));
        checkpoints.pipeInput("run-a", checkpoint(3, 2));
        List<JsonNode> out = read(spectra);
        assertEquals(3, out.size());
        // First checkpoint: nothing to compare with; the solve is reported.
        assertTrue(out.get(0).path("drift").isMissingNode());
        assertEquals("dense", out.get(0).path("solve").path("start").asText());
        // Same weights again: the leading eigenspace has not moved (F32-stored basis: drift ~1e-13).
        assertEquals(0.0, out.get(1).get("drift").asDouble(), 1e-9);
        assertEquals(0.0, out.get(1).get("layers").get("net.0").get("drift").asDouble(), 1e-9);
        // Unrelated random weights: the eigenspace moved a lot.
        double moved = out.get(2).get("drift").asDouble();
        assertTrue(moved > 0.05 && moved <= 1.0, "drift " + moved);
        // The basis is kept per run in the eigenbasis store, as a safetensors file of F32 tensors.
        byte[] stored = driver.<String, byte[]>getKeyValueStore(AnalyzerTopology.EIGENBASIS_STORE).get("run-a");
        Map<String, Matrix> bases = io.grokwatch.run.EigenBases.decode(stored);
        assertEquals(List.of("all", "net.0", "net.3"), List.copyOf(bases.keySet()));
        assertEquals(P * P, bases.get("all").rows());
    }

    @Test
    void eachSpectrumAfterTheFirstSaysWhetherTheAnalyzerKeepsUpWithTheRun() throws Exception {
        runs.pipeInput("paced", descriptor("paced").toBytes());
        runs.pipeInput("fast", descriptor("fast").toBytes());
        long t0 = 1_790_000_000_000L;
        // A checkpoint every 10 epochs: two seconds, then one apart (a p = 7 analysis takes milliseconds), and a
        // run whose checkpoints all carry the same millisecond (0.5 ms apart on average), faster than its analyses.
        checkpoints.pipeInput("paced", checkpoint(10, 1), t0);
        checkpoints.pipeInput("paced", checkpoint(20, 2), t0 + 2000);
        checkpoints.pipeInput("paced", checkpoint(30, 3), t0 + 3000);
        for (int i = 0; i < 4; i++) {
            checkpoints.pipeInput("fast", checkpoint(10 * (i + 1), i), t0);
        }
        List<JsonNode> out = read(spectra);
        List<JsonNode> paced = out.stream().filter(s -> s.get("runId").asText().equals("paced")).toList();
        List<JsonNode> fast = out.stream().filter(s -> s.get("runId").asText().equals("fast")).toList();
        assertTrue(paced.get(0).path("pace").isMissingNode(), "the first checkpoint has no interval");
        JsonNode second = paced.get(1).get("pace");
        assertEquals(2.0, second.get("checkpointIntervalSeconds").asDouble(), 1e-12);
        assertEquals(10.0, second.get("epochsPerCheckpoint").asDouble(), 1e-12);
        assertEquals(2, second.get("checkpoints").asInt());
        // The service time covers the analysis and the rest of the checkpoint's handling.
        assertTrue(second.get("serviceSeconds").asDouble() >= paced.get(1).path("timings").path("analysisSeconds")
                .asDouble(), paced.get(1).toString());
        JsonNode third = paced.get(2).get("pace");
        // Moving average: 0.7 of the old interval and 0.3 of the new one.
        assertEquals((1 - RunPace.WEIGHT) * 2.0 + RunPace.WEIGHT * 1.0, third.get("checkpointIntervalSeconds")
                .asDouble(), 1e-12);
        for (JsonNode p : List.of(second, third)) {
            double service = p.get("serviceSeconds").asDouble();
            assertTrue(service > 0 && service < 1.0, p.toString());
            assertEquals(service / p.get("checkpointIntervalSeconds").asDouble(), p.get("load").asDouble(), 1e-12);
            assertTrue(p.get("keepingUp").asBoolean(), p.toString());
            assertEquals(0.0, p.get("lagGrowthSecondsPerCheckpoint").asDouble());
            long keepUp = p.get("epochsPerCheckpointToKeepUp").asLong();
            assertTrue(keepUp >= 1 && keepUp <= 10, p.toString());
        }
        JsonNode outpaced = fast.get(3).get("pace");
        assertEquals(RunPace.SAME_MILLISECOND / 1e3, outpaced.get("checkpointIntervalSeconds").asDouble(), 1e-12);
        assertFalse(outpaced.get("keepingUp").asBoolean(), outpaced.toString());
        double load = outpaced.get("load").asDouble();
        assertTrue(load > 1, outpaced.toString());
        // The paced run shares the analyzer and is still active: the two loads add up.
        JsonNode pacedLast = paced.get(2).get("pace");
        assertEquals(2, outpaced.get("runsSharingTheAnalyzer").asInt());
        assertEquals(load + pacedLast.get("load").asDouble(), outpaced.get("analyzerLoad").asDouble(), 1e-12);
        assertEquals(1, pacedLast.get("runsSharingTheAnalyzer").asInt(), "the fast run had not started");
        assertEquals(RunPace.SAME_MILLISECOND / 1e3 * (outpaced.get("analyzerLoad").asDouble() - 1),
                outpaced.get("lagGrowthSecondsPerCheckpoint").asDouble(), 1e-12);
        long keepUp = outpaced.get("epochsPerCheckpointToKeepUp").asLong();
        double total = outpaced.get("analyzerLoad").asDouble();
        assertTrue(keepUp >= 10 * total - 1e-6 && keepUp < 10 * total + 1, keepUp + " for total load " + total);
        // A run counts while it is active, on the analyzer's wall clock: once the paced run's last analysis is longer
        // ago than AnalyzerLoad.MIN_ACTIVE (three of its intervals are less), the fast run has the analyzer alone.
        clock.advance(AnalyzerLoad.MIN_ACTIVE);
        checkpoints.pipeInput("fast", checkpoint(50, 4), t0);
        JsonNode shared = read(spectra).get(0).get("pace");
        assertEquals(2, shared.get("runsSharingTheAnalyzer").asInt(), "active for MIN_ACTIVE: " + shared);
        clock.advance(java.time.Duration.ofMillis(1));
        checkpoints.pipeInput("fast", checkpoint(60, 5), t0);
        JsonNode alone = read(spectra).get(0).get("pace");
        assertEquals(1, alone.get("runsSharingTheAnalyzer").asInt(), alone.toString());
        assertEquals(alone.get("load").asDouble(), alone.get("analyzerLoad").asDouble(), 1e-12);
        // The pace is kept with the run's state, so a restarted analyzer goes on averaging.
        RunState stored = RunState.read(driver.<String, byte[]>getKeyValueStore(AnalyzerTopology.RUN_STATE_STORE)
                .get("paced"));
        assertEquals(t0 + 3000, stored.pace().lastTimestampMs());
        assertEquals(2, stored.pace().intervals());
        assertEquals(30, stored.pace().lastEpoch());
    }

    @Test
    void duplicateAndOutOfOrderStepsAreDeadLetteredAndStateNeverGoesBack() throws Exception {
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(10, 1));
        checkpoints.pipeInput("run-a", checkpoint(10, 1));
        checkpoints.pipeInput("run-a", checkpoint(5, 2));
        checkpoints.pipeInput("run-a", checkpoint(20, 3));
        List<JsonNode> out = read(spectra);
        assertEquals(List.of(10L, 20L), out.stream().map(s -> s.get("step").asLong()).toList());
        List<JsonNode> dead = read(deadLetters);
        assertEquals(2, dead.size());
        for (JsonNode d : dead) {
            assertEquals("stale-step", d.get("reason").asText());
        }
        assertTrue(dead.get(1).get("message").asText().contains("step 5"));
    }

    @Test
    void eachKindOfBadInputIsDeadLetteredWithItsReasonAndTheStreamGoesOn() throws Exception {
        runs.pipeInput("bad-run", "{\"format\":\"grokwatch.run/v1\"}".getBytes());
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("nobody", checkpoint(1, 1));
        byte[] good = checkpoint(2, 2);
        checkpoints.pipeInput("run-a", Arrays.copyOf(good, good.length - 100));
        TensorFile missing = TensorFile.builder().add(Tensor.f64("net.0.weight", new long[] {H, 2 * P},
                new double[H * 2 * P])).metadata("step", "3").build();
        checkpoints.pipeInput("run-a", Safetensors.write(missing));
        TensorFile wrongShape = TensorFile.builder()
                .add(Tensor.f64("net.0.weight", new long[] {H, 2 * P}, new double[H * 2 * P]))
                .add(Tensor.f64("net.3.weight", new long[] {P, H + 1}, new double[P * (H + 1)]))
                .metadata("step", "4").build();
        checkpoints.pipeInput("run-a", Safetensors.write(wrongShape));
        Parameters nan = weights(5);
        nan.get("net.3.weight").data()[7] = Double.NaN;
        checkpoints.pipeInput("run-a", CheckpointRecord.encode(nan, CheckpointMetadata.of(5, 5)));
        TensorFile noStep = TensorFile.builder().add(Tensor.f64("x", new long[] {1}, new double[] {1}))
                .metadata("epoch", "1").build();
        checkpoints.pipeInput("run-a", Safetensors.write(noStep));
        checkpoints.pipeInput("run-a", checkpoint(6, 6));

        List<JsonNode> dead = read(deadLetters);
        assertEquals(List.of("malformed-descriptor", "unknown-run", "corrupt-checkpoint", "model-mismatch",
                "model-mismatch", "non-finite-weights", "bad-metadata"), dead.stream().map(d -> d.get("reason").asText())
                .toList());
        // The NaN checkpoint is also the run's non-finite alert, at its step; no other record raises one.
        List<JsonNode> nonFinite = read(driver.createOutputTopic("alerts", new StringDeserializer(),
                new ByteArrayDeserializer())).stream().filter(a -> a.get("type").asText().equals("non-finite")).toList();
        assertEquals(1, nonFinite.size(), nonFinite.toString());
        assertEquals("run-a", nonFinite.get(0).get("runId").asText());
        assertEquals(5, nonFinite.get(0).get("step").asLong());
        assertTrue(dead.get(4).get("message").asText().contains("[7, 17]"), dead.get(4).toString());
        assertTrue(dead.get(5).get("message").asText().contains("NaN"), dead.get(5).toString());
        for (JsonNode d : dead) {
            assertTrue(d.has("sourceTopic") && d.has("partition") && d.has("offset") && d.has("originalBase64"));
        }
        // The original bytes are kept: the truncated checkpoint comes back byte for byte.
        assertEquals(good.length - 100, java.util.Base64.getDecoder().decode(dead.get(2).get("originalBase64")
                .asText()).length);
        List<JsonNode> out = read(spectra);
        assertEquals(1, out.size(), "the good checkpoint after all the bad ones is analysed");
        assertEquals(6, out.get(0).get("step").asLong());
        assertEquals(1, metrics.deadLetteredCount(DeadLetterReason.CORRUPT_CHECKPOINT));
        assertEquals(2, metrics.deadLetteredCount(DeadLetterReason.MODEL_MISMATCH));
        assertEquals(1, metrics.deadLetteredCount(DeadLetterReason.NON_FINITE_WEIGHTS));
    }

    @Test
    void manyRunsAreKeptApart() throws Exception {
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        runs.pipeInput("run-b", descriptor("run-b").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        checkpoints.pipeInput("run-b", checkpoint(1, 1));
        checkpoints.pipeInput("run-b", checkpoint(2, 2));
        checkpoints.pipeInput("run-a", checkpoint(2, 3));
        List<JsonNode> out = read(spectra);
        assertEquals(4, out.size());
        // The same weights give the same spectrum in either run.
        assertEquals(out.get(0).get("eigenvalues"), out.get(1).get("eigenvalues"));
        assertTrue(deadLetters.isEmpty());
    }
}

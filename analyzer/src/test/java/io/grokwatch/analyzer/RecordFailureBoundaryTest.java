package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.detect.Detector;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.detect.Observation;
import io.grokwatch.run.RunLimits;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.function.LongFunction;

import static io.grokwatch.analyzer.AnalyzerTopologyTest.checkpoint;
import static io.grokwatch.analyzer.AnalyzerTopologyTest.descriptor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each record is a failure boundary: a record whose analysis throws anything, or that would cost more than the limits
 * allow, is dead-lettered with its reason, and the next good record of the run is analysed.
 */
class RecordFailureBoundaryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> runs;
    private TestInputTopic<String, byte[]> checkpoints;
    private TestOutputTopic<String, byte[]> spectra;
    private TestOutputTopic<String, byte[]> deadLetters;
    private final AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();
    private final TestClock clock = new TestClock();

    private void start(DetectorSuite detectors, AnalyzerLimits limits) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "boundary-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(AnalyzerTopology.build(new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(metrics, 1).withDetectors(detectors).withClock(clock).withLimits(limits)), props, clock.instant());
        runs = driver.createInputTopic("runs", new StringSerializer(), new ByteArraySerializer());
        checkpoints = driver.createInputTopic("checkpoints", new StringSerializer(), new ByteArraySerializer());
        spectra = driver.createOutputTopic("spectra", new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic("dlq", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    /** One detector that throws what {@code failure} gives for a step (nothing for null). */
    private static DetectorSuite failingAt(LongFunction<Throwable> failure) {
        return new DetectorSuite(List.of(new StatelessDetector("failing", o -> {
            Throwable t = failure.apply(o.step());
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            return List.of();
        })));
    }

    private List<JsonNode> read(TestOutputTopic<String, byte[]> topic) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (byte[] v : topic.readValuesToList()) {
            out.add(JSON.readTree(v));
        }
        return out;
    }

    private List<Long> steps(List<JsonNode> spectra) {
        return spectra.stream().map(s -> s.get("step").asLong()).toList();
    }

    @Test
    void anExceptionFromOneAnalysisDeadLettersItAndTheNextIsAnalysed() throws Exception {
        start(failingAt(step -> step == 2 ? new NullPointerException("detector bug") : null), AnalyzerLimits.DEFAULTS);
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        for (long step = 1; step <= 3; step++) {
            checkpoints.pipeInput("run-a", checkpoint(step, step));
        }
        assertEquals(List.of(1L, 3L), steps(read(spectra)));
        List<JsonNode> dead = read(deadLetters);
        assertEquals(1, dead.size());
        assertEquals("analysis-failed", dead.get(0).get("reason").asText());
        assertEquals("java.lang.NullPointerException: detector bug", dead.get(0).get("message").asText());
        assertArrayEquals(checkpoint(2, 2), Base64.getDecoder().decode(dead.get(0).get("originalBase64").asText()));
        assertEquals(1, metrics.deadLetteredCount(DeadLetterReason.ANALYSIS_FAILED));
        // Nothing of the failed analysis was stored: the run's last step is the one analysed after it.
        KeyValueStore<String, byte[]> state = driver.getKeyValueStore(AnalyzerTopology.RUN_STATE_STORE);
        assertEquals(3, RunState.read(state.get("run-a")).lastStep());
        assertEquals(2, RunState.read(state.get("run-a")).analysed());
    }

    @Test
    void runningOutOfMemoryInOneAnalysisDeadLettersItAndTheNextIsAnalysed() throws Exception {
        start(failingAt(step -> step == 2 ? new OutOfMemoryError("Java heap space") : null), AnalyzerLimits.DEFAULTS);
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        for (long step = 1; step <= 3; step++) {
            checkpoints.pipeInput("run-a", checkpoint(step, step));
        }
        assertEquals(List.of(1L, 3L), steps(read(spectra)));
        JsonNode dead = read(deadLetters).get(0);
        assertEquals("analysis-failed", dead.get("reason").asText());
        assertEquals("java.lang.OutOfMemoryError: Java heap space", dead.get("message").asText());
    }

    @Test
    void aKafkaFailureIsNotTheRecordsAndFailsTheTask() {
        start(failingAt(step -> step == 2 ? new KafkaException("the broker went away") : null), AnalyzerLimits.DEFAULTS);
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        RuntimeException e = assertThrows(RuntimeException.class, () -> checkpoints.pipeInput("run-a", checkpoint(2, 2)));
        assertTrue(causes(e).contains("the broker went away"), causes(e));
        assertTrue(deadLetters.isEmpty());
    }

    private static String causes(Throwable e) {
        StringBuilder s = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            s.append(t).append(" / ");
        }
        return s.toString();
    }

    @Test
    void anOversizedCorruptCheckpointIsReferredToByDigestAndTheNextIsAnalysed() throws Exception {
        start(DetectorSuite.defaults(), AnalyzerLimits.DEFAULTS);
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        byte[] corrupt = new byte[12_800_000];
        Arrays.fill(corrupt, (byte) 0x7f);
        checkpoints.pipeInput("run-a", corrupt);
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        assertEquals(List.of(1L), steps(read(spectra)));
        List<byte[]> dead = deadLetters.readValuesToList();
        assertEquals(1, dead.size());
        assertTrue(dead.get(0).length < 8192, "dead letter of " + dead.get(0).length + " bytes");
        JsonNode d = JSON.readTree(dead.get(0));
        assertEquals("corrupt-checkpoint", d.get("reason").asText());
        assertFalse(d.has("originalBase64"));
        assertEquals(corrupt.length, d.get("originalBytes").asLong());
        assertEquals(DeadLetter.sha256(corrupt), d.get("originalSha256").asText());
        assertEquals("checkpoints", d.get("sourceTopic").asText());
        assertEquals(0, d.get("offset").asLong());
    }

    @Test
    void anOverLimitDescriptorIsRefusedAtOnceAndAGoodRunIsAnalysed() throws Exception {
        start(DetectorSuite.defaults(), AnalyzerLimits.DEFAULTS);
        ObjectNode big = descriptor("run-big").toJson();
        ((ObjectNode) big.get("probe")).put("generator", "modular-addition:p=1000");
        long t0 = System.nanoTime();
        runs.pipeInput("run-big", JSON.writeValueAsBytes(big));
        // Sized from its spec: a million probes are never generated (that ran the heap out before).
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        checkpoints.pipeInput("run-big", checkpoint(1, 1));
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        assertEquals(List.of("run-a"), read(spectra).stream().map(s -> s.get("runId").asText()).toList());
        List<JsonNode> dead = read(deadLetters);
        assertEquals("over-limit", dead.get(0).get("reason").asText());
        assertTrue(dead.get(0).get("message").asText().contains("1000000 probes, over the limit of 16384 (max-probes"),
                dead.get(0).get("message").asText());
        assertEquals("unknown-run", dead.get(1).get("reason").asText());
        assertEquals(1, metrics.deadLetteredCount(DeadLetterReason.OVER_LIMIT));
    }

    @Test
    void probesThatDoNotFitTheModelAreRefused() throws Exception {
        start(DetectorSuite.defaults(), AnalyzerLimits.DEFAULTS);
        ObjectNode d = descriptor("run-a").toJson();
        ((ObjectNode) d.get("probe")).put("generator", "modular-addition:p=11");
        runs.pipeInput("run-a", JSON.writeValueAsBytes(d));
        JsonNode dead = read(deadLetters).get(0);
        assertEquals("malformed-descriptor", dead.get("reason").asText());
        assertEquals("the probes have width 22 but the model takes 14 inputs: probes modular-addition:p=11 cannot "
                + "be fed to it", dead.get("message").asText());
    }

    /** The default analyzer limits but these run limits. */
    private static AnalyzerLimits within(RunLimits run) {
        return new AnalyzerLimits(run, AnalyzerLimits.DEFAULT_DEAD_LETTER_ORIGINAL_BYTES,
                AnalyzerLimits.DEFAULT_MAX_STEP_JUMP, AnalyzerLimits.DEFAULT_MAX_RECORD_RETRIES);
    }

    @Test
    void aCheckpointOverTheParameterLimitIsRefusedAndTheRunGoesOn() throws Exception {
        // The test model has 16 x 14 + 7 x 16 = 336 parameters.
        start(DetectorSuite.defaults(), within(new RunLimits(RunLimits.DEFAULT_MAX_PROBES, 300,
                RunLimits.DEFAULT_MAX_KERNEL_ENTRIES, RunLimits.DEFAULT_MAX_STATE_BYTES)));
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        JsonNode dead = read(deadLetters).get(0);
        assertEquals("over-limit", dead.get("reason").asText());
        assertEquals("the model has 336 parameters, over the limit of 300 (max-parameters)",
                dead.get("message").asText());
        assertTrue(spectra.isEmpty());
    }

    @Test
    void eigenbasesOverTheStateLimitAreNotStored() throws Exception {
        start(DetectorSuite.defaults(), within(new RunLimits(RunLimits.DEFAULT_MAX_PROBES,
                RunLimits.DEFAULT_MAX_PARAMETERS, RunLimits.DEFAULT_MAX_KERNEL_ENTRIES, 1000)));
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(1, 1));
        JsonNode dead = read(deadLetters).get(0);
        assertEquals("over-limit", dead.get("reason").asText());
        assertTrue(dead.get("message").asText().contains("over the limit of 1000 (max-state-bytes)"),
                dead.get("message").asText());
        assertNull(driver.getKeyValueStore(AnalyzerTopology.EIGENBASIS_STORE).get("run-a"));
        assertNull(driver.getKeyValueStore(AnalyzerTopology.RUN_STATE_STORE).get("run-a"));
    }

    @Test
    void aStepFarBeyondTheRunsLastIsRefusedAndDoesNotWedgeTheRun() throws Exception {
        start(DetectorSuite.defaults(), new AnalyzerLimits(RunLimits.DEFAULTS,
                AnalyzerLimits.DEFAULT_DEAD_LETTER_ORIGINAL_BYTES, 1000, AnalyzerLimits.DEFAULT_MAX_RECORD_RETRIES));
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(Long.MAX_VALUE, 1));
        checkpoints.pipeInput("run-a", checkpoint(10, 1));
        checkpoints.pipeInput("run-a", checkpoint(1011, 2));
        checkpoints.pipeInput("run-a", checkpoint(1010, 3));
        assertEquals(List.of(10L, 1010L), steps(read(spectra)));
        List<JsonNode> dead = read(deadLetters);
        assertEquals(List.of("step-jump", "step-jump"), dead.stream().map(d -> d.get("reason").asText()).toList());
        assertEquals("step " + Long.MAX_VALUE + " of run 'run-a' is " + Long.MAX_VALUE + " steps beyond 0 (its first "
                + "checkpoint); at most 1000 are allowed (max-step-jump)", dead.get(0).get("message").asText());
        assertEquals("step 1011 of run 'run-a' is 1001 steps beyond its last accepted step 10; at most 1000 are "
                + "allowed (max-step-jump)", dead.get(1).get("message").asText());
    }

    @Test
    void aDeletedRunIsForgottenSoAWedgedRunCanStartAfresh() throws Exception {
        // Without a jump limit (as before it existed) a step of 2^63-1 wedges the run: every later step is stale.
        start(DetectorSuite.defaults(), new AnalyzerLimits(RunLimits.DEFAULTS,
                AnalyzerLimits.DEFAULT_DEAD_LETTER_ORIGINAL_BYTES, Long.MAX_VALUE,
                AnalyzerLimits.DEFAULT_MAX_RECORD_RETRIES));
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(Long.MAX_VALUE, 1));
        checkpoints.pipeInput("run-a", checkpoint(5, 2));
        assertEquals("stale-step", read(deadLetters).get(0).get("reason").asText());
        runs.pipeInput("run-a", (byte[]) null);
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        checkpoints.pipeInput("run-a", checkpoint(5, 2));
        assertEquals(List.of(Long.MAX_VALUE, 5L), steps(read(spectra)));
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void anOutOfRangeTopKIsRefusedNotWrapped() throws Exception {
        start(DetectorSuite.defaults(), AnalyzerLimits.DEFAULTS);
        ObjectNode d = descriptor("run-a").toJson();
        ((ObjectNode) d.get("analysis")).put("topK", 4294967297L);
        runs.pipeInput("run-a", JSON.writeValueAsBytes(d));
        JsonNode dead = read(deadLetters).get(0);
        assertEquals("malformed-descriptor", dead.get("reason").asText());
        assertEquals("\"analysis.topK\" is out of range, got 4294967297", dead.get("message").asText());
    }
}

package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.model.Parameters;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
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

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static io.grokwatch.analyzer.AnalyzerTopologyTest.checkpoint;
import static io.grokwatch.analyzer.AnalyzerTopologyTest.descriptor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Backlog#LATEST} driven record by record: a checkpoint taken up late waits, a newer one of its run supersedes
 * it, and once the input has drained (nothing new admitted for {@link CheckpointProcessor#QUIET}) the newest is
 * analysed. A checkpoint produced just now is analysed at once. Time stands still unless a test moves it on
 * ({@link #elapse}): the processor's wall clock is a {@link TestClock}, and the test driver's wall clock, which stands
 * for the stream thread's, moves with it. No decision here depends on how fast the machine is.
 */
class LatestBacklogTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Well past {@link CheckpointProcessor#FRESH}: these checkpoints waited in the broker. */
    private static final Duration LATE = Duration.ofSeconds(30);

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> checkpoints;
    private TestOutputTopic<String, byte[]> spectra;
    private TestOutputTopic<String, byte[]> deadLetters;
    private final AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();
    private final TestClock clock = new TestClock();

    @BeforeEach
    void start() {
        driver = new TopologyTestDriver(AnalyzerTopology.build(new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(metrics, 1).withBacklog(Backlog.LATEST).withClock(clock)), props("latest-test"),
                clock.instant());
        TestInputTopic<String, byte[]> runs = driver.createInputTopic("runs", new StringSerializer(),
                new ByteArraySerializer());
        checkpoints = driver.createInputTopic("checkpoints", new StringSerializer(), new ByteArraySerializer());
        spectra = driver.createOutputTopic("spectra", new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic("dlq", new StringDeserializer(), new ByteArrayDeserializer());
        runs.pipeInput("run-a", descriptor("run-a").toBytes());
        runs.pipeInput("run-b", descriptor("run-b").toBytes());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private void late(String run, byte[] checkpoint) {
        checkpoints.pipeInput(run, checkpoint, clock.instant().minus(LATE));
    }

    private void fresh(String run, byte[] checkpoint) {
        checkpoints.pipeInput(run, checkpoint, clock.instant());
    }

    /** Time passes: on the wall clock and on the stream thread's, whose punctuations run. */
    private void elapse(Duration d) {
        clock.advance(d);
        driver.advanceWallClockTime(d);
    }

    /** The stream thread's loop admitting nothing new for longer than {@link CheckpointProcessor#QUIET}. */
    private void idleTurn() {
        elapse(CheckpointProcessor.QUIET.plusMillis(10));
    }

    private List<JsonNode> read(TestOutputTopic<String, byte[]> topic) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (byte[] v : topic.readValuesToList()) {
            out.add(JSON.readTree(v));
        }
        return out;
    }

    private JsonNode runState(String run) throws Exception {
        return JSON.readTree(driver.<String, byte[]>getKeyValueStore(AnalyzerTopology.RUN_STATE_STORE).get(run));
    }

    @Test
    void lateCheckpointsSupersedeEachOtherAndTheNewestIsAnalysedOnceTheInputDrains() throws Exception {
        late("run-a", checkpoint(1, 1));
        late("run-a", checkpoint(2, 2));
        late("run-a", checkpoint(3, 3));
        assertTrue(spectra.isEmpty(), "nothing is analysed while checkpoints are still being admitted");
        elapse(CheckpointProcessor.QUIET.minusMillis(1));
        assertTrue(spectra.isEmpty(), "a fetch may still be landing");
        elapse(Duration.ofMillis(1)); // quiet for QUIET: the input has drained
        List<JsonNode> out = read(spectra);
        assertEquals(1, out.size());
        assertEquals(3, out.get(0).get("step").asLong());
        assertEquals(2, out.get(0).get("supersededCheckpoints").asInt());
        // Latencies on the wall clock: produced LATE before it was taken up, analysed QUIET after that (the analysis
        // itself takes no time on a clock that stands still).
        double waited = LATE.plus(CheckpointProcessor.QUIET).toMillis() / 1e3;
        assertEquals(waited, out.get(0).get("timings").get("queuedSeconds").asDouble(), 1e-9);
        assertEquals(waited, out.get(0).get("timings").get("producedToResultSeconds").asDouble(), 1e-9);
        assertEquals(2, metrics.supersededCount());
        assertEquals(1, metrics.analysedCount());
        assertEquals(3, runState("run-a").get("lastStep").asLong());
        assertEquals(2, runState("run-a").get("superseded").asLong());
        assertNull(driver.<String, byte[]>getKeyValueStore(AnalyzerTopology.PENDING_STORE).get("run-a"));
        assertTrue(deadLetters.isEmpty());
        idleTurn();
        assertTrue(spectra.isEmpty(), "analysed once");
    }

    @Test
    void aCheckpointProducedJustNowIsAnalysedAtOnceAndTakesTheWaitingOnesPlace() throws Exception {
        fresh("run-a", checkpoint(1, 1));
        List<JsonNode> out = read(spectra);
        assertEquals(1, out.size(), "no backlog: analysed as it arrives, as under 'all'");
        assertEquals(0, out.get(0).get("supersededCheckpoints").asInt());
        // Step 4 was produced (and in flight) before steps 2 and 3 were taken up, and reaches the analyzer promptly.
        Instant inFlight = clock.instant();
        elapse(CheckpointProcessor.FRESH.dividedBy(2));
        late("run-a", checkpoint(2, 2));
        late("run-a", checkpoint(3, 3));
        checkpoints.pipeInput("run-a", checkpoint(4, 4), inFlight);
        out = read(spectra);
        assertEquals(1, out.size());
        assertEquals(4, out.get(0).get("step").asLong());
        assertEquals(2, out.get(0).get("supersededCheckpoints").asInt());
        idleTurn();
        idleTurn();
        assertTrue(spectra.isEmpty(), "nothing left waiting");
    }

    @Test
    void aCheckpointIsFreshForFreshAfterItWasProducedAndWaitsOnceItIsOlder() throws Exception {
        Instant produced = clock.instant();
        elapse(CheckpointProcessor.FRESH);
        checkpoints.pipeInput("run-a", checkpoint(1, 1), produced);
        assertEquals(List.of(1L), read(spectra).stream().map(s -> s.get("step").asLong()).toList(),
                "exactly FRESH old: analysed at once");
        produced = clock.instant();
        elapse(CheckpointProcessor.FRESH.plusMillis(1));
        checkpoints.pipeInput("run-a", checkpoint(2, 2), produced);
        assertTrue(spectra.isEmpty(), "a millisecond older: it waits, in case a newer one is queued behind it");
        assertEquals(2, PendingCheckpoint.decode(driver.<String, byte[]>getKeyValueStore(AnalyzerTopology.PENDING_STORE)
                .get("run-a")).step());
        idleTurn();
        assertEquals(List.of(2L), read(spectra).stream().map(s -> s.get("step").asLong()).toList());
    }

    @Test
    void theNewestSpectrumEqualsItsAnalysisUnderAll() throws Exception {
        late("run-a", checkpoint(1, 1));
        idleTurn();
        idleTurn();
        late("run-a", checkpoint(2, 2));
        late("run-a", checkpoint(3, 3));
        idleTurn();
        idleTurn();
        List<JsonNode> latest = read(spectra);
        assertEquals(List.of(1L, 3L), latest.stream().map(s -> s.get("step").asLong()).toList());
        // Under 'all', steps 1 and 3 alone give the same spectrum: the warm start and drift of step 3 refer to
        // step 1, the last analysed, in both.
        try (TopologyTestDriver all = new TopologyTestDriver(AnalyzerTopology.build(new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(new AnalyzerMetrics.Counting(), 1)), props("all-test"))) {
            all.createInputTopic("runs", new StringSerializer(), new ByteArraySerializer())
                    .pipeInput("run-a", descriptor("run-a").toBytes());
            TestInputTopic<String, byte[]> in = all.createInputTopic("checkpoints", new StringSerializer(),
                    new ByteArraySerializer());
            in.pipeInput("run-a", checkpoint(1, 1));
            in.pipeInput("run-a", checkpoint(3, 3));
            List<JsonNode> every = read(all.createOutputTopic("spectra", new StringDeserializer(),
                    new ByteArrayDeserializer()));
            for (String field : List.of("eigenvalues", "overlaps", "gaps", "drift", "layers")) {
                assertEquals(every.get(1).get(field), latest.get(1).get(field), field);
            }
        }
    }

    private static Properties props(String id) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, id);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        return p;
    }

    @Test
    void aCheckpointProducedAfterTheWaitingOneWasTakenUpDoesNotSupersedeIt() throws Exception {
        late("run-a", checkpoint(1, 1));
        elapse(Duration.ofMillis(1));
        // Produced after step 1 was taken up: not part of the backlog step 1 was the newest of. Step 1 is analysed
        // first, then step 2, fresh, at once.
        fresh("run-a", checkpoint(2, 2));
        List<JsonNode> out = read(spectra);
        assertEquals(List.of(1L, 2L), out.stream().map(s -> s.get("step").asLong()).toList());
        assertEquals(0, out.get(0).get("supersededCheckpoints").asInt());
        assertEquals(0, out.get(1).get("supersededCheckpoints").asInt());
        assertEquals(0, metrics.supersededCount());
    }

    @Test
    void runsWaitIndependently() throws Exception {
        late("run-a", checkpoint(1, 1));
        late("run-b", checkpoint(1, 1));
        late("run-a", checkpoint(2, 2));
        idleTurn();
        idleTurn();
        List<JsonNode> out = read(spectra);
        assertEquals(2, out.size());
        JsonNode a = out.stream().filter(s -> s.get("runId").asText().equals("run-a")).findFirst().orElseThrow();
        JsonNode b = out.stream().filter(s -> s.get("runId").asText().equals("run-b")).findFirst().orElseThrow();
        assertEquals(2, a.get("step").asLong());
        assertEquals(1, a.get("supersededCheckpoints").asInt());
        assertEquals(1, b.get("step").asLong());
        assertEquals(0, b.get("supersededCheckpoints").asInt());
    }

    @Test
    void aStepAtOrBeforeTheWaitingOneIsStale() throws Exception {
        late("run-a", checkpoint(5, 1));
        late("run-a", checkpoint(5, 1));
        late("run-a", checkpoint(4, 2));
        List<JsonNode> dead = read(deadLetters);
        assertEquals(2, dead.size());
        for (JsonNode d : dead) {
            assertEquals("stale-step", d.get("reason").asText());
            assertTrue(d.get("message").asText().contains("waits for its analysis"), d.toString());
        }
        idleTurn();
        idleTurn();
        List<JsonNode> out = read(spectra);
        assertEquals(1, out.size());
        assertEquals(5, out.get(0).get("step").asLong());
        assertEquals(0, out.get(0).get("supersededCheckpoints").asInt());
    }

    @Test
    void aWaitingCheckpointTheAnalysisRejectsIsDeadLetteredWithItsOriginAndTheRunGoesOn() throws Exception {
        Parameters nan = AnalyzerTopologyTest.weights(5);
        nan.get("net.3.weight").data()[3] = Double.NaN;
        byte[] bad = CheckpointRecord.encode(nan, CheckpointMetadata.of(5, 5));
        late("run-a", bad);
        idleTurn();
        idleTurn();
        List<JsonNode> dead = read(deadLetters);
        assertEquals(1, dead.size());
        JsonNode d = dead.get(0);
        assertEquals("non-finite-weights", d.get("reason").asText());
        assertEquals("checkpoints", d.get("sourceTopic").asText());
        assertEquals(0, d.get("offset").asLong());
        assertArrayEquals(bad, java.util.Base64.getDecoder().decode(d.get("originalBase64").asText()));
        fresh("run-a", checkpoint(6, 6));
        assertEquals(6, read(spectra).get(0).get("step").asLong());
    }

    /**
     * A restart, at the processor: its stores hold what the changelogs restore (a registered run and a checkpoint
     * that was waiting when the last instance stopped); the new processor finds the waiting checkpoint on start and
     * analyses it at its first punctuation. (The test driver cannot restart: it wipes its state when closed.)
     */
    @Test
    void aCheckpointWaitingWhenTheAnalyzerStoppedIsAnalysedAfterItStarts() throws Exception {
        org.apache.kafka.streams.processor.api.MockProcessorContext<String, Object> context =
                new org.apache.kafka.streams.processor.api.MockProcessorContext<>(props("restart-test"));
        context.setCurrentSystemTimeMs(clock.millis());
        for (String name : List.of(AnalyzerTopology.RUNS_STORE, AnalyzerTopology.RUN_STATE_STORE,
                AnalyzerTopology.EIGENBASIS_STORE, AnalyzerTopology.PENDING_STORE)) {
            var store = org.apache.kafka.streams.state.Stores.keyValueStoreBuilder(
                    org.apache.kafka.streams.state.Stores.inMemoryKeyValueStore(name),
                    org.apache.kafka.common.serialization.Serdes.String(),
                    org.apache.kafka.common.serialization.Serdes.ByteArray()).withLoggingDisabled().build();
            store.init(context.getStateStoreContext(), store);
            context.addStateStore(store);
        }
        context.<org.apache.kafka.streams.state.KeyValueStore<String, byte[]>>getStateStore(AnalyzerTopology.RUNS_STORE)
                .put("run-a", descriptor("run-a").toBytes());
        byte[] waiting = checkpoint(7, 7);
        context.<org.apache.kafka.streams.state.KeyValueStore<String, byte[]>>getStateStore(
                AnalyzerTopology.PENDING_STORE).put("run-a", new PendingCheckpoint(new ReceivedRecord("run-a", waiting,
                clock.millis() - LATE.toMillis(), "checkpoints", 0, 41), 7, 3).encode());
        CheckpointProcessor processor = new CheckpointProcessor("runs", AnalyzerTopology.Settings.of(metrics, 1)
                .withBacklog(Backlog.LATEST).withClock(clock), new AnalyzerLoad());
        processor.init(context);
        assertTrue(context.forwarded().isEmpty());
        var punctuator = context.scheduledPunctuators().get(0);
        assertEquals(org.apache.kafka.streams.processor.PunctuationType.WALL_CLOCK_TIME, punctuator.getType());
        punctuator.getPunctuator().punctuate(context.currentSystemTimeMs());
        var spectra = context.forwarded(AnalyzerTopology.SPECTRA_SINK);
        assertEquals(1, spectra.size());
        var s = (io.grokwatch.records.SpectrumRecord) spectra.get(0).record().value();
        assertEquals(7, s.step());
        assertEquals(3, s.supersededCheckpoints());
        assertNull(context.<org.apache.kafka.streams.state.KeyValueStore<String, byte[]>>getStateStore(
                AnalyzerTopology.PENDING_STORE).get("run-a"));
        processor.close();
    }

    @Test
    void pendingCheckpointsSurviveTheirStoredForm() {
        ReceivedRecord r = new ReceivedRecord("run-x", new byte[] {1, 2, 3}, 1234L, "checkpoints", 2, 99L);
        PendingCheckpoint p = new PendingCheckpoint(r, 42, 0).superseding(new PendingCheckpoint(r, 41, 3));
        assertEquals(4, p.superseded());
        PendingCheckpoint back = PendingCheckpoint.decode(p.encode());
        assertNotNull(back);
        assertEquals(42, back.step());
        assertEquals(4, back.superseded());
        assertEquals("run-x", back.record().key());
        assertEquals(1234L, back.record().timestampMs());
        assertEquals("checkpoints", back.record().topic());
        assertEquals(2, back.record().partition());
        assertEquals(99L, back.record().offset());
        assertArrayEquals(new byte[] {1, 2, 3}, back.record().value());
        assertNull(PendingCheckpoint.decode(null));
        byte[] wrongVersion = p.encode();
        wrongVersion[3] = 9;
        assertThrows(IllegalStateException.class, () -> PendingCheckpoint.decode(wrongVersion));
    }

    @Test
    void theBacklogPolicyParsesItsLabelsAndNamesThemWhenItCannot() {
        assertEquals(Backlog.ALL, Backlog.parse("all"));
        assertEquals(Backlog.LATEST, Backlog.parse(" Latest "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backlog.parse("newest"));
        assertTrue(e.getMessage().contains("all, latest") && e.getMessage().contains("newest"), e.getMessage());
    }
}

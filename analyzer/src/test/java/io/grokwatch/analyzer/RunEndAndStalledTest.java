package io.grokwatch.analyzer;

import io.grokwatch.detect.Alert;
import io.grokwatch.detect.Detector;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.detect.Observation;
import io.grokwatch.detect.StalledRule;
import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.DeadLetterRecord;
import io.grokwatch.records.Evidence;
import io.grokwatch.records.RunEndRecord;
import io.grokwatch.records.SpectrumRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The end of a run and its silence, through the topology: a run's end resolves every alert it raised; a run that goes
 * quiet without an end is reported {@code stalled} once and resolved when it checkpoints again; an ended run is never
 * called stalled. Time is the test's: the analyzer's clock and the driver's wall clock move only when told.
 */
class RunEndAndStalledTest {
    /** Checkpoints one second apart: the run's usual interval is 1 s, so the 120 s floor of the rule applies. */
    private static final Duration INTERVAL = Duration.ofSeconds(1);
    private static final long THRESHOLD_MS = 120_000;

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> runs;
    private TestInputTopic<String, byte[]> checkpoints;
    private TestOutputTopic<String, byte[]> spectra;
    private TestOutputTopic<String, byte[]> alerts;
    private TestOutputTopic<String, byte[]> deadLetters;
    private final TestClock clock = new TestClock();
    private final AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();

    /** Raises {@code test-alert} at step 2: an alert the run's end must resolve. */
    private static DetectorSuite detectors() {
        StatelessDetector atStepTwo = new StatelessDetector("test-alert", o -> o.step() != 2 ? List.of()
                : List.of(new Alert("test-alert", o.epoch(), o.step(), 0.9, Evidence.of("step two").build())));
        return new DetectorSuite(List.of(atStepTwo), new StalledRule(StalledRule.Config.DEFAULT));
    }

    @BeforeEach
    void start() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "run-end-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(AnalyzerTopology.build(
                new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(metrics, 1).withDetectors(detectors()).withClock(clock)), props,
                clock.instant());
        runs = driver.createInputTopic("runs", new StringSerializer(), new ByteArraySerializer());
        checkpoints = driver.createInputTopic("checkpoints", new StringSerializer(), new ByteArraySerializer());
        spectra = driver.createOutputTopic("spectra", new StringDeserializer(), new ByteArrayDeserializer());
        alerts = driver.createOutputTopic("alerts", new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic("dlq", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    /** Steps {@code from..to}, one {@link #INTERVAL} apart on the analyzer's clock, each produced as it is taken up. */
    private void checkpointSteps(String runId, long from, long to) {
        for (long step = from; step <= to; step++) {
            clock.advance(INTERVAL);
            checkpoints.pipeInput(runId, AnalyzerTopologyTest.checkpoint(step, step), clock.instant());
        }
    }

    private void end(String runId, String status, long lastStep) {
        RecordHeaders headers = new RecordHeaders(List.of(new RecordHeader(RunEndRecord.HEADER,
                RunEndRecord.HEADER_VALUE.getBytes(StandardCharsets.UTF_8))));
        checkpoints.pipeInput(new TestRecord<>(runId, new RunEndRecord(runId, status, lastStep).toBytes(), headers,
                clock.instant()));
    }

    /** Lets {@code d} pass on both clocks: the analyzer's, and the stream thread's that runs the stall check. */
    private void wait(Duration d) {
        clock.advance(d);
        driver.advanceWallClockTime(d);
    }

    private List<AlertRecord> readAlerts() {
        return alerts.readValuesToList().stream().map(AlertRecord::read).toList();
    }

    @Test
    void aRunsEndResolvesItsAlertsAndACheckpointAfterItOpensTheRunAgain() {
        runs.pipeInput("r", AnalyzerTopologyTest.descriptor("r").toBytes());
        checkpointSteps("r", 1, 3);
        List<AlertRecord> raised = readAlerts();
        assertEquals(1, raised.size());
        assertFalse(raised.get(0).resolved());

        end("r", RunEndRecord.COMPLETED, 3);
        List<AlertRecord> resolved = readAlerts();
        assertEquals(1, resolved.size(), resolved.toString());
        AlertRecord r = resolved.get(0);
        assertTrue(r.resolved());
        assertEquals("test-alert", r.type());
        assertEquals(2, r.step(), "the alert it resolves, at the step it fired");
        assertEquals("completed", r.evidence().values().get("status"));
        assertEquals(List.of("r:completed"), metrics.ends());
        assertTrue(deadLetters.isEmpty());

        // An ended run is not expected to checkpoint: never stalled, however long it stays quiet.
        wait(Duration.ofMillis(THRESHOLD_MS + 10_000));
        assertTrue(alerts.isEmpty(), "an ended run is not stalled");

        checkpointSteps("r", 4, 4);
        assertEquals(4, spectra.readValuesToList().stream().map(SpectrumRecord::read).count());
        // The 130 s pause is now part of the run's usual interval (moving average 0.7 * 1 s + 0.3 * 131 s = 40 s),
        // so its threshold is 10 intervals, 400 s: ten minutes of quiet pass it.
        wait(Duration.ofMinutes(10));
        List<AlertRecord> again = readAlerts();
        assertEquals(1, again.size(), "open again, so a silence is a stall: " + again);
        assertEquals(StalledRule.NAME, again.get(0).type());
    }

    @Test
    void aQuietRunIsReportedStalledOnceAndResolvedByItsNextCheckpoint() {
        runs.pipeInput("q", AnalyzerTopologyTest.descriptor("q").toBytes());
        checkpointSteps("q", 1, 3);
        readAlerts();
        // Within the threshold: still fine (the check runs every 5 s of the stream thread's time).
        wait(Duration.ofMillis(THRESHOLD_MS - 5_000));
        assertTrue(alerts.isEmpty());
        wait(Duration.ofSeconds(10));
        List<AlertRecord> stalled = readAlerts();
        assertEquals(1, stalled.size(), stalled.toString());
        AlertRecord s = stalled.get(0);
        assertEquals(StalledRule.NAME, s.type());
        assertFalse(s.resolved());
        assertEquals(3, s.step(), "at the last checkpoint before the silence");
        assertTrue(s.evidence().number("silentSeconds") > 120, s.evidence().toString());
        // Once per silence.
        wait(Duration.ofSeconds(60));
        assertTrue(alerts.isEmpty());

        checkpointSteps("q", 4, 4);
        List<AlertRecord> back = readAlerts();
        assertEquals(1, back.size(), back.toString());
        assertTrue(back.get(0).resolved());
        assertEquals(StalledRule.NAME, back.get(0).type());
        assertEquals(3, back.get(0).step(), "the stalled alert it resolves");
    }

    @Test
    void theEndOfAnUnknownRunOrAnUnreadableEndIsADeadLetter() {
        end("nobody", RunEndRecord.COMPLETED, 1);
        runs.pipeInput("k", AnalyzerTopologyTest.descriptor("k").toBytes());
        RecordHeaders headers = new RecordHeaders(List.of(new RecordHeader(RunEndRecord.HEADER,
                RunEndRecord.HEADER_VALUE.getBytes(StandardCharsets.UTF_8))));
        checkpoints.pipeInput(new TestRecord<>("k", "{\"runId\": \"k\", \"status\": \"done?\"}"
                .getBytes(StandardCharsets.UTF_8), headers, clock.instant()));
        List<DeadLetterRecord> dead = deadLetters.readValuesToList().stream().map(DeadLetterRecord::read).toList();
        assertEquals(List.of("unknown-run", "bad-metadata"), dead.stream().map(DeadLetterRecord::reason).toList());
        assertTrue(dead.get(1).message().contains("completed, stopped, failed"), dead.get(1).message());
        // The run goes on: its checkpoints are analysed.
        checkpointSteps("k", 1, 1);
        assertEquals(1, spectra.readValuesToList().size());
    }
}

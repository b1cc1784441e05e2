package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.detect.DetectorStates;
import io.grokwatch.records.Evidence;
import io.grokwatch.records.SpectrumRecord;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.detect.Alert;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The analyzer's meters: names and labels from a spectrum's JSON, phases from alerts, removal after retention. */
class PrometheusAnalyzerMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final MockClock clock = new MockClock();
    private final PrometheusAnalyzerMetrics metrics = new PrometheusAnalyzerMetrics(
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), Duration.ofMinutes(30), clock);

    /** A spectrum as the analyzer emits it, with the drift and solve fields of warm-started solves. */
    static SpectrumRecord spectrum(String runId, long epoch, boolean withDrift) throws Exception {
        ObjectNode s = (ObjectNode) JSON.readTree("""
                {"runId": "%s", "step": %d, "epoch": %d, "trainLoss": 0.01, "testLoss": 2.5,
                 "trainAccuracy": 1.0, "testAccuracy": 0.84,
                 "eigenvalues": [0.6, 0.3, 0.2, 0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04],
                 "effectiveRank": 12.5, "residual": 1e-12, "cliffs": [{"position": 0, "ratio": 28.6}],
                 "overlaps": {"firstCliff": {"n": 0.99, "m": 0.98, "sum": 0.01, "diff": 0.02},
                              "secondCliff": {"n": 0.01, "m": 0.02, "sum": 0.82, "diff": 0.80}},
                 "gaps": {"endOfSecondCliff": 1.07},
                 "solve": {"start": "warm", "iterations": 3, "residual": 1e-10},
                 "layers": {"net.0": {"eigenvalues": [0.5, 0.25], "effectiveRank": 7.0,
                                      "solve": {"start": "cold", "fellBack": true, "iterations": 9,
                                                "residual": 1e-10}},
                            "net.3": {"eigenvalues": [0.1], "effectiveRank": 3.0}},
                 "timings": {"analysisSeconds": 0.2, "checkpointTimestampMs": 1796553000500}}
                """.formatted(runId, epoch, epoch));
        if (withDrift) {
            s.putObject("pace").put("checkpointIntervalSeconds", 0.7).put("serviceSeconds", 3.08).put("load", 4.4)
                    .put("analyzerLoad", 5.1).put("runsSharingTheAnalyzer", 2).put("keepingUp", false);
            s.put("drift", 0.12);
            ((ObjectNode) s.get("layers").get("net.0")).put("drift", 0.3);
            ((ObjectNode) s.get("layers").get("net.3")).put("drift", 0.05);
        }
        // Through the wire format: the JSON above is what the spectra topic carries.
        return SpectrumRecord.read(JSON.writeValueAsBytes(s));
    }

    private static final Evidence NO_EVIDENCE = new Evidence("a test alert", null);

    /** Detector states in which each of {@code names} has fired (as each once-per-run detector keeps it). */
    private static DetectorStates fired(List<String> names) throws Exception {
        ObjectNode o = JSON.createObjectNode();
        names.forEach(n -> o.putObject(n).put("fired", true));
        return JSON.treeToValue(o, DetectorStates.class);
    }

    private static void assertContains(String text, String... lines) {
        for (String l : lines) {
            assertTrue(text.contains(l), "missing: " + l + "\n" + text);
        }
    }

    @Test
    void aSpectrumGivesEveryPerRunMeterWithItsLabels() throws Exception {
        assertContains(metrics.scrape(), "grokwatch_eigen_warm_fallbacks_total 0.0",
                "grokwatch_onset_overlap_threshold 0.5");
        metrics.onsetThreshold(0.6);
        assertContains(metrics.scrape(), "grokwatch_onset_overlap_threshold 0.6");
        metrics.analysed("run-a", 0.12, 0.3);
        metrics.deadLettered(DeadLetterReason.CORRUPT_CHECKPOINT);
        metrics.spectrum("run-a", spectrum("run-a", 80, false));
        String first = metrics.scrape();
        assertContains(first,
                "grokwatch_eigenspace_drift{layer=\"all\",run=\"run-a\"} NaN",
                "grokwatch_eigenspace_drift{layer=\"net.0\",run=\"run-a\"} NaN",
                "grokwatch_analysis_load{run=\"run-a\"} NaN",
                "grokwatch_checkpoint_interval_seconds{run=\"run-a\"} NaN",
                "grokwatch_analyzer_load NaN",
                "grokwatch_analyzer_load_for_run{run=\"run-a\"} NaN");
        metrics.spectrum("run-a", spectrum("run-a", 90, true));
        metrics.alert("run-a", new Alert("grokking-onset", 60, 60, 0.5, NO_EVIDENCE));
        assertContains(metrics.scrape(),
                "grokwatch_dead_letters_total{reason=\"corrupt-checkpoint\"} 1.0",
                "grokwatch_dead_letters_total{reason=\"model-mismatch\"} 0.0",
                "grokwatch_checkpoint_analysis_seconds_count 1",
                "grokwatch_checkpoint_lag_seconds_bucket",
                "grokwatch_eigenvalue{layer=\"all\",rank=\"1\",run=\"run-a\"} 0.6",
                "grokwatch_eigenvalue{layer=\"all\",rank=\"8\",run=\"run-a\"} 0.06",
                "grokwatch_eigenvalue{layer=\"net.0\",rank=\"2\",run=\"run-a\"} 0.25",
                "grokwatch_eigenvalue{layer=\"net.3\",rank=\"2\",run=\"run-a\"} NaN",
                "grokwatch_cliff_overlap{cliff=\"secondCliff\",family=\"sum\",run=\"run-a\"} 0.82",
                "grokwatch_cliff_overlap{cliff=\"firstCliff\",family=\"n\",run=\"run-a\"} 0.99",
                "grokwatch_gap_ratio{gap=\"endOfSecondCliff\",run=\"run-a\"} 1.07",
                "grokwatch_effective_rank{layer=\"all\",run=\"run-a\"} 12.5",
                "grokwatch_effective_rank{layer=\"net.3\",run=\"run-a\"} 3.0",
                "grokwatch_eigenspace_drift{layer=\"all\",run=\"run-a\"} 0.12",
                "grokwatch_eigenspace_drift{layer=\"net.0\",run=\"run-a\"} 0.3",
                "grokwatch_epoch{run=\"run-a\"} 90.0",
                "grokwatch_analysis_load{run=\"run-a\"} 4.4",
                "grokwatch_analyzer_load 5.1",
                "grokwatch_analyzer_load_for_run{run=\"run-a\"} 5.1",
                "grokwatch_checkpoint_interval_seconds{run=\"run-a\"} 0.7",
                "grokwatch_step{run=\"run-a\"} 90.0",
                "grokwatch_last_checkpoint_timestamp_seconds{run=\"run-a\"} 1.7965530005E9",
                "grokwatch_train_loss{run=\"run-a\"} 0.01",
                "grokwatch_test_loss{run=\"run-a\"} 2.5",
                "grokwatch_train_accuracy{run=\"run-a\"} 1.0",
                "grokwatch_test_accuracy{run=\"run-a\"} 0.84",
                "grokwatch_phase{run=\"run-a\"} 1.0",
                "grokwatch_alerts_total{run=\"run-a\",type=\"grokking-onset\"} 1.0",
                "grokwatch_alerts_total{run=\"run-a\",type=\"generalization\"} 0.0",
                "grokwatch_alert_epoch{run=\"run-a\",type=\"grokking-onset\"} 60.0",
                "grokwatch_eigen_solves_total{start=\"warm\"} 2.0",
                "grokwatch_eigen_solves_total{start=\"cold\"} 2.0",
                "grokwatch_eigen_solves_total{start=\"dense\"} 0.0",
                "grokwatch_eigen_warm_fallbacks_total 2.0",
                "grokwatch_runs_active 1.0");
    }

    @Test
    void theAnalyzerLoadReadsZeroOnceItsRunsHaveEnded() throws Exception {
        metrics.spectrum("run-a", spectrum("run-a", 90, true));
        assertContains(metrics.scrape(), "grokwatch_analyzer_load 5.1");
        // The runs count for 10 s after their last checkpoint (three 0.7 s intervals are less).
        clock.add(Duration.ofSeconds(10));
        assertContains(metrics.scrape(), "grokwatch_analyzer_load 5.1");
        clock.add(Duration.ofMillis(1));
        assertContains(metrics.scrape(), "grokwatch_analyzer_load 0.0");
    }

    @Test
    void phaseGoesFromNoneToOnsetToGeneralizedAndNeverBack() throws Exception {
        metrics.spectrum("r", spectrum("r", 10, false));
        assertContains(metrics.scrape(), "grokwatch_phase{run=\"r\"} 0.0");
        metrics.alert("r", new Alert("grokking-onset", 60, 60, 0.5, NO_EVIDENCE));
        assertContains(metrics.scrape(), "grokwatch_phase{run=\"r\"} 1.0");
        metrics.alert("r", new Alert("generalization", 90, 90, 1.0, NO_EVIDENCE));
        assertContains(metrics.scrape(), "grokwatch_phase{run=\"r\"} 2.0");
        metrics.alert("r", new Alert("spectral-gap", 100, 100, 0.5, NO_EVIDENCE));
        metrics.alert("r", new Alert("grokking-onset", 110, 110, 0.5, NO_EVIDENCE));
        assertContains(metrics.scrape(), "grokwatch_phase{run=\"r\"} 2.0",
                "grokwatch_alert_epoch{run=\"r\",type=\"generalization\"} 90.0");
    }

    /** A stored run state after {@code alerts} (type, epoch) at steps = epochs, last checkpoint at {@code lastMs}. */
    private static RunState stateWith(long lastStep, long lastMs, Object... alerts) throws Exception {
        List<Alert> raised = new java.util.ArrayList<>();
        List<String> types = new java.util.ArrayList<>();
        for (int i = 0; i < alerts.length; i += 2) {
            long epoch = ((Number) alerts[i + 1]).longValue();
            raised.add(new Alert((String) alerts[i], epoch, epoch, 0.5, NO_EVIDENCE));
            types.add((String) alerts[i]);
        }
        RunState s = new RunState(lastStep, lastStep, 10, 0, new double[] {1.0}, fired(types),
                RunPace.first(lastMs, lastStep));
        return RunState.read(s.withAlerts(null, raised).toBytes());
    }

    @Test
    void aRestoredRunReportsThePhaseAndAlertsOfItsStateNotZero() throws Exception {
        RunVerdict v = RunVerdict.of(stateWith(110, clock.wallTime(), "grokking-onset", 60, "generalization", 90));
        assertEquals(PrometheusAnalyzerMetrics.PHASE_GENERALIZED, v.phase());
        metrics.restored("r", v);
        String restored = metrics.scrape();
        assertContains(restored, "grokwatch_phase{run=\"r\"} 2.0",
                "grokwatch_alert_epoch{run=\"r\",type=\"grokking-onset\"} 60.0",
                "grokwatch_alert_epoch{run=\"r\",type=\"generalization\"} 90.0",
                "grokwatch_alerts_total{run=\"r\",type=\"grokking-onset\"} 1.0",
                "grokwatch_alerts_total{run=\"r\",type=\"spectral-gap\"} 0.0",
                "grokwatch_last_checkpoint_timestamp_seconds{run=\"r\"} " + clock.wallTime() / 1000.0);
        // The next checkpoint: its spectrum, with the verdict of the state written for it, keeps the phase.
        metrics.verdict("r", RunVerdict.of(stateWith(120, clock.wallTime(), "grokking-onset", 60,
                "generalization", 90)));
        metrics.spectrum("r", spectrum("r", 120, true));
        assertContains(metrics.scrape(), "grokwatch_phase{run=\"r\"} 2.0",
                "grokwatch_alerts_total{run=\"r\",type=\"generalization\"} 1.0");
    }

    @Test
    void anAlertOfTheCheckpointJustAnalysedIsCountedOnce() throws Exception {
        metrics.verdict("r", RunVerdict.of(stateWith(60, clock.wallTime(), "grokking-onset", 60)));
        metrics.spectrum("r", spectrum("r", 60, false));
        metrics.alert("r", new Alert("grokking-onset", 60, 60, 0.5, NO_EVIDENCE));
        assertContains(metrics.scrape(), "grokwatch_alerts_total{run=\"r\",type=\"grokking-onset\"} 1.0",
                "grokwatch_phase{run=\"r\"} 1.0");
    }

    @Test
    void aRunFinishedBeforeTheRetentionIsNotRestoredAndARecentOneExpiresOnItsOwnSchedule() throws Exception {
        clock.add(2, TimeUnit.HOURS);
        long now = clock.wallTime();
        metrics.restored("old", RunVerdict.of(stateWith(50, now - Duration.ofMinutes(31).toMillis(),
                "grokking-onset", 20)));
        metrics.restored("recent", RunVerdict.of(stateWith(50, now - Duration.ofMinutes(20).toMillis(),
                "grokking-onset", 20)));
        String text = metrics.scrape();
        assertFalse(text.contains("run=\"old\""), text);
        assertContains(text, "grokwatch_phase{run=\"recent\"} 1.0");
        clock.add(10, TimeUnit.MINUTES);
        assertFalse(metrics.scrape().contains("run=\"recent\""), "30 minutes after its last checkpoint");
    }

    @Test
    void aReleasedRunLosesItsSeriesAtOnce() throws Exception {
        metrics.spectrum("moved", spectrum("moved", 10, false));
        metrics.spectrum("kept", spectrum("kept", 10, false));
        metrics.released("moved");
        String text = metrics.scrape();
        assertFalse(text.contains("run=\"moved\""), text);
        assertContains(text, "grokwatch_epoch{run=\"kept\"} 10.0");
    }

    @Test
    void aStateWrittenBeforeAlertsWereKeptStillGivesThePhase() throws Exception {
        // As a state of that version was stored, read through the store's codec.
        RunState old = RunState.read("""
                {"lastStep": 70, "lastEpoch": 70, "analysed": 7, "superseded": 0, "lastEigenvalues": [],
                 "detectors": {"grokking-onset": {"fired": true, "minOverlap": 0.1, "previousOverlap": 0.6,
                                                  "previousEpoch": 70},
                               "generalization": {"fired": false, "memorisedAtEpoch": null}}}
                """.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        RunVerdict v = RunVerdict.of(old);
        assertEquals(PrometheusAnalyzerMetrics.PHASE_ONSET, v.phase());
        assertEquals(new RunVerdict.Mark(-1, -1), v.alerts().get("grokking-onset"));
        assertEquals(1, v.alerts().size());
    }

    @Test
    void aRunWithoutACheckpointForTheRetentionLosesEverySeriesAndServiceMetersStay() throws Exception {
        metrics.spectrum("finished", spectrum("finished", 100, true));
        metrics.alert("finished", new Alert("grokking-onset", 60, 60, 0.5, NO_EVIDENCE));
        clock.add(20, TimeUnit.MINUTES);
        metrics.spectrum("live", spectrum("live", 10, false));
        assertContains(metrics.scrape(), "run=\"finished\"", "grokwatch_runs_active 2.0");
        clock.add(10, TimeUnit.MINUTES);
        String text = metrics.scrape();
        assertFalse(text.contains("run=\"finished\""), text);
        assertContains(text, "grokwatch_epoch{run=\"live\"} 10.0", "grokwatch_runs_active 1.0",
                "grokwatch_eigen_solves_total{start=\"warm\"} 2.0", "grokwatch_dead_letters_total{reason=");
        clock.add(30, TimeUnit.MINUTES);
        assertEquals(List.of("live"), metrics.expire());
        assertFalse(metrics.scrape().contains("run=\""));
    }

    @Test
    void theTopologyFeedsTheMetersFromRealSpectra() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "metrics-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        try (TopologyTestDriver driver = new TopologyTestDriver(AnalyzerTopology.build(new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(metrics, 1)), props)) {
            var runs = driver.createInputTopic("runs", new StringSerializer(), new ByteArraySerializer());
            var checkpoints = driver.createInputTopic("checkpoints", new StringSerializer(), new ByteArraySerializer());
            runs.pipeInput("run-t", AnalyzerTopologyTest.descriptor("run-t").toBytes());
            checkpoints.pipeInput("run-t", AnalyzerTopologyTest.checkpoint(5, 1));
            checkpoints.pipeInput("run-t", new byte[] {1, 2, 3});
            assertContains(metrics.scrape(),
                    "grokwatch_epoch{run=\"run-t\"} 5.0",
                    "grokwatch_test_accuracy{run=\"run-t\"} 0.1",
                    "grokwatch_eigenvalue{layer=\"all\",rank=\"1\",run=\"run-t\"}",
                    "grokwatch_eigenvalue{layer=\"net.0\",rank=\"1\",run=\"run-t\"}",
                    "grokwatch_eigenvalue{layer=\"net.3\",rank=\"8\",run=\"run-t\"}",
                    "grokwatch_cliff_overlap{cliff=\"secondCliff\",family=\"diff\",run=\"run-t\"}",
                    "grokwatch_gap_ratio{gap=\"endOfSecondCliff\",run=\"run-t\"}",
                    "grokwatch_effective_rank{layer=\"net.3\",run=\"run-t\"}",
                    "grokwatch_phase{run=\"run-t\"} 0.0",
                    "grokwatch_checkpoint_analysis_seconds_count 1",
                    "grokwatch_dead_letters_total{reason=\"corrupt-checkpoint\"} 1.0");
        }
        // The task closed (as when its partition moves to another instance): its runs' series go with it.
        String after = metrics.scrape();
        assertFalse(after.contains("run=\"run-t\""), after);
        assertContains(after, "grokwatch_checkpoint_analysis_seconds_count 1");
    }

    /**
     * A real Kafka Streams instance (not started: its threads and clients exist from construction) reports its own
     * and its clients' metrics through the registry, and closing the binding removes them again.
     */
    @Test
    void streamsAndTheirClientsReportThroughTheRegistryUntilUnbound() {
        org.apache.kafka.streams.StreamsBuilder builder = new org.apache.kafka.streams.StreamsBuilder();
        builder.stream("in").to("out");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "streams-metrics-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1");
        props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/streams-metrics-test");
        try (org.apache.kafka.streams.KafkaStreams streams = new org.apache.kafka.streams.KafkaStreams(builder.build(),
                props)) {
            AnalyzerMetrics.Binding binding = metrics.streams(streams);
            String scrape = metrics.scrape();
            assertContains(scrape, "\nkafka_stream_client_state{", "\nkafka_stream_alive_stream_threads{",
                    "\nkafka_stream_thread_process_rate{", "\nkafka_stream_thread_commit_latency_avg{",
                    "\nkafka_consumer_fetch_manager_records_lag_max{", "\nkafka_producer_record_send_total{",
                    "\nkafka_admin_client_");
            binding.close();
            assertFalse(metrics.scrape().contains("kafka_stream_"), "unbound");
        }
    }
}

package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.observability.MetricsServer;
import io.grokwatch.trainer.RunPublisher;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The grokking verdict survives restarts: a run analysed by one analyzer until its generalization alert, then a new
 * analyzer instance on the same application id and state directory, then one on a fresh state directory (its stores
 * rebuilt from the changelogs), each fed the next checkpoints of the run. Each one's {@code /metrics} says the run
 * has grokked (phase 2, the onset and generalization epochs of the first) before and after its new spectra.
 */
class VerdictSurvivesRestartIT {
    private static final String RUN = "restart-it";
    private static final String APP = "verdict-restart-it";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    /** One analyzer instance with its own registry and metrics endpoint. */
    private record Analyzer(AnalyzerService service, MetricsServer endpoint) implements AutoCloseable {
        static Analyzer start(String bootstrap, Path stateDir) {
            MetricsOptions options = new MetricsOptions();
            options.port = 0;
            PrometheusAnalyzerMetrics metrics = options.analyzerMetrics();
            AnalyzerService service = AnalyzerService.start(new AnalyzerService.Config(bootstrap, APP, stateDir,
                    Topics.defaults(), 1, true, 2), metrics);
            return new Analyzer(service, options.start(metrics, service));
        }

        String metrics() throws Exception {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        }

        /** The value of a per-run series of this run, or NaN if it is not exported. */
        double value(String name, String labels) throws Exception {
            // Prometheus' text format sorts the labels: run comes before type.
            String prefix = name + "{run=\"" + RUN + "\"" + (labels.isEmpty() ? "" : "," + labels) + "} ";
            for (String line : metrics().split("\n")) {
                if (line.startsWith(prefix)) {
                    return Double.parseDouble(line.substring(prefix.length()).strip());
                }
            }
            return Double.NaN;
        }

        @Override
        public void close() {
            endpoint.close();
            service.close();
        }
    }

    @Test
    void phaseAndAlertEpochsComeBackFromTheStateStoreAndTheChangelog() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            List<ProducerRecord<byte[], byte[]>> run = trainedRun(bootstrap);
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 1, (short) 1);
            Properties p = ClientConfigs.producer(bootstrap, "verdict-it");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                int next = 0;
                double onsetEpoch;
                double generalizationEpoch;
                try (Analyzer first = Analyzer.start(bootstrap, dir.resolve("state-a"))) {
                    producer.send(run.get(next++)).get(); // the descriptor
                    // Checkpoint by checkpoint until the analyzer has seen the run generalize.
                    while (first.value("grokwatch_phase", "") != 2) {
                        assertTrue(next < run.size() - 2, "the run generalized with checkpoints to spare");
                        sendAndAwait(producer, run.get(next++), first);
                    }
                    onsetEpoch = first.value("grokwatch_alert_epoch", "type=\"grokking-onset\"");
                    generalizationEpoch = first.value("grokwatch_alert_epoch", "type=\"generalization\"");
                    assertTrue(onsetEpoch > 0 && generalizationEpoch >= onsetEpoch, onsetEpoch + " "
                            + generalizationEpoch);
                }

                try (Analyzer second = Analyzer.start(bootstrap, dir.resolve("state-a"))) {
                    await("the restarted analyzer's series", () -> second.value("grokwatch_phase", "") == 2);
                    assertGrokked(second, onsetEpoch, generalizationEpoch);
                    sendAndAwait(producer, run.get(next++), second);
                    assertGrokked(second, onsetEpoch, generalizationEpoch);
                }

                try (Analyzer fresh = Analyzer.start(bootstrap, dir.resolve("state-fresh"))) {
                    await("the series of an analyzer restored from the changelog",
                            () -> fresh.value("grokwatch_phase", "") == 2);
                    assertGrokked(fresh, onsetEpoch, generalizationEpoch);
                    while (next < run.size()) {
                        sendAndAwait(producer, run.get(next++), fresh);
                    }
                    assertEquals(110.0, fresh.value("grokwatch_epoch", ""), "the whole run analysed");
                    assertGrokked(fresh, onsetEpoch, generalizationEpoch);
                }
            }
        }
    }

    /** Sends a checkpoint and waits until the analyzer exports a later epoch than before. */
    private static void sendAndAwait(KafkaProducer<byte[], byte[]> producer, ProducerRecord<byte[], byte[]> checkpoint,
            Analyzer a) throws Exception {
        double before = a.value("grokwatch_epoch", "");
        producer.send(checkpoint).get();
        await("a checkpoint after epoch " + before + " analysed", () -> {
            double now = a.value("grokwatch_epoch", "");
            return !Double.isNaN(now) && (Double.isNaN(before) || now > before);
        });
    }

    private static void assertGrokked(Analyzer a, double onsetEpoch, double generalizationEpoch) throws Exception {
        assertEquals(2.0, a.value("grokwatch_phase", ""), "phase: generalized");
        assertEquals(onsetEpoch, a.value("grokwatch_alert_epoch", "type=\"grokking-onset\""));
        assertEquals(generalizationEpoch, a.value("grokwatch_alert_epoch", "type=\"generalization\""));
        assertEquals(1.0, a.value("grokwatch_alerts_total", "type=\"grokking-onset\""), "counted once");
        assertEquals(1.0, a.value("grokwatch_alerts_total", "type=\"generalization\""), "counted once");
    }

    /**
     * The run's descriptor and checkpoints as a trainer publishes them (p = 29, grokking within 110 epochs),
     * captured from staging topics so that this test hands them to the analyzers a few at a time.
     */
    private List<ProducerRecord<byte[], byte[]>> trainedRun(String bootstrap) throws Exception {
        Topics staging = new Topics("stage.runs", "stage.checkpoints", "stage.spectra", "stage.alerts",
                "stage.dead-letter");
        TopicAdmin.ensureTopics(bootstrap, staging, 1, (short) 1);
        TaskOptions task = new TaskOptions();
        task.p = 29;
        task.epochs = 110;
        task.checkpointEvery = 10;
        task.topK = 120;
        TrainingPublication publication = new TrainingPublication(task, RUN);
        try (RunPublisher publisher = new RunPublisher(bootstrap, staging, RUN)) {
            publication.run(publisher, (epoch, step, m) -> { }, () -> false, 0);
        }
        List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
        out.addAll(read(bootstrap, staging.runs(), Topics.defaults().runs()));
        List<ProducerRecord<byte[], byte[]>> checkpoints = read(bootstrap, staging.checkpoints(),
                Topics.defaults().checkpoints());
        assertEquals(publication.checkpoints(), checkpoints.size());
        out.addAll(checkpoints);
        return out;
    }

    private static List<ProducerRecord<byte[], byte[]>> read(String bootstrap, String from, String to) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "verdict-it-" + from);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 64 * 1024 * 1024);
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(from));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int quiet = 0;
            while (System.nanoTime() < deadline && (records.isEmpty() || quiet < 4)) {
                var batch = c.poll(Duration.ofMillis(500));
                quiet = batch.isEmpty() ? quiet + 1 : 0;
                for (ConsumerRecord<String, byte[]> r : batch) {
                    if (r.headers().lastHeader(io.grokwatch.records.RunEndRecord.HEADER) != null) {
                        continue; // the run's end: here the run goes on across the analyzers' restarts
                    }
                    records.add(new ProducerRecord<>(to, r.key().getBytes(StandardCharsets.UTF_8), r.value()));
                }
            }
        }
        return records;
    }

    private static void await(String what, Check condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws Exception;
    }
}

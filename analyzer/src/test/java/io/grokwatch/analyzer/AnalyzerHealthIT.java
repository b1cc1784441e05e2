package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.detect.Detector;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.detect.Observation;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.observability.MetricsServer;
import io.grokwatch.run.RunLimits;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.grokwatch.analyzer.AnalyzerTopologyTest.checkpoint;
import static io.grokwatch.analyzer.AnalyzerTopologyTest.descriptor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /healthz} and {@code /readyz} of a real analyzer over real HTTP: healthy and ready while it runs; once a
 * failure that is not the record's repeats past the retry limit, Kafka Streams is in ERROR, the analyzer says why and
 * both fail; with the broker gone it is no longer ready.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AnalyzerHealthIT {
    /** The step at which the pipeline itself fails (a KafkaException is not the record's fault). */
    private static final long BROKEN_STEP = 777;

    @TempDir
    Path dir;

    private static DetectorSuite brokenAt(long step) {
        return new DetectorSuite(List.of(new StatelessDetector("broken-pipeline", o -> {
            if (o.step() == step) {
                throw new KafkaException("state store went away");
            }
            return List.of();
        })));
    }

    private static HttpResponse<String> get(MetricsServer server, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static MetricsServer endpoint(AnalyzerService analyzer) {
        return MetricsServer.start("127.0.0.1", 0, () -> "", analyzer::liveness, analyzer::readiness,
                MetricsServer.DEFAULT_READ_TIMEOUT);
    }

    @Test
    void aFailureRepeatedPastTheLimitPutsStreamsInErrorAndFailsHealth() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            Topics topics = Topics.defaults();
            AnalyzerLimits noRetries = new AnalyzerLimits(RunLimits.DEFAULTS,
                    AnalyzerLimits.DEFAULT_DEAD_LETTER_ORIGINAL_BYTES, AnalyzerLimits.DEFAULT_MAX_STEP_JUMP, 0);
            try (AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                    "it-health", dir.resolve("state"), topics, 1, true, 1, Backlog.ALL, noRetries),
                    new AnalyzerMetrics.Counting(), brokenAt(BROKEN_STEP));
                 MetricsServer endpoint = endpoint(analyzer);
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ClientConfigs.producer(
                         kafka.bootstrapServers(), "it-health-producer"))) {
                assertEquals(200, get(endpoint, "/healthz").statusCode());
                HttpResponse<String> ready = get(endpoint, "/readyz");
                assertEquals(200, ready.statusCode(), ready.body());

                byte[] key = "run-a".getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topics.runs(), key, descriptor("run-a").toBytes())).get();
                producer.send(new ProducerRecord<>(topics.checkpoints(), key, checkpoint(BROKEN_STEP, 1))).get();

                String why = analyzer.failure().get(120, TimeUnit.SECONDS);
                assertTrue(why.contains("the same failure 1 time(s) in a row (max-record-retries = 0)"), why);
                assertEquals(KafkaStreams.State.ERROR, analyzer.state());
                HttpResponse<String> health = get(endpoint, "/healthz");
                assertEquals(503, health.statusCode());
                assertTrue(health.body().contains("state store went away"), health.body());
                HttpResponse<String> notReady = get(endpoint, "/readyz");
                assertEquals(503, notReady.statusCode());
                assertEquals("Kafka Streams is ERROR, not RUNNING\n", notReady.body());
            }
        }
    }

    @Test
    void withNoStreamThreadLeftItIsNotHealthy() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                     "it-threads", dir.resolve("state"), Topics.defaults(), 1, true, 1), new AnalyzerMetrics.Counting());
             MetricsServer endpoint = endpoint(analyzer)) {
            assertEquals(200, get(endpoint, "/healthz").statusCode());
            assertTrue(analyzer.streams().removeStreamThread(java.time.Duration.ofSeconds(60)).isPresent());
            // Kafka Streams itself stays RUNNING with no thread to do the work.
            assertEquals(KafkaStreams.State.RUNNING, analyzer.state());
            HttpResponse<String> health = get(endpoint, "/healthz");
            assertEquals(503, health.statusCode());
            assertEquals("Kafka Streams has no stream thread left (RUNNING)\n", health.body());
        }
    }

    @Test
    void withTheBrokerGoneItIsNotReady() throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        try (AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                "it-ready", dir.resolve("state"), Topics.defaults(), 1, true, 1), new AnalyzerMetrics.Counting());
             MetricsServer endpoint = endpoint(analyzer)) {
            assertEquals(200, get(endpoint, "/readyz").statusCode());
            kafka.close();
            // Streams itself stays RUNNING through an outage; the background check notices within its interval.
            HttpResponse<String> r = get(endpoint, "/readyz");
            while (r.statusCode() == 200) {
                TimeUnit.MILLISECONDS.sleep(200);
                r = get(endpoint, "/readyz");
            }
            assertEquals(503, r.statusCode());
            assertEquals(200, get(endpoint, "/healthz").statusCode(), "an outage is not the analyzer's failure");
        } finally {
            kafka.close();
        }
    }
}

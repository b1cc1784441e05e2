package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.grokwatch.analyzer.AnalyzerTopologyTest.checkpoint;
import static io.grokwatch.analyzer.AnalyzerTopologyTest.descriptor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rejected checkpoint of 12.8 MB against a real broker: its dead letter once carried it in base64, which the
 * dead-letter topic's 16 MiB limit refused, failing the task on every retry. Now the dead letter refers to it by
 * offset and digest, reaches the topic, and the run's next checkpoint is analysed.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class OversizedDeadLetterIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void anOversizedRejectedCheckpointIsDeadLetteredAndTheRunGoesOn() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            Topics topics = Topics.defaults();
            AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();
            try (AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                    "it-oversized", dir.resolve("state"), topics, 1, true, 1), metrics);
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ClientConfigs.producer(
                         kafka.bootstrapServers(), "it-oversized-producer"))) {
                byte[] corrupt = new byte[12_800_000];
                Arrays.fill(corrupt, (byte) 0x7f);
                producer.send(new ProducerRecord<>(topics.runs(), key("run-a"), descriptor("run-a").toBytes())).get();
                producer.send(new ProducerRecord<>(topics.checkpoints(), key("run-a"), corrupt)).get();
                producer.send(new ProducerRecord<>(topics.checkpoints(), key("run-a"), checkpoint(1, 1))).get();

                List<JsonNode> spectra = read(kafka, topics.spectra(), 1);
                assertEquals(1, spectra.get(0).get("step").asLong());
                JsonNode dead = read(kafka, topics.deadLetter(), 1).get(0);
                assertEquals("corrupt-checkpoint", dead.get("reason").asText());
                assertFalse(dead.has("originalBase64"));
                assertEquals(corrupt.length, dead.get("originalBytes").asLong());
                assertEquals(DeadLetter.sha256(corrupt), dead.get("originalSha256").asText());
                assertEquals(topics.checkpoints(), dead.get("sourceTopic").asText());
                assertEquals(KafkaStreams.State.RUNNING, analyzer.state());
                assertEquals(1, metrics.deadLetteredCount(DeadLetterReason.CORRUPT_CHECKPOINT));
            }
        }
    }

    private static byte[] key(String runId) {
        return runId.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The first {@code n} committed records of a topic, polled until they are there (the test's timeout bounds it). */
    private static List<JsonNode> read(EmbeddedKafka kafka, String topic, int n) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(ClientConfigs.consumer(kafka.bootstrapServers(),
                "it-oversized-" + topic))) {
            c.subscribe(List.of(topic));
            while (out.size() < n) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(JSON.readTree(r.value()));
                }
            }
        }
        assertTrue(out.size() >= n);
        return out;
    }
}

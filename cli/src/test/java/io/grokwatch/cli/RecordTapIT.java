package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code analyze --out}: what reaches the output topics after it starts, as JSON lines with their kind. */
class RecordTapIT {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("try") // the tap writes the file while open; the test reads the file, not the tap
    void writesSpectraAlertsAndDeadLettersAsTheyArrive() throws Exception {
        Topics topics = Topics.defaults();
        Path out = dir.resolve("run.jsonl");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 1, (short) 1);
            try (RecordTap tap = new RecordTap(kafka.bootstrapServers(), topics, out);
                 KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                         ClientConfigs.producer(kafka.bootstrapServers(), "record-tap-it"), new StringSerializer(),
                         new ByteArraySerializer())) {
                // The tap starts at the end of the topics: give its consumer time to take its partitions first.
                long deadline = System.nanoTime() + 60_000_000_000L;
                List<JsonNode> lines = new ArrayList<>();
                int sent = 0;
                while (lines.size() < 3 && System.nanoTime() < deadline) {
                    if (sent == 0 || lines.isEmpty()) {
                        producer.send(new ProducerRecord<>(topics.spectra(), "r", bytes("{\"runId\":\"r\",\"step\":" + sent + "}")));
                        sent++;
                    }
                    if (!lines.isEmpty() && lines.size() == 1) {
                        producer.send(new ProducerRecord<>(topics.alerts(), "r", bytes("{\"runId\":\"r\",\"type\":\"spectral-gap\"}")));
                        producer.send(new ProducerRecord<>(topics.deadLetter(), "r", bytes("{\"reason\":\"stale-step\"}")));
                    }
                    producer.flush();
                    Thread.sleep(500);
                    lines = read(out);
                }
                // The spectrum came first; the alert and the dead letter are on two topics, so either may lead.
                assertEquals("spectrum", lines.get(0).get("kind").asText(), lines.toString());
                assertEquals(java.util.Set.of("spectrum", "alert", "deadLetter"),
                        lines.stream().map(l -> l.get("kind").asText()).collect(java.util.stream.Collectors.toSet()),
                        lines.toString());
                assertEquals("r", lines.get(0).get("runId").asText());
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<JsonNode> read(Path file) throws java.io.IOException {
        List<JsonNode> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) {
                out.add(JsonFiles.MAPPER.readTree(line));
            }
        }
        return out;
    }
}

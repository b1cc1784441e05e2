package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.RunDescriptors;
import io.grokwatch.trainer.RunPublisher;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code grokwatch replay} as a user runs it, against a real broker that creates no topic on first use: the output
 * topic is created, every checkpoint's spectrum lands there and in the file, and the console ends with the pace.
 */
class ReplayCommandIT {
    @TempDir
    Path dir;

    @Test
    void replayCreatesItsOutputTopicAndSaysWhetherTheAnalyzerWouldHaveKeptUp() throws Exception {
        Topics topics = Topics.defaults();
        String runId = "replay-it";
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(11, 64, 0.7, 0.05, 0.01, 30, 4);
        ModularAdditionTask task = ModularAdditionTask.create(config);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1);
            List<Long> published = new ArrayList<>();
            try (RunPublisher publisher = new RunPublisher(bootstrap, topics, runId)) {
                publisher.publishDescriptor(RunDescriptors.modularAddition(runId, config, 5, 40));
                task.run(5, (epoch, step, params, m) -> {
                    publisher.publishCheckpoint(params, CheckpointMetadata.of(step, epoch).withMetrics(m.trainLoss(),
                            m.testLoss(), m.trainAccuracy(), m.testAccuracy()));
                    published.add(step);
                    return true;
                });
            }
            Path out = dir.resolve("replay.jsonl");
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            PrintStream original = System.out;
            int code;
            try {
                System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
                code = Main.commandLine().execute("replay", "--run-id", runId, "--bootstrap-servers", bootstrap,
                        "--out", out.toString());
            } finally {
                System.setOut(original);
            }
            String console = captured.toString(StandardCharsets.UTF_8);
            assertEquals(0, code, console);
            assertTrue(console.contains("replayed " + published.size() + " checkpoints of run " + runId
                    + " to grokwatch.spectra.replay"), console);
            assertTrue(console.contains("against the run's own checkpoint times"), console);

            List<String> lines = Files.readAllLines(out);
            assertEquals(published.size(), lines.size());
            JsonNode last = JsonFiles.MAPPER.readTree(lines.get(lines.size() - 1));
            assertEquals(published.get(published.size() - 1), last.get("step").asLong());
            assertEquals(published.size(), last.get("pace").get("checkpoints").asInt());
            assertEquals(5.0, last.get("pace").get("epochsPerCheckpoint").asDouble(), 1e-12);
            assertEquals(published.size(), recordsIn(bootstrap, "grokwatch.spectra.replay"));
        }
    }

    private static long recordsIn(String bootstrap, String topic) {
        Properties p = ClientConfigs.consumer(bootstrap, "replay-it-reader");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            return c.endOffsets(parts).values().stream().mapToLong(Long::longValue).sum();
        }
    }
}

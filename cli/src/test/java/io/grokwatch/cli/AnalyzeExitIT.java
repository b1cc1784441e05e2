package io.grokwatch.cli;

import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunDescriptor;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code grokwatch analyze} exits with status 3 once Kafka Streams has failed for good. The failure here is the one
 * measured against a running analyzer: a dead letter the broker refuses (its topic's {@code max.message.bytes} is
 * made small), which before replaced the stream thread forever; with {@code --max-record-retries 0} the first one
 * ends it.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AnalyzeExitIT {
    @TempDir
    Path dir;

    @Test
    void analyzeExitsWithStatus3WhenTheSameFailureRepeatsPastTheLimit() throws Exception {
        Topics topics = Topics.defaults();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            try (Admin admin = Admin.create(p)) {
                admin.createTopics(List.of(new NewTopic(topics.deadLetter(), 1, (short) 1).configs(Map.of(
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "2000")))).all().get();
            }
            PrintStream original = System.err;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            System.setErr(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
            try {
                CompletableFuture<Integer> analyze = CompletableFuture.supplyAsync(() -> Main.commandLine().execute(
                        "analyze", "--bootstrap-servers", kafka.bootstrapServers(), "--single-broker",
                        "--partitions", "1", "--application-id", "it-exit", "--state-dir",
                        dir.resolve("state").toString(), "--metrics-port", "0", "--ui-port", "-1",
                        "--max-record-retries", "0"));
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ClientConfigs.producer(
                        kafka.bootstrapServers(), "it-exit-producer"))) {
                    byte[] key = "run-a".getBytes(StandardCharsets.UTF_8);
                    RunDescriptor d = new RunDescriptor("run-a", ModelDescription.modularAddition(7, 16),
                            ProbeSource.generator("modular-addition:p=7"), RunDescriptor.AnalysisSettings.classMean(10),
                            1, Map.of());
                    producer.send(new ProducerRecord<>(topics.runs(), key, d.toBytes())).get();
                    // Not safetensors: its dead letter carries it in base64, over the topic's 2000 bytes.
                    producer.send(new ProducerRecord<>(topics.checkpoints(), key, new byte[5000])).get();
                }
                assertEquals(3, analyze.get(180, TimeUnit.SECONDS));
            } finally {
                System.setErr(original);
            }
            String err = captured.toString(StandardCharsets.UTF_8);
            assertTrue(err.contains("analyzer failed: analyzer gave up: the same failure 1 time(s) in a row "
                    + "(max-record-retries = 0)") && err.contains("RecordTooLargeException"), err);
        }
    }
}

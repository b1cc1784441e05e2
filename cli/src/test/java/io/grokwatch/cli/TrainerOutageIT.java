package io.grokwatch.cli;

import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.model.Parameters;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.trainer.RunPublisher;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The trainer's side of a broker outage, on a real broker stopped and started again on the same data and port:
 * a publish waits for the broker instead of failing the run, and a rerun of a run continues after its last
 * published step, with the checkpoints a run that never stopped would have published.
 */
class TrainerOutageIT {
    private static final Topics TOPICS = Topics.defaults();

    @TempDir
    Path dir;

    @Test
    void aPublishRidesOutABrokerRestartLongerThanTheProducersTimeouts() throws Exception {
        int port = freePort();
        Path data = dir.resolve("kafka");
        EmbeddedKafka kafka = EmbeddedKafka.start(data, port);
        String bootstrap = kafka.bootstrapServers();
        TopicAdmin.ensureTopics(bootstrap, TOPICS, 1, (short) 1);
        // Producer timeouts far shorter than the outage, so the producer gives up on its own and the publisher's
        // retries are what carry the run through.
        Map<String, Object> quick = Map.of("max.block.ms", 1000, "request.timeout.ms", 1000,
                "delivery.timeout.ms", 2000, "linger.ms", 0);
        try (RunPublisher publisher = new RunPublisher(bootstrap, TOPICS, "outage", quick)) {
            publisher.publishCheckpoint(checkpoint(0));
            kafka.close();
            CompletableFuture<Void> during = CompletableFuture.runAsync(() -> publisher.publishCheckpoint(checkpoint(10)));
            Thread.sleep(8_000); // several producer timeouts: without retries the publish would have failed by now
            assertFalse(during.isDone(), "the publish waits for the broker");
            kafka = EmbeddedKafka.start(data, port);
            during.get(2, TimeUnit.MINUTES);
            publisher.publishCheckpoint(checkpoint(20));
            assertEquals(20, publisher.lastPublishedStep());
            // The producer's own metrics, as the trainer's /metrics shows them: the failed attempts are counted.
            var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            var bound = publisher.bindMetrics(registry);
            double sent = registry.get("kafka.producer.record.send.total").functionCounters().stream()
                    .mapToDouble(io.micrometer.core.instrument.FunctionCounter::count).sum();
            bound.close();
            assertEquals(3.0, sent, 1.0, "records sent (a retried one may count twice)");
        } finally {
            kafka.close();
        }
        try (EmbeddedKafka again = EmbeddedKafka.start(data, port)) {
            List<Long> steps = steps(again.bootstrapServers(), "outage", 3);
            // Every checkpoint arrived; a retry may repeat one, which the analyzer drops as a stale step.
            assertEquals(List.of(0L, 10L, 20L), steps.stream().distinct().toList(), steps.toString());
        }
    }

    @Test
    void aRerunContinuesAfterTheLastPublishedStepExactly() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bs = kafka.bootstrapServers();
            String[] common = {"train", "--task", "modular-addition", "--p", "7", "--width", "16",
                    "--checkpoint-every", "10", "--bootstrap-servers", bs, "--metrics-port", "-1"};
            assertEquals(0, run(common, "--run-id", "first", "--epochs", "30"));
            assertEquals(List.of(0L, 10L, 20L, 30L), steps(bs, "first", 5));
            // After its last checkpoint the run says it ended.
            assertEquals(List.of("completed@30"), ends(bs, "first", 5));
            // The same run again, longer: only the steps after 30 are published.
            assertEquals(0, run(common, "--run-id", "first", "--epochs", "50"));
            List<Long> steps = steps(bs, "first", 8);
            assertEquals(List.of(0L, 10L, 20L, 30L, 40L, 50L), steps);
            assertEquals(List.of("completed@30", "completed@50"), ends(bs, "first", 8),
                    "the rerun opened the run again and ended it after its own last step");
            // A run that never stopped publishes the same weights at step 50 (training is deterministic).
            assertEquals(0, run(common, "--run-id", "straight", "--epochs", "50"));
            io.grokwatch.safetensors.TensorFile resumed = weights(bs, "first", 50);
            io.grokwatch.safetensors.TensorFile straight = weights(bs, "straight", 50);
            assertEquals(straight.names(), resumed.names());
            for (io.grokwatch.safetensors.Tensor t : straight.tensors()) {
                // Bit for bit: the same seeded training, step for step.
                assertArrayEquals(t.values(), resumed.find(t.name()).orElseThrow().values(), 0.0, t.name());
            }
        }
    }

    private static int run(String[] common, String... more) {
        List<String> args = new ArrayList<>(List.of(common));
        args.addAll(List.of(more));
        return Main.commandLine().execute(args.toArray(String[]::new));
    }

    private static byte[] checkpoint(long step) {
        Parameters p = new Parameters().put("w", new long[] {2, 2}, new double[] {1, 2, 3, step});
        return CheckpointRecord.encode(p, CheckpointMetadata.of(step, step));
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static List<ConsumerRecord<String, byte[]>> records(String bootstrap, String runId, int expected) {
        Properties p = ClientConfigs.consumer(bootstrap, "outage-it-" + System.nanoTime());
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(TOPICS.checkpoints()));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int quietPolls = 0;
            while (System.nanoTime() < deadline && (out.size() < expected || quietPolls < 5)) {
                var polled = c.poll(Duration.ofMillis(200));
                quietPolls = polled.isEmpty() ? quietPolls + 1 : 0;
                for (ConsumerRecord<String, byte[]> r : polled) {
                    if (runId.equals(r.key())) {
                        out.add(r);
                    }
                }
            }
        }
        return out;
    }

    private static boolean isEnd(ConsumerRecord<String, byte[]> r) {
        var h = r.headers().lastHeader(io.grokwatch.records.RunEndRecord.HEADER);
        return h != null && io.grokwatch.records.RunEndRecord.HEADER_VALUE.equals(new String(h.value(),
                java.nio.charset.StandardCharsets.UTF_8));
    }

    private static List<Long> steps(String bootstrap, String runId, int expected) {
        return records(bootstrap, runId, expected).stream().filter(r -> !isEnd(r))
                .map(r -> CheckpointRecord.decode(r.value()).metadata().step()).toList();
    }

    /** The run's ends, as status@lastStep, in order. */
    private static List<String> ends(String bootstrap, String runId, int expected) {
        return records(bootstrap, runId, expected).stream().filter(TrainerOutageIT::isEnd)
                .map(r -> io.grokwatch.records.RunEndRecord.read(r.value()))
                .map(e -> e.status() + "@" + e.lastStep()).toList();
    }

    private static io.grokwatch.safetensors.TensorFile weights(String bootstrap, String runId, long step) {
        return records(bootstrap, runId, 1).stream().filter(r -> !isEnd(r)).map(r -> CheckpointRecord.decode(r.value()))
                .filter(c -> c.metadata().step() == step).findFirst().orElseThrow().weights();
    }
}

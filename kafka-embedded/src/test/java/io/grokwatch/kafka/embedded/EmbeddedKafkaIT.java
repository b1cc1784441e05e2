package io.grokwatch.kafka.embedded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.grokwatch.kafka.CheckpointTooLargeException;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InterruptException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real broker end to end: topic configs as created, a checkpoint-sized zstd record through the
 * {@link ClientConfigs} clients, the largest payload {@link CheckpointTooLargeException#check} admits,
 * persistence across a restart on the same directory, and nothing left behind.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedKafkaIT {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaIT.class);
    private static final Duration POLL_DEADLINE = Duration.ofSeconds(30);
    private static final byte[] KEY = "run-1/step-100".getBytes(StandardCharsets.UTF_8);
    private static final int MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void checkpointsSurviveARestartAndOversizedOnesNeverLeave() throws Exception {
        Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
        Topics topics = Topics.defaults();
        byte[] checkpoint = checkpointLike(5_000_000, 42);
        byte[] largest = incompressible(CheckpointTooLargeException.MAX_PAYLOAD_BYTES, 7);
        Path data = dir.resolve("kafka");

        long t0 = System.nanoTime();
        long startMs;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(data)) {
            startMs = millisSince(t0);
            String bootstrap = kafka.bootstrapServers();

            assertEquals(Set.copyOf(topics.toMap().values()),
                    TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1));
            assertTrue(TopicAdmin.ensureTopics(bootstrap, topics, 1, (short) 1).isEmpty(), "idempotent");
            assertTopicConfigs(bootstrap, topics);

            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(ClientConfigs.producer(bootstrap, "it-trainer"))) {
                long tp = System.nanoTime();
                send(producer, topics.checkpoints(), checkpoint).get(30, TimeUnit.SECONDS);
                // Dead letters carry original bytes, so they take the largest admitted payload too.
                send(producer, topics.deadLetter(), largest).get(30, TimeUnit.SECONDS);
                LOG.info("produced 5 MB + {} MiB in {} ms", largest.length / MIB, millisSince(tp));

                long endBefore = endOffset(bootstrap, topics.checkpoints());
                double sentBefore = recordsSent(producer);
                CheckpointTooLargeException tooLarge = assertThrows(CheckpointTooLargeException.class,
                        () -> send(producer, topics.checkpoints(), new byte[20_000_000]));
                assertTrue(tooLarge.getMessage().contains("20000000 bytes"), tooLarge.getMessage());
                assertEquals(sentBefore, recordsSent(producer), "nothing handed to the producer");
                assertEquals(endBefore, endOffset(bootstrap, topics.checkpoints()));
            }

            assertArrayEquals(checkpoint, readOne(bootstrap, "it-monitor-1", topics.checkpoints()));
            assertArrayEquals(largest, readOne(bootstrap, "it-monitor-1", topics.deadLetter()));
            long onDisk = partitionBytes(bootstrap, new TopicPartition(topics.checkpoints(), 0));
            LOG.info("5 MB checkpoint takes {} bytes on disk", onDisk);
            assertTrue(onDisk < checkpoint.length * 0.8, "zstd applied: " + onDisk + " bytes on disk");
        }
        assertTrue(Files.exists(data.resolve("kraft-logs/meta.properties")), "caller's directory is kept");

        long t1 = System.nanoTime();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(data)) {
            LOG.info("timings: first start {} ms, restart on the same directory {} ms", startMs, millisSince(t1));
            assertArrayEquals(checkpoint, readOne(kafka.bootstrapServers(), "it-monitor-2", topics.checkpoints()));
            assertTopicConfigs(kafka.bootstrapServers(), topics);
        }

        Path temp;
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            temp = kafka.dataDir();
            assertTrue(Files.isDirectory(temp));
        }
        assertFalse(Files.exists(temp), "temporary data directory deleted on close");

        assertNoThreadsLeft(threadsBefore);
    }

    @Test
    void interruptedStartStopsWhatItStartedAndKeepsTheFlag() throws Exception {
        Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Set<Path> dirsBefore = kafkaTempDirs(tmp);
        Thread.currentThread().interrupt();
        try {
            assertThrows(InterruptException.class, EmbeddedKafka::start);
            assertTrue(Thread.currentThread().isInterrupted(), "interrupt flag restored");
        } finally {
            Thread.interrupted();
        }
        assertEquals(dirsBefore, kafkaTempDirs(tmp), "temporary data directory deleted");
        assertNoThreadsLeft(threadsBefore);
    }

    private static Set<Path> kafkaTempDirs(Path tmp) throws Exception {
        try (var entries = Files.list(tmp)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("grokwatch-kafka-"))
                    .collect(Collectors.toSet());
        }
    }

    /** Checks before sending, as producers of checkpoints must. */
    private static Future<RecordMetadata> send(KafkaProducer<byte[], byte[]> producer, String topic, byte[] value) {
        CheckpointTooLargeException.check(value.length);
        return producer.send(new ProducerRecord<>(topic, KEY, value));
    }

    private static void assertTopicConfigs(String bootstrap, Topics topics) throws Exception {
        ConfigResource runs = new ConfigResource(ConfigResource.Type.TOPIC, topics.runs());
        ConfigResource ckpt = new ConfigResource(ConfigResource.Type.TOPIC, topics.checkpoints());
        try (Admin admin = admin(bootstrap)) {
            Map<ConfigResource, Config> configs =
                    admin.describeConfigs(List.of(runs, ckpt)).all().get(30, TimeUnit.SECONDS);
            assertEquals("compact", configs.get(runs).get("cleanup.policy").value());
            assertEquals(Integer.toString(16 * MIB), configs.get(ckpt).get("max.message.bytes").value());
            assertEquals("zstd", configs.get(ckpt).get("compression.type").value());
        }
    }

    private static byte[] readOne(String bootstrap, String group, String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(ClientConfigs.consumer(bootstrap, group))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + POLL_DEADLINE.toNanos();
            List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
            while (got.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            assertEquals(1, got.size(), "records in " + topic);
            assertArrayEquals(KEY, got.get(0).key());
            return got.get(0).value();
        }
    }

    private static long endOffset(String bootstrap, String topic) throws Exception {
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(bootstrap)) {
            return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp)
                    .get(30, TimeUnit.SECONDS).offset();
        }
    }

    private static double recordsSent(KafkaProducer<byte[], byte[]> producer) {
        return producer.metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals("record-send-total")
                        && e.getKey().group().equals("producer-metrics"))
                .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue())
                .sum();
    }

    private static long partitionBytes(String bootstrap, TopicPartition tp) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            Collection<Map<String, LogDirDescription>> dirs =
                    admin.describeLogDirs(List.of(1)).allDescriptions().get(30, TimeUnit.SECONDS).values();
            return dirs.stream().flatMap(m -> m.values().stream())
                    .map(d -> d.replicaInfos().get(tp)).filter(r -> r != null)
                    .mapToLong(r -> r.size()).sum();
        }
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /** Float32 weights, Gaussian and quantised like a trained model's: compressible but not trivially. */
    private static byte[] checkpointLike(int bytes, long seed) {
        Random random = new Random(seed);
        ByteBuffer buf = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.remaining() >= Float.BYTES) {
            buf.putFloat(Math.round(random.nextGaussian() * 0.05 * 1024) / 1024f);
        }
        return buf.array();
    }

    private static byte[] incompressible(int bytes, long seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * Threads the brokers and clients started must be gone. Exception: Yammer's meter-tick pool belongs
     * to the JVM-wide default registry that every broker in the JVM shares (two daemon threads, made
     * once, however many brokers start); stopping it would break the next broker.
     */
    private static void assertNoThreadsLeft(Set<Thread> before) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && !before.contains(t))
                    .filter(t -> !(t.isDaemon() && t.getName().startsWith("metrics-meter-tick-thread-")))
                    .map(t -> t.getName() + (t.isDaemon() ? " (daemon)" : ""))
                    .sorted().collect(Collectors.toList());
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("threads left behind: " + left);
    }

    private static long millisSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
}

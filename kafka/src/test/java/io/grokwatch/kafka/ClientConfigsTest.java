package io.grokwatch.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

/** Values are checked through Kafka's own config parsers, so a misspelt key or a bad type fails here. */
class ClientConfigsTest {

    private static final int MAX = 16 * 1024 * 1024;

    @Test
    void producerIsIdempotentZstdAndSizedForCheckpoints() {
        ProducerConfig c = new ProducerConfig(ClientConfigs.producer("127.0.0.1:9092", "trainer-1"));
        assertTrue(c.getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
        assertEquals("-1", c.getString(ProducerConfig.ACKS_CONFIG)); // "all"
        assertEquals("zstd", c.getString(ProducerConfig.COMPRESSION_TYPE_CONFIG));
        assertEquals(MAX, c.getInt(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        assertTrue(c.getLong(ProducerConfig.BUFFER_MEMORY_CONFIG) >= MAX);
        assertTrue(c.getLong(ProducerConfig.LINGER_MS_CONFIG) <= 10);
        assertEquals("trainer-1", c.getString(ProducerConfig.CLIENT_ID_CONFIG));
    }

    @Test
    void consumerReadsCommittedAndFetchesWholeCheckpoints() {
        ConsumerConfig c = new ConsumerConfig(ClientConfigs.consumer("127.0.0.1:9092", "monitor"));
        assertEquals("read_committed", c.getString(ConsumerConfig.ISOLATION_LEVEL_CONFIG));
        assertTrue(c.getInt(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG) >= MAX);
        assertTrue(c.getInt(ConsumerConfig.FETCH_MAX_BYTES_CONFIG) >= MAX);
        assertEquals("monitor", c.getString(ConsumerConfig.GROUP_ID_CONFIG));
    }

    @Test
    void streamsIsExactlyOnceWithSizeOverridesForItsClients() {
        Properties p = ClientConfigs.streams("127.0.0.1:9092", "analyzer", Path.of("/tmp/state"), true);
        StreamsConfig c = new StreamsConfig(p);
        assertEquals(StreamsConfig.EXACTLY_ONCE_V2, c.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        assertEquals(1, c.getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG));
        assertTrue(c.getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG) <= 100);
        Map<String, Object> producer = c.getProducerConfigs("analyzer-client");
        // The streams producer also writes the eigenbasis changelog, whose records are larger than checkpoints.
        assertEquals(ClientConfigs.MAX_STATE_RECORD_BYTES, producer.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        assertTrue((Long) producer.get(ProducerConfig.BUFFER_MEMORY_CONFIG) >= ClientConfigs.MAX_STATE_RECORD_BYTES);
        // Eigenvectors hardly compress; compressing them cost the stream thread more than it saved.
        assertEquals("none", producer.get(ProducerConfig.COMPRESSION_TYPE_CONFIG));
        // A short first back-off (the first transactional commit sleeps it), still growing up to the default cap.
        assertEquals(10, producer.get(ProducerConfig.RETRY_BACKOFF_MS_CONFIG));
        assertFalse(producer.containsKey(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG));
        Map<String, Object> consumer = c.getMainConsumerConfigs("analyzer", "analyzer-client", 0);
        assertEquals(MAX, consumer.get(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG));
        assertTrue((Integer) consumer.get(ConsumerConfig.FETCH_MAX_BYTES_CONFIG) >= MAX);
        // A killed instance's runs go to the others after 10 s, not Kafka's 45 s; heartbeats a third of that.
        assertEquals(10_000, consumer.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG));
        assertEquals(3_000, consumer.get(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG));
        // The broker refuses a batch larger than its topic's segment: a changelog's segments hold its largest record.
        assertTrue(ClientConfigs.STATE_CHANGELOG_SEGMENT_BYTES >= ClientConfigs.MAX_STATE_RECORD_BYTES);

        Properties multi = ClientConfigs.streams("127.0.0.1:9092", "analyzer", Path.of("/tmp/state"));
        assertFalse(multi.containsKey(StreamsConfig.REPLICATION_FACTOR_CONFIG));
    }

    @Test
    void blankArgumentsAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClientConfigs.producer(" ", "x"));
        assertTrue(e.getMessage().startsWith("bootstrapServers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ClientConfigs.consumer("h:1", ""));
        assertTrue(e.getMessage().startsWith("groupId"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ClientConfigs.streams("h:1", null, Path.of("s"), true));
        assertTrue(e.getMessage().startsWith("applicationId"), e.getMessage());
    }

    @Test
    void checkpointLimitLeavesRoomForFramingAndNamesBothSizes() {
        assertEquals(MAX, TopicAdmin.MAX_CHECKPOINT_BYTES);
        assertEquals(CheckpointTooLargeException.MAX_PAYLOAD_BYTES,
                CheckpointTooLargeException.check(CheckpointTooLargeException.MAX_PAYLOAD_BYTES));
        CheckpointTooLargeException e = assertThrows(CheckpointTooLargeException.class,
                () -> CheckpointTooLargeException.check(20_000_000));
        assertEquals(20_000_000L, e.bytes());
        assertEquals(MAX - 64 * 1024, e.limit());
        assertTrue(e.getMessage().contains("20000000 bytes") && e.getMessage().contains("16711680 bytes"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertThrows(CheckpointTooLargeException.class,
                () -> CheckpointTooLargeException.check(CheckpointTooLargeException.MAX_PAYLOAD_BYTES + 1));
        assertThrows(IllegalArgumentException.class, () -> CheckpointTooLargeException.check(-1));
    }

    @Test
    void topicConfigsPerRole() {
        List<NewTopic> topics = TopicAdmin.newTopics(Topics.defaults(), 3, (short) 1, Duration.ofHours(2));
        Map<String, Map<String, String>> configs =
                topics.stream().collect(Collectors.toMap(NewTopic::name, NewTopic::configs));
        assertEquals("compact", configs.get("grokwatch.runs").get("cleanup.policy"));
        Map<String, String> ckpt = configs.get("grokwatch.checkpoints");
        assertEquals(Integer.toString(MAX), ckpt.get("max.message.bytes"));
        assertEquals("zstd", ckpt.get("compression.type"));
        assertEquals(Long.toString(Duration.ofHours(2).toMillis()), ckpt.get("retention.ms"));
        assertEquals(Integer.toString(MAX), configs.get("grokwatch.dead-letter").get("max.message.bytes"));
        assertEquals("zstd", configs.get("grokwatch.spectra").get("compression.type"));
        assertEquals("zstd", configs.get("grokwatch.alerts").get("compression.type"));
        assertTrue(topics.stream().allMatch(t -> t.numPartitions() == 3 && t.replicationFactor() == 1));
        assertThrows(IllegalArgumentException.class,
                () -> TopicAdmin.newTopics(Topics.defaults(), 0, (short) 1, Duration.ofHours(1)));
        assertThrows(IllegalArgumentException.class,
                () -> TopicAdmin.newTopics(Topics.defaults(), 1, (short) 1, Duration.ZERO));
    }
}

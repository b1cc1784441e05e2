package io.grokwatch.kafka;

import static io.grokwatch.kafka.TopicAdmin.MAX_CHECKPOINT_BYTES;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Client properties sized for checkpoints. Kafka's defaults cap a request at 1 MiB, so every client
 * that touches a checkpoint needs the same raised limits; building them in one place keeps the
 * producer, the consumers and Streams' internal clients consistent with {@link TopicAdmin}'s topics.
 * Each call returns a fresh, mutable {@link Properties} that the caller may extend.
 */
public final class ClientConfigs {

    /** Small enough not to add visible latency to a step, large enough to batch small records. */
    public static final int LINGER_MS = 5;

    /** A training monitor wants a run's records promptly; Streams' default is 30 s under EOS. */
    public static final int STREAMS_COMMIT_INTERVAL_MS = 100;
    /** How long the broker may hold the analyzer's fetches for data (see {@link #streams}). */
    public static final int STREAMS_FETCH_MAX_WAIT_MS = 50;
    /**
     * Longest a Streams thread blocks in poll when no input comes; what waits to be analysed under the latest-only
     * backlog is looked at after each poll (the default 100 ms added that much to its latency).
     */
    public static final int STREAMS_POLL_MS = 20;
    /**
     * First back-off of the analyzer's producer before it retries a request (see {@link #streams}); repeated
     * retries still back off exponentially up to {@code retry.backoff.max.ms} (1 s).
     */
    public static final int STREAMS_PRODUCER_RETRY_BACKOFF_MS = 10;

    /**
     * How long the broker waits for a silent analyzer instance (killed, or cut off) before another takes its runs;
     * heartbeats go every {@value #STREAMS_HEARTBEAT_INTERVAL_MS} ms from a thread of their own, so a long analysis
     * does not count. Kafka's default of 45 s was how long the runs of a SIGKILLed instance waited (the chaos suite,
     * docs/operations.md); a restarted instance does not wait for it at all ({@link StaticMembership}).
     */
    public static final int STREAMS_SESSION_TIMEOUT_MS = 10_000;
    /** A third of {@link #STREAMS_SESSION_TIMEOUT_MS}, as Kafka's defaults have it. */
    public static final int STREAMS_HEARTBEAT_INTERVAL_MS = 3_000;

    /**
     * Largest state-store record the analyzer writes to its changelog: a run's eigenbases (F32, n x k per kernel;
     * ~75 MB at p=113 with three kernels of 450 vectors). Records this size only go to changelog topics.
     */
    public static final int MAX_STATE_RECORD_BYTES = 128 * 1024 * 1024;

    /**
     * Segment size of the analyzer's changelogs of eigenbases and pending checkpoints: what a restore reads beyond the
     * stores' live contents is about one segment per partition (see the analyzer's topology). No smaller than
     * {@link #MAX_STATE_RECORD_BYTES}: the broker refuses a record batch larger than its topic's segment size.
     */
    public static final int STATE_CHANGELOG_SEGMENT_BYTES = MAX_STATE_RECORD_BYTES;

    /** Two checkpoints may be fetched in one request, bounding consumer memory at 32 MiB. */
    public static final int FETCH_MAX_BYTES = 2 * MAX_CHECKPOINT_BYTES;

    /** Room for two checkpoints waiting to be sent before {@code send} blocks. */
    public static final long PRODUCER_BUFFER_MEMORY = 2L * MAX_CHECKPOINT_BYTES;

    private ClientConfigs() {
    }

    /**
     * An idempotent producer of raw bytes: {@code acks=all}, zstd, {@code max.request.size} =
     * {@link TopicAdmin#MAX_CHECKPOINT_BYTES}. Call {@link CheckpointTooLargeException#check} first.
     */
    public static Properties producer(String bootstrapServers, String clientId) {
        TopicAdmin.requireBootstrap(bootstrapServers);
        requireText("clientId", clientId);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_CHECKPOINT_BYTES);
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, PRODUCER_BUFFER_MEMORY);
        p.put(ProducerConfig.LINGER_MS_CONFIG, LINGER_MS);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /**
     * A consumer of raw bytes that sees only committed records (the analyzer writes transactionally)
     * and can fetch a whole checkpoint. A new group starts at the earliest offset, so a monitor
     * started after the trainer still sees the run's first checkpoints.
     */
    public static Properties consumer(String bootstrapServers, String groupId) {
        TopicAdmin.requireBootstrap(bootstrapServers);
        requireText("groupId", groupId);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_CHECKPOINT_BYTES);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, FETCH_MAX_BYTES);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** {@link #streams(String, String, Path, boolean)} for a multi-broker cluster. */
    public static Properties streams(String bootstrapServers, String applicationId, Path stateDir) {
        return streams(bootstrapServers, applicationId, stateDir, false);
    }

    /**
     * Kafka Streams with {@code exactly_once_v2} (a spectrum is published once per checkpoint even
     * across restarts), byte-array serdes, the checkpoint size limits on its internal producer,
     * consumers and internal topics, a {@value #STREAMS_COMMIT_INTERVAL_MS} ms commit interval, and a producer
     * that retries after {@value #STREAMS_PRODUCER_RETRY_BACKOFF_MS} ms at first.
     *
     * @param singleBroker create internal topics with replication factor 1 (otherwise the broker's
     *                     default applies, which a one-broker cluster may not satisfy)
     */
    public static Properties streams(String bootstrapServers, String applicationId, Path stateDir,
            boolean singleBroker) {
        TopicAdmin.requireBootstrap(bootstrapServers);
        requireText("applicationId", applicationId);
        Objects.requireNonNull(stateDir, "stateDir");
        Properties p = new Properties();
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, STREAMS_COMMIT_INTERVAL_MS);
        p.put(StreamsConfig.POLL_MS_CONFIG, STREAMS_POLL_MS);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class.getName());
        // Sized for the eigenbasis store's changelog records; the buffer is allocated as used, not up front.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), MAX_STATE_RECORD_BYTES);
        // Uncompressed: nearly all its bytes are eigenbasis changelog records, float32 eigenvectors that zstd shrinks
        // by a few percent for tens of milliseconds of the stream thread per p = 113 checkpoint, and the broker's as
        // much again to check them (docs/benchmarks.md). The spectra and alerts topics still store zstd (the broker
        // compresses their small records).
        p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "none");
        // Streams defaults its producer to 100 ms of batching; a spectrum is one record and should leave at once.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), LINGER_MS);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG), 2L * MAX_STATE_RECORD_BYTES);
        // A new producer's first transactional offset commit looks up the group coordinator and then sleeps
        // retry.backoff.ms before sending the commit (the request counts as a retry). At the default 100 ms the
        // analyzer's first commit after every start took over three times as long, and the first checkpoint, which
        // usually arrives during that commit (of its run's descriptor), waited for it.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), STREAMS_PRODUCER_RETRY_BACKOFF_MS);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), MAX_CHECKPOINT_BYTES);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_BYTES_CONFIG), FETCH_MAX_BYTES);
        // Descriptors and checkpoints are joined in timestamp order: before processing a checkpoint, Streams
        // confirms with a fetch that the (usually idle) runs partition has nothing earlier. The broker holds
        // such a fetch up to fetch.max.wait.ms (500 ms by default), which was most of the first checkpoints'
        // latency; 50 ms keeps the ordering and costs a few idle fetches a second.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), STREAMS_FETCH_MAX_WAIT_MS);
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), STREAMS_SESSION_TIMEOUT_MS);
        p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
                STREAMS_HEARTBEAT_INTERVAL_MS);
        // Changelog and repartition topics may carry checkpoints too.
        p.put(StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), MAX_CHECKPOINT_BYTES);
        if (singleBroker) {
            p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        }
        return p;
    }

    private static void requireText(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank, got '" + value + "'");
        }
    }
}

package io.grokwatch.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates grokwatch's topics with the configs each role needs. Kept apart from the clients so that a
 * deployment can run it once with admin rights, and idempotent so that every service can also call it
 * at start-up: topics that already exist are left as they are (their configs are not changed).
 */
public final class TopicAdmin {

    private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);

    /**
     * The largest Kafka message grokwatch produces: a checkpoint of the paper models serialises to
     * well under 16 MB, and one limit shared by topic ({@code max.message.bytes}), producer
     * ({@code max.request.size}) and consumer fetch sizes keeps the three from disagreeing. The
     * payload itself must leave room for key and framing: see
     * {@link CheckpointTooLargeException#MAX_PAYLOAD_BYTES}.
     */
    public static final int MAX_CHECKPOINT_BYTES = 16 * 1024 * 1024;

    /** Checkpoints are large and only needed until analysed; a week is Kafka's own default. */
    public static final Duration DEFAULT_CHECKPOINT_RETENTION = Duration.ofDays(7);

    /** How long admin calls may take before {@link #ensureTopics} gives up. */
    public static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private static final String ZSTD = "zstd";
    /** Spectra (and alerts): small JSON records, compressed. */
    private static final Map<String, String> SPECTRA_CONFIGS = Map.of(TopicConfig.COMPRESSION_TYPE_CONFIG, ZSTD);

    private TopicAdmin() {
    }

    /** {@link #ensureTopics(String, Topics, int, short, Duration)} with {@link #DEFAULT_CHECKPOINT_RETENTION}. */
    public static Set<String> ensureTopics(String bootstrapServers, Topics topics, int partitions,
            short replication) {
        return ensureTopics(bootstrapServers, topics, partitions, replication, DEFAULT_CHECKPOINT_RETENTION);
    }

    /**
     * Creates whichever of {@code topics} are missing, through a short-lived admin client.
     *
     * @return the names created by this call (empty when all existed)
     * @throws KafkaException if the cluster cannot be reached or refuses, within {@link #ADMIN_TIMEOUT}
     * @throws InterruptException if interrupted (the interrupt flag is set again)
     */
    public static Set<String> ensureTopics(String bootstrapServers, Topics topics, int partitions,
            short replication, Duration checkpointRetention) {
        requireBootstrap(bootstrapServers);
        List<NewTopic> wanted = newTopics(topics, partitions, replication, checkpointRetention);
        try (Admin admin = admin(bootstrapServers)) {
            return ensureTopics(admin, wanted);
        }
    }

    /**
     * Creates a topic for spectra (zstd, like {@link Topics#spectra()}) named {@code name} if it is missing, with the
     * cluster's default partitions and replication: e.g. replay's output topic, on clusters that create no topic on
     * first use.
     *
     * @return whether this call created it
     */
    public static boolean ensureSpectraTopic(String bootstrapServers, String name) {
        requireBootstrap(bootstrapServers);
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("topic name must not be blank");
        }
        NewTopic topic = new NewTopic(name, java.util.Optional.empty(), java.util.Optional.empty())
                .configs(SPECTRA_CONFIGS);
        try (Admin admin = admin(bootstrapServers)) {
            return !ensureTopics(admin, List.of(topic)).isEmpty();
        }
    }

    private static Admin admin(String bootstrapServers) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "grokwatch-topic-admin");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        return Admin.create(props);
    }

    /**
     * Creates the missing topics among {@code wanted} with an admin client the caller owns. A topic
     * created concurrently by someone else counts as existing.
     *
     * @return the names created by this call
     */
    public static Set<String> ensureTopics(Admin admin, List<NewTopic> wanted) {
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(wanted, "wanted");
        Set<String> existing = await(admin.listTopics().names(), "list topics");
        List<NewTopic> missing = new ArrayList<>();
        for (NewTopic topic : wanted) {
            if (!existing.contains(topic.name())) {
                missing.add(topic);
            }
        }
        Set<String> created = new LinkedHashSet<>();
        if (missing.isEmpty()) {
            return created;
        }
        CreateTopicsResult result = admin.createTopics(missing);
        for (Map.Entry<String, KafkaFuture<Void>> entry : result.values().entrySet()) {
            try {
                await(entry.getValue(), "create topic " + entry.getKey());
                created.add(entry.getKey());
            } catch (KafkaException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        if (!created.isEmpty()) {
            LOG.info("created topics {}", created);
        }
        return created;
    }

    /**
     * The topics with their per-role configs, without touching a cluster:
     * runs compacted (latest descriptor per run id); checkpoints zstd, {@link #MAX_CHECKPOINT_BYTES},
     * time-based retention; spectra and alerts zstd; dead letters zstd and
     * {@link #MAX_CHECKPOINT_BYTES}, because they carry the original (possibly checkpoint-sized) bytes.
     */
    public static List<NewTopic> newTopics(Topics topics, int partitions, short replication,
            Duration checkpointRetention) {
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(checkpointRetention, "checkpointRetention");
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        if (replication < 1) {
            throw new IllegalArgumentException("replication must be >= 1, got " + replication);
        }
        if (checkpointRetention.isNegative() || checkpointRetention.isZero()) {
            throw new IllegalArgumentException("checkpointRetention must be positive, got " + checkpointRetention);
        }
        String maxBytes = Integer.toString(MAX_CHECKPOINT_BYTES);
        return List.of(
                new NewTopic(topics.runs(), partitions, replication).configs(Map.of(
                        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new NewTopic(topics.checkpoints(), partitions, replication).configs(Map.of(
                        TopicConfig.COMPRESSION_TYPE_CONFIG, ZSTD,
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxBytes,
                        TopicConfig.RETENTION_MS_CONFIG, Long.toString(checkpointRetention.toMillis()))),
                new NewTopic(topics.spectra(), partitions, replication).configs(SPECTRA_CONFIGS),
                new NewTopic(topics.alerts(), partitions, replication).configs(SPECTRA_CONFIGS),
                new NewTopic(topics.deadLetter(), partitions, replication).configs(Map.of(
                        TopicConfig.COMPRESSION_TYPE_CONFIG, ZSTD,
                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG, maxBytes)));
    }

    static void requireBootstrap(String bootstrapServers) {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrapServers must be host:port[,host:port...], got '"
                    + bootstrapServers + "'");
        }
    }

    private static <T> T await(KafkaFuture<T> future, String what) {
        try {
            return future.get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            throw new InterruptException("interrupted while waiting to " + what, e);
        } catch (ExecutionException e) {
            throw new KafkaException("failed to " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("timed out after " + ADMIN_TIMEOUT.toSeconds() + " s waiting to " + what, e);
        }
    }
}

package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerMetrics;
import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A measurement, not part of the suite (it writes 2 GB; run with {@code -Dgrokwatch.measure.restore=true}): what the
 * eigenbasis changelog's segment size does to a restore. One run's eigenbases written 24 times at 40 MB (a long run
 * at about p = 113) into the changelogs of two applications, one at the broker's default segment size and one at
 * {@link ClientConfigs#STATE_CHANGELOG_SEGMENT_BYTES}; after the log cleaner has had its turn, an analyzer of each
 * starts on an empty state directory (as after an unclean stop under exactly-once) and restores it. Prints the
 * changelog's size and the time to RUNNING (warm-up included) for both.
 */
@EnabledIfSystemProperty(named = "grokwatch.measure.restore", matches = "true")
class ChangelogRestoreIT {
    private static final int RECORD_BYTES = 40 * 1024 * 1024;
    private static final int RECORDS = 24;
    /** Longer than the broker's log.cleaner.backoff.ms (15 s), so the cleaner runs once the segments have rolled. */
    private static final long CLEANER_WAIT_MS = 40_000;

    @TempDir
    Path dir;

    @Test
    void shortSegmentsLeaveLessToRestore() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 1, (short) 1);
            Map<String, Boolean> shortSegments = Map.of("default-segments", false, "short-segments", true);
            try (Admin admin = admin(bootstrap)) {
                for (Map.Entry<String, Boolean> app : shortSegments.entrySet()) {
                    for (String store : List.of("eigenbasis", "pending-checkpoint", "run-state", "runs")) {
                        Map<String, String> configs = new HashMap<>(Map.of("cleanup.policy", "compact",
                                "max.message.bytes", Integer.toString(ClientConfigs.MAX_STATE_RECORD_BYTES)));
                        if (app.getValue() && store.equals("eigenbasis")) {
                            configs.put("segment.bytes", Integer.toString(ClientConfigs.STATE_CHANGELOG_SEGMENT_BYTES));
                        }
                        admin.createTopics(List.of(new NewTopic(app.getKey() + "-" + store + "-changelog", 1,
                                (short) 1).configs(configs))).all().get();
                    }
                }
            }
            byte[] bases = new byte[RECORD_BYTES];
            new java.util.Random(1).nextBytes(bases);
            Properties p = ClientConfigs.producer(bootstrap, "changelog-restore-it");
            p.put("max.request.size", ClientConfigs.MAX_STATE_RECORD_BYTES);
            p.put("buffer.memory", 4L * RECORD_BYTES);
            p.put("compression.type", "none");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (int i = 0; i < RECORDS; i++) {
                    for (String app : shortSegments.keySet()) {
                        producer.send(new ProducerRecord<>(app + "-eigenbasis-changelog",
                                "run-1".getBytes(StandardCharsets.UTF_8), bases)).get();
                    }
                }
            }
            Thread.sleep(CLEANER_WAIT_MS);
            for (String app : List.of("default-segments", "short-segments")) {
                long t0 = System.nanoTime();
                try (AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(bootstrap, app,
                        dir.resolve(app), Topics.defaults(), 1, true, 1), new AnalyzerMetrics.Counting())) {
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    assertEquals(org.apache.kafka.streams.KafkaStreams.State.RUNNING, analyzer.state());
                    long bytes = changelogBytes(bootstrap, app + "-eigenbasis-changelog");
                    assertTrue(bytes >= RECORD_BYTES, "the latest bases are kept");
                    System.out.printf(Locale.ROOT, "changelog restore: %s: eigenbasis changelog %d MB, RUNNING after "
                            + "%.1f s on an empty state directory%n", app, bytes >> 20, seconds);
                }
            }
        }
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    private static long changelogBytes(String bootstrap, String topic) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            return admin.describeLogDirs(List.of(1)).allDescriptions().get().get(1).values().stream()
                    .flatMap(d -> d.replicaInfos().entrySet().stream())
                    .filter(e -> e.getKey().topic().equals(topic)).mapToLong(e -> e.getValue().size()).sum();
        }
    }
}

package io.grokwatch.analyzer;

import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm-up against a real broker: it sends checkpoints through a throwaway copy of the pipeline, leaves the
 * user's topics as they were, and deletes what it created (topics, changelogs, consumer group, local state), also
 * when it fails half-way. The analyzer it warms up then starts as before.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PipelineWarmUpIT {
    @TempDir
    static Path dir;
    private static EmbeddedKafka kafka;
    private static Admin admin;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(dir.resolve("kafka"));
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        admin = Admin.create(p);
    }

    @AfterAll
    static void stopBroker() {
        if (admin != null) {
            admin.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void analysesThroughItsOwnTopicsAndLeavesNothingBehind() throws Exception {
        Topics topics = Topics.defaults();
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), topics, 1, (short) 1);
        // A topic of the user's whose name starts like the application id: not the warm-up's to delete.
        admin.createTopics(List.of(new NewTopic("it-warm-other", 1, (short) 1))).all().get();
        AnalyzerService.Config config = new AnalyzerService.Config(kafka.bootstrapServers(), "it-warm",
                dir.resolve("state-1"), topics, 1, true, 2);
        AtomicInteger meanwhile = new AtomicInteger();

        PipelineWarmUp.Result r = PipelineWarmUp.run(config, DetectorSuite.defaults(), meanwhile::incrementAndGet);

        assertEquals(PipelineWarmUp.CHECKPOINTS, r.checkpoints());
        assertEquals(List.of(), r.leftovers());
        assertEquals(1, meanwhile.get(), "the in-process warm-up runs once, while the copy starts");
        assertTrue(r.id().startsWith("it-warm-warm-up-"), r.id());
        awaitNoTopicsStartingWith(r.id());
        assertFalse(groups().stream().anyMatch(g -> g.startsWith(r.id())), "groups " + groups());
        assertFalse(Files.exists(config.stateDir().resolve(r.id())));
        Set<String> names = admin.listTopics().names().get();
        assertTrue(names.containsAll(topics.toMap().values()) && names.contains("it-warm-other"), "topics " + names);
        for (String t : topics.toMap().values()) {
            assertEquals(0, endOffset(t), "the warm-up wrote to the user's topic " + t);
        }
    }

    @Test
    void cleansUpWhenItFailsHalfWay() throws Exception {
        // The state directory is a file: the throwaway Streams application cannot start after its topics exist.
        Path notADirectory = dir.resolve("state-file");
        Files.writeString(notADirectory, "not a directory");
        AnalyzerService.Config config = new AnalyzerService.Config(kafka.bootstrapServers(), "it-fail",
                notADirectory, Topics.defaults(), 1, true, 2);
        AtomicInteger meanwhile = new AtomicInteger();

        assertThrows(KafkaException.class,
                () -> PipelineWarmUp.run(config, DetectorSuite.defaults(), meanwhile::incrementAndGet));

        assertEquals(0, meanwhile.get());
        awaitNoTopicsStartingWith("it-fail-warm-up-");
        assertFalse(groups().stream().anyMatch(g -> g.startsWith("it-fail")), "groups " + groups());
    }

    @Test
    void theServiceStartsAfterItsWarmUpWithOnlyItsOwnTopicsAndGroup() throws Exception {
        Topics topics = new Topics("svc.runs", "svc.checkpoints", "svc.spectra", "svc.alerts", "svc.dead-letter");
        AnalyzerService.Config config = new AnalyzerService.Config(kafka.bootstrapServers(), "it-svc",
                dir.resolve("state-svc"), topics, 1, true, 2);
        try (AnalyzerService service = AnalyzerService.start(config, new AnalyzerMetrics.Counting())) {
            assertEquals(KafkaStreams.State.RUNNING, service.state());
            awaitNoTopicsStartingWith("it-svc-warm-up-");
            assertFalse(groups().stream().anyMatch(g -> g.startsWith("it-svc-warm-up-")), "groups " + groups());
            try (var children = Files.list(config.stateDir())) {
                assertEquals(List.of("it-svc"), children.map(c -> c.getFileName().toString()).toList());
            }
        }
    }

    private static void awaitNoTopicsStartingWith(String prefix) throws Exception {
        // Deletion is acknowledged by the controller; the broker's metadata follows within moments.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        Set<String> left;
        do {
            left = admin.listTopics().names().get().stream().filter(t -> t.startsWith(prefix))
                    .collect(Collectors.toCollection(TreeSet::new));
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("topics left behind: " + left);
    }

    private static Set<String> groups() throws Exception {
        return admin.listGroups().all().get().stream().map(GroupListing::groupId).collect(Collectors.toSet());
    }

    private static long endOffset(String topic) throws Exception {
        TopicPartition tp = new TopicPartition(topic, 0);
        return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset();
    }
}

package io.grokwatch.cli;

import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chaos suite: real broker, analyzer processes, trainers' publishers and an HTTP receiver, each scenario
 * counted by a read_committed consumer of the spectra and alerts ({@link CommittedOutput}) against the checkpoints
 * the trainers got acknowledged ({@link RunFeed}). Every checkpoint must give exactly one spectrum ({@code --backlog
 * all}): 0 lost, 0 duplicated. Recovery times are measured and printed, not asserted; the only time bound is that
 * the analyzer is never stuck ({@link #STUCK}). The table is printed at the end (docs/operations.md, "Chaos suite").
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ChaosIT {
    /**
     * The analyzer is stuck if no new spectrum arrives for this long while checkpoints wait: generous, for a restart
     * (10-15 s measured), a takeover after the 10 s session timeout or a broker's return, on a loaded 2-core machine,
     * and for Kafka's 45 s session timeout should static membership stop working.
     */
    private static final Duration STUCK = Duration.ofSeconds(90);
    /** After the last expected spectrum, how long a late repeat still has to show up and be counted. */
    private static final Duration SETTLE = Duration.ofSeconds(2);
    /** How long the broker stays down, and the webhook receiver at least. */
    private static final Duration OUTAGE = Duration.ofSeconds(5);
    /**
     * Time for a second instance to join the group and the assignment to settle: its start is 10-20 s here
     * (JVM, warm-up), which the process start waits for; this covers the rebalance that follows.
     */
    private static final Duration REBALANCE = Duration.ofSeconds(3);
    /** Concurrent runs into one analyzer. */
    private static final int RUNS = 100;
    /** Heap of each analyzer process. */
    private static final String HEAP = "768m";

    /** p = 13, width 32, 60 epochs, a checkpoint every 3: 21 checkpoints of a few ms of analysis each. */
    private static TrainedRun small;

    @TempDir
    Path dir;

    @BeforeAll
    static void train() {
        small = TrainedRun.train(13, 32, 60, 3, 40);
    }

    @AfterAll
    static void printTable() {
        ChaosTable.print();
    }

    @Test
    @Order(1)
    void sigkillOfTheAnalyzerMidRunLosesAndRepeatsNothing() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 2, (short) 1);
            Path state = dir.resolve("analyzer");
            // The killed instance's close() finds it gone; it only stops it if the test fails before the kill.
            try (CommittedOutput out = new CommittedOutput(bootstrap);
                 AnalyzerProcess first = AnalyzerProcess.start(bootstrap, "chaos-kill", state, 2, HEAP);
                 RunFeed feed = RunFeed.start(bootstrap, small, List.of("kill-1", "kill-2"), Duration.ofMillis(300),
                         2)) {
                awaitSpectra(out, 8);
                first.kill();
                try (AnalyzerProcess second = AnalyzerProcess.start(bootstrap, "chaos-kill", state, 2, HEAP)) {
                    feed.awaitDone(Duration.ofMinutes(2));
                    boolean all = out.awaitAll(feed.published(), STUCK);
                    out.settle(SETTLE);
                    long firstNew = out.firstArrivalAfter(second.startedNanos()).orElse(-1);
                    String recovery = firstNew < 0 ? "none" : String.format(Locale.ROOT,
                            "%.1f s to a spectrum (%.1f s to running)", (firstNew - second.startedNanos()) / 1e9,
                            second.secondsToRunning());
                    record(out, feed.published(), "SIGKILL analyzer mid-run, restart", onTopic(out), recovery);
                    assertTrue(all, "stuck: a spectrum missing and none new for " + STUCK);
                }
            }
            // What a restore reads: the eigenbasis changelog in short segments, which compaction can shorten.
            assertEquals(Integer.toString(io.grokwatch.kafka.ClientConfigs.STATE_CHANGELOG_SEGMENT_BYTES),
                    topicConfig(bootstrap, "chaos-kill-eigenbasis-changelog", "segment.bytes"));
        }
    }

    private static String topicConfig(String bootstrap, String topic, String name) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
            return admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource).get(name)
                    .value();
        }
    }

    @Test
    @Order(2)
    void theBrokerStoppedAndRestartedMidRunLosesAndRepeatsNothing() throws Exception {
        Path data = dir.resolve("kafka");
        EmbeddedKafka kafka = EmbeddedKafka.start(data);
        String bootstrap = kafka.bootstrapServers();
        int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
        try {
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 2, (short) 1);
            try (CommittedOutput out = new CommittedOutput(bootstrap);
                 AnalyzerProcess analyzer = AnalyzerProcess.start(bootstrap, "chaos-broker", dir.resolve("analyzer"),
                         2, HEAP);
                 RunFeed feed = RunFeed.start(bootstrap, small, List.of("broker-1", "broker-2"),
                         Duration.ofMillis(300), 2)) {
                awaitSpectra(out, 8);
                kafka.close();
                Thread.sleep(OUTAGE.toMillis());
                kafka = EmbeddedKafka.start(data, port);
                long back = System.nanoTime();
                feed.awaitDone(Duration.ofMinutes(2));
                boolean all = out.awaitAll(feed.published(), STUCK);
                out.settle(SETTLE);
                long firstNew = out.firstArrivalAfter(back).orElse(-1);
                record(out, feed.published(), "broker stopped " + OUTAGE.toSeconds() + " s mid-run, restarted",
                        onTopic(out), firstNew < 0 ? "none" : String.format(Locale.ROOT,
                                "%.1f s from the broker's return to a spectrum", (firstNew - back) / 1e9));
                assertTrue(all, "stuck: a spectrum missing and none new for " + STUCK);
                assertTrue(analyzer.alive(), "the analyzer rode the outage out; its log: " + analyzer.log());
            }
        } finally {
            kafka.close();
        }
    }

    @Test
    @Order(3)
    void theSurvivorOfTwoAnalyzersTakesTheRunsOfTheKilledOne() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 4, (short) 1);
            List<String> runs = IntStream.rangeClosed(1, 8).mapToObj(i -> "pair-" + i).toList();
            try (CommittedOutput out = new CommittedOutput(bootstrap);
                 AnalyzerProcess survivor = AnalyzerProcess.start(bootstrap, "chaos-pair", dir.resolve("a"), 4, HEAP);
                 AnalyzerProcess victim = AnalyzerProcess.start(bootstrap, "chaos-pair", dir.resolve("b"), 4, HEAP)) {
                // Both in the group before the first checkpoint, so both have runs when one is killed.
                Thread.sleep(REBALANCE.toMillis());
                try (RunFeed feed = RunFeed.start(bootstrap, small, runs, Duration.ofMillis(700), 4)) {
                    awaitSpectra(out, 3 * runs.size());
                    victim.kill();
                    long killed = System.nanoTime();
                    feed.awaitDone(Duration.ofMinutes(2));
                    boolean all = out.awaitAll(feed.published(), STUCK);
                    out.settle(SETTLE);
                    Set<String> taken = new java.util.TreeSet<>(victim.registeredRuns());
                    taken.retainAll(runs); // not its warm-up's run
                    double takeover = out.everyRunAnalysedAfter(killed, taken);
                    record(out, feed.published(), "2 analyzers, 8 runs on 4 partitions, one SIGKILLed", onTopic(out),
                            String.format(Locale.ROOT, "%.1f s from the kill until the survivor analysed all %d runs "
                                    + "of the killed one", takeover, taken.size()));
                    assertTrue(all, "stuck: a spectrum missing and none new for " + STUCK);
                    assertTrue(!taken.isEmpty() && taken.size() < runs.size(), "both instances had runs: " + taken);
                    assertTrue(survivor.alive(), "the survivor runs on; its log: " + survivor.log());
                }
            }
        }
    }

    @Test
    @Order(4)
    void everyAlertReachesAReceiverThatWasDownForAWhile() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             AlertReceiver receiver = new AlertReceiver()) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 2, (short) 1);
            List<String> runs = List.of("hook-1", "hook-2", "hook-3", "hook-4");
            try (CommittedOutput out = new CommittedOutput(bootstrap);
                 AnalyzerProcess analyzer = AnalyzerProcess.start(bootstrap, "chaos-hook", dir.resolve("analyzer"), 2,
                         HEAP, "--webhook-url", receiver.url());
                 RunFeed feed = RunFeed.start(bootstrap, small, runs, Duration.ofMillis(200), 4)) {
                // The receiver is down from the start: the first alerts are refused, retried, and wait.
                feed.awaitDone(Duration.ofMinutes(2));
                boolean all = out.awaitAll(feed.published(), STUCK);
                Thread.sleep(OUTAGE.toMillis());
                int refused = receiver.alerts().size();
                receiver.up();
                long up = System.nanoTime();
                Set<String> raised = out.alertIds();
                long deadline = System.nanoTime() + STUCK.toNanos();
                while (!receiver.alerts().containsAll(raised) && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                double delivered = (System.nanoTime() - up) / 1e9;
                out.settle(SETTLE);
                record(out, feed.published(), "webhook receiver down " + OUTAGE.toSeconds() + " s+, then up",
                        String.format(Locale.ROOT, "%d of %d (%d repeats dropped by webhook-id)",
                                receiver.alerts().size(), out.alertIds().size(), receiver.repeats()),
                        String.format(Locale.ROOT, "%.1f s from the receiver's return to the last alert", delivered));
                assertTrue(all, "stuck: a spectrum missing and none new for " + STUCK);
                assertTrue(analyzer.alive(), "the analyzer runs on; its log: " + analyzer.log());
                assertEquals(0, refused, "nothing is delivered while the receiver is down");
                assertTrue(raised.size() >= runs.size(), "the runs raise alerts: " + raised);
                assertEquals(out.alertIds(), receiver.alerts(), "every alert on the topic delivered, once each");
            }
        }
    }

    @Test
    @Order(5)
    void aHundredConcurrentRunsAreAllAnalysedAndNoneStarves() throws Exception {
        TrainedRun tiny = TrainedRun.train(11, 16, 12, 3, 20);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"))) {
            String bootstrap = kafka.bootstrapServers();
            TopicAdmin.ensureTopics(bootstrap, Topics.defaults(), 4, (short) 1);
            List<String> runs = IntStream.rangeClosed(1, RUNS).mapToObj(i -> String.format("many-%03d", i)).toList();
            Path state = dir.resolve("analyzer");
            try (CommittedOutput out = new CommittedOutput(bootstrap);
                 AnalyzerProcess analyzer = AnalyzerProcess.start(bootstrap, "chaos-many", state, 4, HEAP)) {
                java.util.OptionalLong idleHeap = analyzer.heapAfterGc();
                try (RunFeed feed = RunFeed.start(bootstrap, tiny, runs, Duration.ofMillis(500), 8)) {
                    feed.awaitDone(Duration.ofMinutes(3));
                    boolean all = out.awaitAll(feed.published(), STUCK);
                    out.settle(SETTLE);
                    java.util.OptionalLong heap = analyzer.heapAfterGc();
                    long stateBytes = directoryBytes(state);
                    double lag = out.maxLagSeconds(feed.publishedNanos());
                    String perRunHeap = heap.isPresent() && idleHeap.isPresent() ? String.format(Locale.ROOT,
                            "%.1f KiB heap", (heap.getAsLong() - idleHeap.getAsLong()) / 1024.0 / RUNS)
                            : "heap not measured (no jcmd)";
                    String memory = String.format(Locale.ROOT, "%s and %.1f KiB of state store per run", perRunHeap,
                            stateBytes / 1024.0 / RUNS);
                    record(out, feed.published(), RUNS + " concurrent runs, one analyzer (" + memory + ")",
                            onTopic(out), String.format(Locale.ROOT,
                                    "max lag %.1f s from a checkpoint to its spectrum", lag));
                    assertTrue(all, "stuck: a spectrum missing and none new for " + STUCK);
                    assertTrue(lag < STUCK.toSeconds(), "a run starved: " + lag + " s");
                }
            }
        }
    }

    private static long directoryBytes(Path dir) throws java.io.IOException {
        try (var files = java.nio.file.Files.walk(dir)) {
            return files.filter(java.nio.file.Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static String onTopic(CommittedOutput out) {
        return "no receiver (" + out.alertIds().size() + " on the topic)";
    }

    private static void record(CommittedOutput out, Map<String, Set<Long>> published, String scenario, String alerts,
            String recovery) {
        int checkpoints = published.values().stream().mapToInt(Set::size).sum();
        int lost = out.lost(published);
        int duplicated = out.duplicatedSpectra() + out.duplicatedAlerts();
        ChaosTable.add(new ChaosTable.Row(scenario, checkpoints, out.spectra(), lost, duplicated, alerts, recovery));
        assertEquals(0, lost, scenario + ": lost spectra");
        assertEquals(0, duplicated, scenario + ": duplicated spectra or alerts");
        assertEquals(0, out.unexpected(published), scenario + ": spectra of steps never published");
    }

    private static void awaitSpectra(CommittedOutput out, int n) throws InterruptedException {
        long deadline = System.nanoTime() + STUCK.toNanos();
        while (out.spectra() < n) {
            assertTrue(System.nanoTime() < deadline, "fewer than " + n + " spectra within " + STUCK);
            Thread.sleep(50);
        }
    }
}

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
     * The analyzer is stuck if no new spectrum arrives for this long while checkpoints wait: generous, for a
     * restart that waits out the dead member's session (45 s by default) on a loaded 2-core machine.
     */
    private static final Duration STUCK = Duration.ofSeconds(90);
    /** After the last expected spectrum, how long a late repeat still has to show up and be counted. */
    private static final Duration SETTLE = Duration.ofSeconds(2);
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
            try (CommittedOutput out = new CommittedOutput(bootstrap)) {
                AnalyzerProcess first = AnalyzerProcess.start(bootstrap, "chaos-kill", state, 2, HEAP);
                AnalyzerProcess second;
                try (RunFeed feed = RunFeed.start(bootstrap, small, List.of("kill-1", "kill-2"),
                        Duration.ofMillis(300), 2)) {
                    awaitSpectra(out, 8);
                    first.kill();
                    second = AnalyzerProcess.start(bootstrap, "chaos-kill", state, 2, HEAP);
                    try (second) {
                        feed.awaitDone(Duration.ofMinutes(2));
                        boolean all = out.awaitAll(feed.published(), STUCK);
                        out.settle(SETTLE);
                        long firstNew = out.firstArrivalAfter(second.startedNanos()).orElse(-1);
                        String recovery = firstNew < 0 ? "none" : String.format(Locale.ROOT,
                                "%.1f s to a spectrum (%.1f s to running)", (firstNew - second.startedNanos()) / 1e9,
                                second.secondsToRunning());
                        record(out, feed.published(), "SIGKILL analyzer mid-run, restart", "-", recovery);
                        assertTrue(all, "stuck: a spectrum missing and none new for " + STUCK);
                    }
                }
            }
        }
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

package io.grokwatch.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code grokwatch analyze} in a JVM of its own (this test's classpath, {@link Main}), so that a test can end it
 * with SIGKILL as a crash or an OOM killer would. Its output goes to a log file next to its state directory; the
 * time it was started and the time it printed that it runs are kept for recovery figures.
 */
final class AnalyzerProcess implements AutoCloseable {
    private static final String RUNNING = "analyzer running against ";
    /** Longest a start may take to print {@link #RUNNING}: JVM, warm-up and Streams start with slack. */
    private static final long START_SECONDS = 120;

    private final Process process;
    private final Path log;
    private final long startedNanos;
    private final CountDownLatch running = new CountDownLatch(1);
    private volatile long runningNanos;

    private AnalyzerProcess(Process process, Path log, long startedNanos) {
        this.process = process;
        this.log = log;
        this.startedNanos = startedNanos;
        Thread drain = new Thread(this::drain, "analyzer-output-" + process.pid());
        drain.setDaemon(true);
        drain.start();
    }

    /**
     * Starts {@code grokwatch analyze} with every checkpoint analysed ({@code --backlog all}), one analysis thread,
     * no metrics endpoint or live page unless {@code more} asks, and waits until it runs.
     *
     * @param heap the child's {@code -Xmx}, e.g. {@code 768m}
     * @param more further options (e.g. {@code --webhook-url})
     */
    static AnalyzerProcess start(String bootstrap, String applicationId, Path stateDir, int partitions, String heap,
            String... more) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap));
        // As the launcher: extra JVM options (e.g. a log4j2 configuration that shows Kafka Streams' restores).
        String javaOptions = System.getenv("GROKWATCH_JAVA_OPTS");
        if (javaOptions != null && !javaOptions.isBlank()) {
            command.addAll(List.of(javaOptions.trim().split("\\s+")));
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "analyze", "--bootstrap-servers", bootstrap, "--single-broker", "--partitions",
                Integer.toString(partitions), "--application-id", applicationId, "--state-dir", stateDir.toString(),
                "--backlog", "all", "--analysis-threads", "1", "--ui-port", "-1"));
        if (!List.of(more).contains("--metrics-port")) {
            command.addAll(List.of("--metrics-port", "-1"));
        }
        command.addAll(List.of(more));
        Path log = stateDir.resolveSibling(stateDir.getFileName() + ".log");
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(stateDir.getParent());
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            AnalyzerProcess a = new AnalyzerProcess(p, log, t0);
            a.awaitRunning();
            return a;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the analyzer process", e);
        }
    }

    private void awaitRunning() {
        try {
            if (!running.await(START_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the analyzer did not print '" + RUNNING + "' within " + START_SECONDS
                        + " s; its log: " + log);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IllegalStateException("interrupted while starting the analyzer", e);
        }
    }

    private void drain() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (runningNanos == 0 && line.startsWith(RUNNING)) {
                    runningNanos = System.nanoTime();
                    running.countDown();
                }
                Files.writeString(log, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            // The process ended and its stream closed: nothing more to read.
        }
        running.countDown(); // an analyzer that exited before running: awaitRunning reports it
    }

    /** When it was started, on {@link System#nanoTime()}. */
    long startedNanos() {
        return startedNanos;
    }

    /** Seconds from its start to {@code analyzer running}: JVM start, warm-up, Streams RUNNING. */
    double secondsToRunning() {
        return (runningNanos - startedNanos) / 1e9;
    }

    private static final Pattern REGISTERED = Pattern.compile("run (\\S+) registered: ");

    /** The runs whose descriptors this instance took up, from its log: the runs of its partitions. */
    java.util.Set<String> registeredRuns() {
        try {
            java.util.Set<String> runs = new java.util.TreeSet<>();
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                Matcher m = REGISTERED.matcher(line);
                if (m.find()) {
                    runs.add(m.group(1));
                }
            }
            return runs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether it is still running (an analyzer that failed for good exits with status 3). */
    boolean alive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** SIGKILL: no shutdown hook, no commit, no leaving the group, the state directory left as it was. */
    void kill() {
        process.destroyForcibly();
        awaitExit(30);
    }

    /** SIGTERM: its shutdown hook closes the streams cleanly. */
    void stop() {
        process.destroy();
        if (!awaitExit(60)) {
            process.destroyForcibly();
            awaitExit(30);
            throw new AssertionError("the analyzer did not stop on SIGTERM within 60 s; its log: " + log);
        }
    }

    private boolean awaitExit(long seconds) {
        try {
            return process.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

    /**
     * Its heap in use after a full GC ({@code jcmd GC.run}, then {@code GC.heap_info}), in bytes; empty where jcmd
     * cannot attach to it (a JDK without jcmd, attach disabled), which is said on stderr.
     */
    java.util.OptionalLong heapAfterGc() {
        try {
            jcmd("GC.run");
            Matcher m = HEAP_USED.matcher(jcmd("GC.heap_info"));
            if (m.find()) {
                return java.util.OptionalLong.of(Long.parseLong(m.group(1)) * 1024);
            }
            System.err.println("no heap figure from jcmd " + pid());
        } catch (IOException e) {
            System.err.println("jcmd " + pid() + ": " + e.getMessage());
        }
        return java.util.OptionalLong.empty();
    }

    private String jcmd(String what) throws IOException {
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(pid()), what).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("jcmd " + what + " failed: " + out);
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop();
        }
    }
}

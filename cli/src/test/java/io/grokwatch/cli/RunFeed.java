package io.grokwatch.cli;

import io.grokwatch.kafka.Topics;
import io.grokwatch.trainer.RunPublisher;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Trainers of concurrent runs, each a copy of one {@link TrainedRun} under its own run id with its own
 * {@link RunPublisher} (so a broker outage is ridden out as a trainer does): every run publishes its descriptor,
 * then its checkpoints in rounds, one checkpoint of every run per round, {@code pace} apart. What was published
 * (acknowledged by the broker) is kept per run for the counts.
 */
final class RunFeed implements AutoCloseable {
    private final TrainedRun run;
    private final List<String> runIds;
    private final Duration pace;
    private final Map<String, RunPublisher> publishers = new ConcurrentHashMap<>();
    private final Map<String, Set<Long>> published = new ConcurrentHashMap<>();
    private final Map<String, Long> publishedNanos = new ConcurrentHashMap<>();
    private final ExecutorService senders;
    private final CompletableFuture<Void> done;
    private volatile int rounds;

    private RunFeed(String bootstrap, TrainedRun run, List<String> runIds, Duration pace, int threads) {
        this.run = run;
        this.runIds = List.copyOf(runIds);
        this.pace = pace;
        this.senders = Executors.newFixedThreadPool(threads);
        for (String id : runIds) {
            publishers.put(id, new RunPublisher(bootstrap, Topics.defaults(), id));
            published.put(id, ConcurrentHashMap.newKeySet());
        }
        this.done = CompletableFuture.runAsync(this::publishAll, Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "run-feed");
            t.setDaemon(true);
            return t;
        }));
    }

    /**
     * Starts publishing in the background.
     *
     * @param threads publishers sending at once within a round
     */
    static RunFeed start(String bootstrap, TrainedRun run, List<String> runIds, Duration pace, int threads) {
        return new RunFeed(bootstrap, run, runIds, pace, threads);
    }

    private void publishAll() {
        inParallel(id -> publishers.get(id).publishDescriptor(run.descriptor(id)));
        for (int i = 0; i < run.size(); i++) {
            int checkpoint = i;
            inParallel(id -> {
                publishers.get(id).publishCheckpoint(run.checkpoints().get(checkpoint));
                published.get(id).add(run.steps().get(checkpoint));
                publishedNanos.put(CommittedOutput.spectrumId(id, run.steps().get(checkpoint)), System.nanoTime());
            });
            rounds = i + 1;
            try {
                Thread.sleep(pace.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while publishing", e);
            }
        }
        // As a trainer does when it is done: the analyzer then resolves each run's alerts (counted as alerts of
        // their own) and does not report the runs stalled when the scenario outlasts their silence.
        long last = run.steps().get(run.size() - 1);
        inParallel(id -> publishers.get(id).publishEnd(io.grokwatch.records.RunEndRecord.COMPLETED, last));
    }

    private void inParallel(java.util.function.Consumer<String> send) {
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (String id : runIds) {
            sends.add(CompletableFuture.runAsync(() -> send.accept(id), senders));
        }
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).join();
    }

    /** Checkpoints published so far, in every run. */
    int rounds() {
        return rounds;
    }

    /** Waits until every checkpoint of every run is published. */
    void awaitDone(Duration timeout) throws Exception {
        done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The steps published per run. */
    Map<String, Set<Long>> published() {
        return published;
    }

    /** When the checkpoint of a run and step was acknowledged ({@link System#nanoTime()}), keyed as spectra are. */
    Map<String, Long> publishedNanos() {
        return publishedNanos;
    }

    List<String> runIds() {
        return runIds;
    }

    @Override
    public void close() {
        done.cancel(true);
        senders.shutdownNow();
        publishers.values().forEach(RunPublisher::close);
    }
}

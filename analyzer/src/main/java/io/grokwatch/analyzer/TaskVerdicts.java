package io.grokwatch.analyzer;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * Keeps the verdict series (phase, alert epochs and counts) of one stream task's runs in step with its run-state
 * store: restored when the task starts, on this instance's start or after a rebalance gave it the partition;
 * updated after each analysis; released when the task closes, so an instance that lost the partition stops
 * reporting runs it no longer serves.
 */
final class TaskVerdicts {
    private static final Logger LOG = LoggerFactory.getLogger(TaskVerdicts.class);

    private final AnalyzerMetrics metrics;
    private final Set<String> reported = new HashSet<>();

    TaskVerdicts(AnalyzerMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** Reports the verdict of every run in the task's state store (called once its stores are restored). */
    void restore(KeyValueStore<String, byte[]> state) {
        int restored = 0;
        try (KeyValueIterator<String, byte[]> it = state.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                RunState s = RunState.read(kv.value);
                if (s == null) {
                    continue;
                }
                metrics.restored(kv.key, RunVerdict.of(s));
                reported.add(kv.key);
                restored++;
            }
        }
        if (restored > 0) {
            LOG.info("restored the phase and alerts of {} runs from the run-state store", restored);
        }
    }

    void update(String runId, RunState state) {
        metrics.verdict(runId, RunVerdict.of(state));
        reported.add(runId);
    }

    /** A deleted run: its series go at once. */
    void forget(String runId) {
        if (reported.remove(runId)) {
            metrics.released(runId);
        }
    }

    void release() {
        reported.forEach(metrics::released);
        reported.clear();
    }
}

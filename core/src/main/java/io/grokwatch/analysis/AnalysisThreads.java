package io.grokwatch.analysis;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Process-wide pools of analysis threads, one per size, shared by every analyzer. The threads keep their
 * native BLAS scratch buffers between checkpoints and between runs, so a new run's first checkpoint does not
 * pay for allocating and faulting in megabytes of native memory (measured: docs/benchmarks.md). Daemon threads:
 * they never keep the JVM alive, and no analyzer shuts them down.
 */
final class AnalysisThreads {
    private static final Map<Integer, ExecutorService> POOLS = new ConcurrentHashMap<>();

    private AnalysisThreads() {
    }

    static ExecutorService shared(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        return POOLS.computeIfAbsent(threads, n -> {
            AtomicInteger counter = new AtomicInteger();
            return Executors.newFixedThreadPool(n, r -> {
                Thread t = new Thread(r, "grokwatch-analysis-" + n + "-" + counter.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        });
    }
}

package io.grokwatch.linalg;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs two halves of one large BLAS-bound step side by side: the second on the common fork-join pool, the first on
 * the caller. The analyzer runs its eigen-solves concurrently with single-threaded BLAS, so when the short solves
 * are done the long one (the whole-model kernel) would otherwise leave the other cores idle. When no core is free
 * the caller runs both halves itself.
 */
public final class TwoWay {
    /** Below this many multiply-adds a step is not worth splitting (a fork costs tens of microseconds). */
    static final long MIN_WORK = 4_000_000L;
    /** Tasks running now that each hold a core for themselves ({@link #occupyingACore}). */
    private static final AtomicInteger OCCUPIED = new AtomicInteger();

    private TwoWay() {
    }

    /**
     * Whether splitting a step of {@code work} multiply-adds can pay now: the step is large enough and a core is free,
     * which it is not while {@link #occupyingACore} tasks hold every core but the caller's.
     */
    static boolean worthSplitting(long work) {
        int cores = Runtime.getRuntime().availableProcessors();
        return work >= MIN_WORK && ForkJoinPool.getCommonPoolParallelism() > 0 && cores > 1
                && OCCUPIED.get() + 1 < cores;
    }

    /**
     * Runs {@code task}, which holds a core beside other work of the same analysis (a layer kernel's solve beside the
     * whole model's): while it runs, steps elsewhere split only onto cores still free. A half offered to a core that
     * a concurrent task holds would be time-sliced against it, and the step would wait for its slower half (measured
     * faster and with less CPU at p = 113 on two cores; docs/benchmarks.md).
     */
    public static <T> T occupyingACore(java.util.function.Supplier<T> task) {
        OCCUPIED.incrementAndGet();
        try {
            return task.get();
        } finally {
            OCCUPIED.decrementAndGet();
        }
    }

    /**
     * Runs both; returns when both are done. The second is offered to the common pool, but whichever thread gets
     * to it first runs it, so a busy pool never makes the caller wait.
     */
    public static void run(Runnable first, Runnable second) {
        AtomicBoolean claimed = new AtomicBoolean();
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable once = () -> {
            if (claimed.compareAndSet(false, true)) {
                try {
                    second.run();
                    done.complete(null);
                } catch (Throwable t) {
                    done.completeExceptionally(t);
                }
            }
        };
        ForkJoinPool.commonPool().execute(once);
        first.run();
        once.run();
        done.join();
    }

    /** Splits {@code [0, n)} at a multiple of 8 near the middle (keeps both halves' rows aligned for BLAS). */
    static int middle(int n) {
        return Math.max(0, Math.min(n, (n / 2 + 7) / 8 * 8));
    }
}

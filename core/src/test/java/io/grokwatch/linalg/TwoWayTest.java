package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** When a step splits: only above the work threshold, and only onto a core no concurrent task holds. */
class TwoWayTest {
    private static final long LARGE = 100 * TwoWay.MIN_WORK;

    @Test
    void smallStepsNeverSplit() {
        assertFalse(TwoWay.worthSplitting(TwoWay.MIN_WORK - 1));
    }

    @Test
    void aStepSplitsOnlyOntoACoreThatNoConcurrentTaskHolds() {
        int cores = Runtime.getRuntime().availableProcessors();
        assumeTrue(cores > 1 && java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() > 0,
                "needs a second core");
        assertTrue(TwoWay.worthSplitting(LARGE));
        // Holding every core but the caller's: nothing is free to split onto. One fewer: a core is free again.
        boolean whileAllHeld = nest(cores - 1, () -> TwoWay.worthSplitting(LARGE));
        boolean whileOneFree = cores > 2 ? nest(cores - 2, () -> TwoWay.worthSplitting(LARGE)) : true;
        assertFalse(whileAllHeld);
        assertTrue(whileOneFree);
        assertTrue(TwoWay.worthSplitting(LARGE), "released after the tasks end");
    }

    @Test
    void aFailingTaskReleasesItsCore() {
        assumeTrue(Runtime.getRuntime().availableProcessors() > 1
                && java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() > 0, "needs a second core");
        assertThrows(IllegalStateException.class, () -> TwoWay.occupyingACore(() -> {
            throw new IllegalStateException("solve failed");
        }));
        assertTrue(TwoWay.worthSplitting(LARGE));
    }

    @Test
    void bothHalvesRunOnceEach() {
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        for (int i = 0; i < 50; i++) {
            TwoWay.run(first::incrementAndGet, second::incrementAndGet);
        }
        assertEquals(50, first.get());
        assertEquals(50, second.get());
    }

    /** {@code probe} evaluated inside {@code depth} nested {@link TwoWay#occupyingACore} tasks. */
    private static boolean nest(int depth, java.util.function.BooleanSupplier probe) {
        if (depth == 0) {
            return probe.getAsBoolean();
        }
        return TwoWay.occupyingACore(() -> nest(depth - 1, probe));
    }
}

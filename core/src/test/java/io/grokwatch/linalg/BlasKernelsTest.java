package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlasKernelsTest {
    private static final String ZEN = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512dq\n";
    private static final String OLD = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: avx512f_ghost\n";

    @Test
    void readsTheAvx512FlagFromTheFlagsLineOnly() {
        assertTrue(BlasKernels.hasAvx512(ZEN));
        assertFalse(BlasKernels.hasAvx512(OLD));
        assertFalse(BlasKernels.hasAvx512(""));
    }

    @Test
    void saysWhenTheEnvironmentHoldsTheKernelsBelowTheCpu() {
        BlasKernels pinned = new BlasKernels(Optional.of("Haswell"), Optional.of(true), Optional.of("1"), 2);
        assertTrue(pinned.pinnedBelowCpu());
        assertEquals("2 cores, AVX-512 CPU, OpenBLAS threads 1, OPENBLAS_CORETYPE=Haswell from the environment "
                + "(the CPU runs AVX-512 kernels: unset OPENBLAS_CORETYPE to let OpenBLAS use them)", pinned.describe());

        BlasKernels own = new BlasKernels(Optional.empty(), Optional.of(true), Optional.empty(), 2);
        assertFalse(own.pinnedBelowCpu());
        assertEquals("2 cores, AVX-512 CPU, OpenBLAS threads unset, kernels chosen by OpenBLAS for this CPU",
                own.describe());
        assertFalse(new BlasKernels(Optional.of("SkylakeX"), Optional.of(true), Optional.empty(), 2).pinnedBelowCpu());
        assertFalse(new BlasKernels(Optional.of("Haswell"), Optional.of(false), Optional.empty(), 4).pinnedBelowCpu());
        assertFalse(new BlasKernels(Optional.of("Haswell"), Optional.empty(), Optional.empty(), 4).pinnedBelowCpu());
    }

    @Test
    void currentReadsThisMachineAndRejectsNoCores() {
        BlasKernels k = BlasKernels.current();
        assertEquals(Runtime.getRuntime().availableProcessors(), k.cores());
        assertEquals(Optional.ofNullable(System.getenv("OPENBLAS_CORETYPE")).filter(s -> !s.isBlank()).map(String::trim),
                k.coreType());
        assertThrows(IllegalArgumentException.class,
                () -> new BlasKernels(Optional.empty(), Optional.empty(), Optional.empty(), 0));
    }
}

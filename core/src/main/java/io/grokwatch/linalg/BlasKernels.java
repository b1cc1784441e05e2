package io.grokwatch.linalg;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Which OpenBLAS kernels this process gets, in words a benchmark or a log can carry. OpenBLAS picks its kernels for
 * the CPU unless {@code OPENBLAS_CORETYPE} names a core; a machine that sets it for older OpenBLAS builds (which
 * misread recent CPUs) can pin the bundled 0.3.31 to older kernels than the CPU runs (measured: Haswell's AVX2
 * kernels make a p = 113 analysis slower than the AVX-512 ones OpenBLAS picks itself; docs/benchmarks.md).
 *
 * @param coreType     {@code OPENBLAS_CORETYPE}, if set
 * @param avx512       the CPU reports AVX-512F (Linux {@code /proc/cpuinfo}); empty where that cannot be read
 * @param blasThreads  {@code OPENBLAS_NUM_THREADS}, if set
 * @param cores        processors available to the JVM
 */
public record BlasKernels(Optional<String> coreType, Optional<Boolean> avx512, Optional<String> blasThreads,
                          int cores) {
    public BlasKernels {
        java.util.Objects.requireNonNull(coreType, "coreType");
        java.util.Objects.requireNonNull(avx512, "avx512");
        java.util.Objects.requireNonNull(blasThreads, "blasThreads");
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, got " + cores);
        }
    }

    /** This process's settings and CPU. */
    public static BlasKernels current() {
        Optional<Boolean> avx512;
        try {
            avx512 = Optional.of(hasAvx512(Files.readString(Path.of("/proc/cpuinfo"))));
        } catch (java.io.IOException | RuntimeException e) {
            avx512 = Optional.empty();
        }
        return new BlasKernels(nonBlank(System.getenv("OPENBLAS_CORETYPE")), avx512,
                nonBlank(System.getenv("OPENBLAS_NUM_THREADS")), Runtime.getRuntime().availableProcessors());
    }

    /** Whether a {@code /proc/cpuinfo} text lists the {@code avx512f} flag. */
    static boolean hasAvx512(String cpuinfo) {
        for (String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags")) {
                for (String flag : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                    if (flag.equals("avx512f")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether the environment pins OpenBLAS to a core without the AVX-512 kernels that this CPU could run. */
    public boolean pinnedBelowCpu() {
        return coreType.isPresent() && avx512.orElse(false) && !coreType.get().toLowerCase().matches(
                ".*(skylakex|cooperlake|sapphirerapids|zen5|zen4).*");
    }

    /** One line: cores, BLAS threads, kernels and, when the environment holds the kernels back, how to change it. */
    public String describe() {
        String cpu = avx512.map(a -> a ? "AVX-512 CPU" : "CPU without AVX-512").orElse("CPU");
        String kernels = coreType.map(c -> "OPENBLAS_CORETYPE=" + c + " from the environment")
                .orElse("kernels chosen by OpenBLAS for this CPU");
        String line = String.format("%d cores, %s, OpenBLAS threads %s, %s", cores, cpu, blasThreads.orElse("unset"),
                kernels);
        if (pinnedBelowCpu()) {
            line += " (the CPU runs AVX-512 kernels: unset OPENBLAS_CORETYPE to let OpenBLAS use them)";
        }
        return line;
    }

    private static Optional<String> nonBlank(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.trim());
    }
}

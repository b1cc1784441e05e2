package io.grokwatch.analysis;

/**
 * How one kernel's spectrum was computed, as reported in the spectra output.
 *
 * @param precision  arithmetic of the dense reduction ({@code float64} or {@code float32}); iterative solves
 *                   run in float64
 * @param start      {@code dense}, {@code warm} or {@code cold} (iterative, from the previous checkpoint's basis or
 *                   from random vectors)
 * @param fellBack   a warm start was offered but was too poor, and the solve restarted cold
 * @param iterations block steps of the iterative solver: operator applications to a block for block Lanczos,
 *                   block iterations for LOBPCG (0 for dense)
 * @param residual   worst relative residual {@code ||K v - lambda v|| / lambda} (dense: the estimated Frobenius one)
 * @param seconds    wall time of the solve
 */
public record SolveInfo(String start, boolean fellBack, int iterations, double residual, double seconds,
                        io.grokwatch.linalg.Precision precision) {
    public static final String DENSE = "dense";

    public SolveInfo(String start, boolean fellBack, int iterations, double residual, double seconds) {
        this(start, fellBack, iterations, residual, seconds, io.grokwatch.linalg.Precision.FLOAT64);
    }
}

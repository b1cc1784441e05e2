package io.grokwatch.analysis;

/**
 * How one kernel's spectrum was computed, as reported in the spectra output.
 *
 * @param start      {@code dense}, {@code warm} or {@code cold} (iterative, from the previous checkpoint's basis or
 *                   from random vectors)
 * @param fellBack   a warm start was offered but was too poor, and the solve restarted cold
 * @param iterations block iterations (0 for dense)
 * @param residual   worst relative residual {@code ||K v - lambda v|| / lambda} (dense: the estimated Frobenius one)
 * @param seconds    wall time of the solve
 */
public record SolveInfo(String start, boolean fellBack, int iterations, double residual, double seconds) {
    public static final String DENSE = "dense";
}

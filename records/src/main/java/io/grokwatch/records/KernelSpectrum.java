package io.grokwatch.records;

import java.util.List;
import java.util.Map;

/**
 * The analysed spectrum of one kernel: the whole model's (at the top of a {@link SpectrumRecord}) or one parameter
 * group's (under its {@code layers}). Optional fields are null when the analysis does not report them.
 *
 * @param eigenvalues       the leading eigenvalues, descending
 * @param overlaps          cliff name ({@code firstCliff}, {@code secondCliff}) to family label ({@code n}, {@code m},
 *                          {@code sum}, {@code diff}) to the share of that Fourier family its eigenvectors span, 0..1;
 *                          null when the probes have no known families
 * @param gaps              named ratios {@code lambda_i / lambda_i+1}, e.g. {@code endOfSecondCliff}; null when none
 * @param cliffs            the spectrum's cliffs
 * @param effectiveRank     exp(entropy) of the normalised eigenvalues
 * @param residual          relative eigen-residual of the solve
 * @param drift             how far the leading eigenspace moved since the previous checkpoint, 0..1; null on the first
 * @param solve             how the spectrum was computed; null when not reported
 * @param recoveredFeatures TMS: features with a dedicated eigenvector; null for other tasks
 * @param heatmapArgmax     TMS: per eigenvector, the feature it aligns with most
 * @param heatmapMax        TMS: that alignment
 * @param familyProfile     where each Fourier family sits in the spectrum, when asked for
 */
public record KernelSpectrum(double[] eigenvalues, Map<String, Map<String, Double>> overlaps, Map<String, Double> gaps,
                             List<Cliff> cliffs, double effectiveRank, double residual, Double drift, Solve solve,
                             Integer recoveredFeatures, int[] heatmapArgmax, double[] heatmapMax,
                             FamilyProfile familyProfile) {
    public KernelSpectrum {
        java.util.Objects.requireNonNull(eigenvalues, "eigenvalues");
        overlaps = overlaps == null || overlaps.isEmpty() ? null : Map.copyOf(overlaps);
        gaps = gaps == null || gaps.isEmpty() ? null : Map.copyOf(gaps);
        cliffs = cliffs == null ? List.of() : List.copyOf(cliffs);
        drift = drift == null || !Double.isFinite(drift) ? null : drift;
    }

    /** The overlap of {@code family} with {@code cliff}'s eigenspace, or NaN when not reported. */
    public double overlap(String cliff, String family) {
        Map<String, Double> c = overlaps == null ? null : overlaps.get(cliff);
        Double v = c == null ? null : c.get(family);
        return v == null ? Double.NaN : v;
    }

    /** The named gap, or NaN when not reported. */
    public double gap(String name) {
        Double v = gaps == null ? null : gaps.get(name);
        return v == null ? Double.NaN : v;
    }

    /** The drift, NaN on a run's first checkpoint. */
    public double driftOrNaN() {
        return drift == null ? Double.NaN : drift;
    }

    /** This spectrum with the TMS heatmap's fields. */
    public KernelSpectrum withHeatmap(int recovered, int[] argmax, double[] max) {
        return new KernelSpectrum(eigenvalues, overlaps, gaps, cliffs, effectiveRank, residual, drift, solve, recovered,
                argmax, max, familyProfile);
    }

    /** This spectrum with a family profile. */
    public KernelSpectrum withFamilyProfile(FamilyProfile profile) {
        return new KernelSpectrum(eigenvalues, overlaps, gaps, cliffs, effectiveRank, residual, drift, solve,
                recoveredFeatures, heatmapArgmax, heatmapMax, profile);
    }

    /** A cliff: a large drop {@code lambda_position / lambda_position+1}. */
    public record Cliff(int position, double ratio) {
    }

    /**
     * How the eigen-solve ran.
     *
     * @param start      {@code warm}, {@code cold}, {@code dense} or {@code low-rank}
     * @param fellBack   whether a warm start was offered but abandoned
     * @param iterations block steps
     * @param residual   relative residual reached
     * @param precision  the reductions' precision ({@code float64}, {@code float32})
     */
    public record Solve(String start, boolean fellBack, int iterations, double residual, String precision) {
    }

    /**
     * The share of each Fourier family's modes in consecutive bands of leading eigenvectors.
     *
     * @param bandWidth eigenvectors per band
     */
    public record FamilyProfile(int bandWidth, List<Band> bands) {
        public FamilyProfile {
            bands = List.copyOf(bands);
        }

        /** Eigenvectors {@code from} (inclusive) to {@code to} (exclusive), ranked from 0, and each family's share. */
        public record Band(int from, int to, double n, double m, double sum, double diff) {
        }
    }
}

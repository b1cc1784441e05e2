package io.grokwatch.analysis;

import io.grokwatch.features.Cliff;
import io.grokwatch.features.Family;
import io.grokwatch.records.KernelSpectrum;

import java.util.List;
import java.util.Map;

/**
 * What one kernel's spectrum says: its leading eigenvalues, where it has cliffs, how spread it is, and
 * (when the probe set has known feature families) how each cliff's eigenspace aligns with them.
 *
 * @param eigenvalues   descending, top-k
 * @param overlaps      cliff name ("firstCliff", "secondCliff") to family overlaps in [0, 1]; empty when the
 *                      probe set has no known families or the spectrum is too short
 * @param gaps          named gap ratios, e.g. "endOfSecondCliff" = lambda_{4(p-1)} / lambda_{4(p-1)+1}
 * @param cliffs        detected cliffs (position i: a drop lambda_i / lambda_{i+1})
 * @param effectiveRank exp(entropy) of the normalised top-k eigenvalues
 * @param residual      relative eigen residual of the solve
 * @param drift         {@link io.grokwatch.features.EigenspaceDrift} of the leading eigenspace since the previous
 *                      checkpoint, NaN when there is none
 * @param solve         how the spectrum was computed, or null when not reported
 */
public record SpectrumSummary(double[] eigenvalues, Map<String, Map<Family, Double>> overlaps,
                              Map<String, Double> gaps, List<Cliff> cliffs, double effectiveRank,
                              double residual, double drift, SolveInfo solve) {

    public SpectrumSummary(double[] eigenvalues, Map<String, Map<Family, Double>> overlaps, Map<String, Double> gaps,
                           List<Cliff> cliffs, double effectiveRank, double residual) {
        this(eigenvalues, overlaps, gaps, cliffs, effectiveRank, residual, Double.NaN, null);
    }

    public SpectrumSummary withDrift(double d) {
        return new SpectrumSummary(eigenvalues, overlaps, gaps, cliffs, effectiveRank, residual, d, solve);
    }

    public SpectrumSummary withSolve(SolveInfo s) {
        return new SpectrumSummary(eigenvalues, overlaps, gaps, cliffs, effectiveRank, residual, drift, s);
    }

    /** This summary as the record the spectra topic carries (without the TMS and family-profile fields). */
    public KernelSpectrum toRecord() {
        Map<String, Map<String, Double>> ov = new java.util.LinkedHashMap<>();
        overlaps.forEach((cliff, fam) -> {
            Map<String, Double> f = new java.util.LinkedHashMap<>();
            fam.forEach((family, value) -> f.put(family.label(), value));
            ov.put(cliff, f);
        });
        List<KernelSpectrum.Cliff> cl = cliffs.stream().map(c -> new KernelSpectrum.Cliff(c.position(), c.ratio()))
                .toList();
        KernelSpectrum.Solve sv = solve == null ? null : new KernelSpectrum.Solve(solve.start(), solve.fellBack(),
                solve.iterations(), solve.residual(), solve.precision().id());
        return new KernelSpectrum(eigenvalues.clone(), ov, new java.util.LinkedHashMap<>(gaps), cl, effectiveRank,
                residual, drift, sv, null, null, null, null);
    }
}

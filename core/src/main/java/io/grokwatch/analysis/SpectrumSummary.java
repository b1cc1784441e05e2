package io.grokwatch.analysis;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.features.Cliff;
import io.grokwatch.features.Family;

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

    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        var ev = o.putArray("eigenvalues");
        for (double v : eigenvalues) {
            ev.add(v);
        }
        if (!overlaps.isEmpty()) {
            ObjectNode ov = o.putObject("overlaps");
            overlaps.forEach((cliff, fam) -> {
                ObjectNode f = ov.putObject(cliff);
                fam.forEach((family, value) -> f.put(family.label(), value));
            });
        }
        if (!gaps.isEmpty()) {
            ObjectNode g = o.putObject("gaps");
            gaps.forEach(g::put);
        }
        var cl = o.putArray("cliffs");
        for (Cliff c : cliffs) {
            cl.addObject().put("position", c.position()).put("ratio", c.ratio());
        }
        o.put("effectiveRank", effectiveRank);
        o.put("residual", residual);
        if (Double.isFinite(drift)) {
            o.put("drift", drift);
        }
        if (solve != null) {
            o.putObject("solve").put("start", solve.start()).put("fellBack", solve.fellBack())
                    .put("iterations", solve.iterations())
                    .put("residual", solve.residual()).put("precision", solve.precision().id());
        }
        return o;
    }
}

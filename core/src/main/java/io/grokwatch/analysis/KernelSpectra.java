package io.grokwatch.analysis;

import io.grokwatch.entk.DualGram;
import io.grokwatch.entk.Entk;
import io.grokwatch.entk.KernelKind;
import io.grokwatch.entk.KernelSource;
import io.grokwatch.features.Cliffs;
import io.grokwatch.features.EffectiveRank;
import io.grokwatch.features.Family;
import io.grokwatch.features.FamilyProfile;
import io.grokwatch.features.FourierFamilies;
import io.grokwatch.features.ModularAdditionCliffs;
import io.grokwatch.features.SubspaceOverlap;
import io.grokwatch.features.TmsHeatmap;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.model.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One-shot analysis of any checkpoint on any probe set: the chosen kernel kind for the whole model and
 * for every parameter group, with cliff overlaps when the probes are the modular-addition grid and a
 * feature heatmap when a flattened kernel's outputs are the model's own inputs (an autoencoder, as in TMS).
 */
public final class KernelSpectra {
    private KernelSpectra() {
    }

    /**
     * @param kind        kernel kind
     * @param topK        eigenvalues per kernel
     * @param outputScale per-output weights {@code s_c} for flattened kernels, or null
     * @param cls         the class of a per-class kernel (block (cls, cls))
     * @param precision   arithmetic of the dense decompositions
     * @param familyBand  with Fourier families on a class-mean or per-class kernel: the band width of a
     *                    {@link FamilyProfile} over the top-k eigenvectors; 0 for none
     */
    public record Options(KernelKind kind, int topK, double[] outputScale, int cls, Precision precision,
                          int familyBand) {
        public Options {
            if (topK < 1) {
                throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
            }
            java.util.Objects.requireNonNull(precision, "precision");
            if (familyBand < 0) {
                throw new IllegalArgumentException("family band must be >= 0, got " + familyBand);
            }
        }

        public Options(KernelKind kind, int topK, double[] outputScale, int cls, Precision precision) {
            this(kind, topK, outputScale, cls, precision, 0);
        }

        public Options(KernelKind kind, int topK, double[] outputScale, int cls) {
            this(kind, topK, outputScale, cls, Precision.FLOAT64);
        }

        /** These options, also profiling the families over the top-k eigenvectors in bands of this width. */
        public Options withFamilyBand(int band) {
            return new Options(kind, topK, outputScale, cls, precision, band);
        }
    }

    /**
     * One kernel's spectrum plus, for flattened autoencoder kernels, the feature heatmap.
     *
     * @param basis what the next checkpoint's solve of this kernel can start from (the dual's eigenvectors for a
     *              flattened kernel solved through its P x P dual), or empty
     */
    public record KernelResult(SpectrumSummary spectrum, Optional<TmsHeatmap> heatmap, Optional<Matrix> basis,
                               Optional<FamilyProfile> familyProfile, double seconds) {
    }

    /** Results keyed by {@link Entk#ALL} first, then each group in model order. */
    public static Map<String, KernelResult> analyze(Network net, Matrix probes, Optional<FourierFamilies> families,
                                                    Options o) {
        return analyze(net, probes, families, o, Map.of(), true);
    }

    /**
     * As {@link #analyze(Network, Matrix, Optional, Options)}, warm-starting iterative solves from the previous
     * checkpoint's {@link KernelResult#basis()} of the same kernel.
     *
     * @param layers also analyse each parameter group's kernel (otherwise only {@link Entk#ALL})
     */
    public static Map<String, KernelResult> analyze(Network net, Matrix probes, Optional<FourierFamilies> families,
                                                    Options o, Map<String, Matrix> previous, boolean layers) {
        return analyze(new Entk(net, probes), probes, net.inputs() == net.outputs(), families, o, previous, layers);
    }

    /**
     * As {@link #analyze(Network, Matrix, Optional, Options, Map, boolean)} for any kernel source.
     *
     * @param autoencoder the model's outputs are its inputs (TMS): flattened kernels get the feature heatmap
     */
    public static Map<String, KernelResult> analyze(KernelSource entk, Matrix probes, boolean autoencoder,
                                                    Optional<FourierFamilies> families, Options o,
                                                    Map<String, Matrix> previous, boolean layers) {
        List<String> names = new ArrayList<>();
        names.add(Entk.ALL);
        if (layers) {
            names.addAll(entk.groups());
        }
        Optional<ModularAdditionCliffs> cliffs = families.map(f -> Cliffs.modularAddition(f.p()));
        boolean overlaps = cliffs.isPresent() && o.kind() != KernelKind.FLATTENED;
        boolean heatmap = o.kind() == KernelKind.FLATTENED && autoencoder;
        boolean profile = o.familyBand() > 0 && families.isPresent() && o.kind() != KernelKind.FLATTENED;
        Map<String, KernelResult> out = new LinkedHashMap<>();
        for (String g : names) {
            long t0 = System.nanoTime();
            int values = o.topK();
            int vectors = 0;
            if (overlaps) {
                values = Math.max(values, cliffs.get().second().last() + 2);
                vectors = cliffs.get().second().last() + 1;
            }
            if (heatmap || profile) {
                vectors = Math.max(vectors, o.topK());
            }
            Optional<DualGram> dual = o.kind() == KernelKind.FLATTENED
                    ? entk.flattenedDual(g, o.outputScale()) : Optional.empty();
            Optional<Matrix> basis = Optional.empty();
            SolveInfo solve = null;
            Eigenpairs e;
            long flattenedSide = (long) entk.samples() * entk.classes();
            if (dual.isPresent()) {
                // Through the P x P dual, by the analyzer's solver: block Lanczos from the previous checkpoint's
                // dual eigenvectors when the dual is large (matrix-free above the dense limit), one dense
                // decomposition when it is small.
                int side = dual.get().size();
                int dv = Math.min(values, side);
                int dk = Math.min(vectors, side);
                SpectrumSolver.Solve d = side <= Entk.MAX_DENSE_SIDE
                        ? SpectrumSolver.top(dual.get().gram(), dv, dk, previous.get(g), o.precision())
                        : SpectrumSolver.iterative(dual.get().operator(), dv, dk, previous.get(g), o.precision());
                e = dual.get().lift(d.pairs(), values);
                basis = Optional.of(d.basis());
                solve = d.info();
            } else if (o.kind() == KernelKind.FLATTENED && flattenedSide > Entk.MAX_DENSE_SIDE) {
                // Both sides above the dense limit: the kernel itself, matrix-free.
                SpectrumSolver.Solve d = SpectrumSolver.iterative(entk.flattenedOperator(g, o.outputScale()),
                        (int) Math.min(values, flattenedSide), (int) Math.min(vectors, flattenedSide), previous.get(g),
                        o.precision());
                e = d.pairs();
                basis = Optional.of(d.basis());
                solve = d.info();
            } else {
                e = switch (o.kind()) {
                    case CLASS_MEAN -> entk.classMeanTop(g, values, vectors, o.precision());
                    case PER_CLASS -> SymmetricEigen.top(entk.perClass(g, o.cls(), o.cls()), values, vectors,
                            o.precision());
                    case FLATTENED -> entk.flattenedTop(g, o.outputScale(), values, vectors, o.precision());
                };
            }
            Map<String, Map<Family, Double>> ov = new LinkedHashMap<>();
            Map<String, Double> gaps = new LinkedHashMap<>();
            if (overlaps && e.vectorCount() > cliffs.get().second().last()) {
                ov.put("firstCliff", SubspaceOverlap.overlapsOfOrthonormal(cliffs.get().first().columnsOf(e.vectors()), families.get()));
                ov.put("secondCliff", SubspaceOverlap.overlapsOfOrthonormal(cliffs.get().second().columnsOf(e.vectors()), families.get()));
                gaps.put("endOfFirstCliff", cliffs.get().endOfFirstCliffGap(e.values()));
                gaps.put("endOfSecondCliff", cliffs.get().endOfSecondCliffGap(e.values()));
            }
            double[] top = Arrays.copyOf(e.values(), Math.min(o.topK(), e.values().length));
            SpectrumSummary s = new SpectrumSummary(top, ov, gaps,
                    Cliffs.detect(top, ModularAdditionAnalyzer.CLIFF_RATIO, ModularAdditionAnalyzer.MAX_CLIFFS),
                    EffectiveRank.of(top), e.residual());
            if (solve != null) {
                s = s.withSolve(solve);
            }
            Optional<TmsHeatmap> hm = heatmap && e.vectorCount() > 0
                    ? Optional.of(TmsHeatmap.compute(probes, e.vectors())) : Optional.empty();
            Optional<FamilyProfile> fp = profile && e.vectorCount() > 0
                    ? Optional.of(FamilyProfile.of(e.vectors().columns(0, Math.min(o.topK(), e.vectorCount())),
                    families.get(), o.familyBand())) : Optional.empty();
            out.put(g, new KernelResult(s, hm, basis, fp, (System.nanoTime() - t0) / 1e9));
        }
        return out;
    }
}

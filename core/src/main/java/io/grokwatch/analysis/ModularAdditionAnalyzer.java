package io.grokwatch.analysis;

import io.grokwatch.entk.Entk;
import io.grokwatch.features.Cliffs;
import io.grokwatch.features.CliffRotation;
import io.grokwatch.features.EffectiveRank;
import io.grokwatch.features.EigenspaceDrift;
import io.grokwatch.features.Family;
import io.grokwatch.features.FourierFamilies;
import io.grokwatch.features.ModularAdditionCliffs;
import io.grokwatch.features.RotatedCliff;
import io.grokwatch.features.SubspaceOverlap;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.linalg.TwoWay;
import io.grokwatch.model.Network;
import io.grokwatch.probe.ModularAddition;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The per-checkpoint analysis of a modular-addition model on all p^2 probes: class-mean eNTK of the whole
 * model and of each layer, their top-k spectra, and the alignment of the two cliffs with the Fourier
 * families n, m, sum and diff. Reuses the probe set and families across checkpoints.
 */
public final class ModularAdditionAnalyzer implements AutoCloseable {
    /** Cliff detection: a drop of at least this ratio between consecutive eigenvalues. */
    public static final double CLIFF_RATIO = 1.5;
    /** At most this many detected cliffs are reported per spectrum. */
    public static final int MAX_CLIFFS = 8;

    private final int p;
    private final int topK;
    private final boolean layerSpectra;
    private final Matrix probes;
    private final FourierFamilies families;
    private final ModularAdditionCliffs cliffs;
    private final java.util.concurrent.ExecutorService pool;
    private final Precision precision;

    /**
     * @param p            modulus
     * @param topK         eigenvalues reported per spectrum
     * @param layerSpectra also decompose each layer's kernel (costs one more eigen-solve per layer)
     */
    public ModularAdditionAnalyzer(int p, int topK, boolean layerSpectra) {
        this(p, topK, layerSpectra, Runtime.getRuntime().availableProcessors());
    }

    /**
     * @param threads kernels and eigen-solves of one checkpoint run on this many threads (the solves are
     *                independent; coarse-grained parallelism beats threading inside each LAPACK call)
     */
    public ModularAdditionAnalyzer(int p, int topK, boolean layerSpectra, int threads) {
        this(p, topK, layerSpectra, threads, Precision.FLOAT64);
    }

    /** @param precision arithmetic of the dense decompositions and of iterative solves' products (see {@link Precision}) */
    public ModularAdditionAnalyzer(int p, int topK, boolean layerSpectra, int threads, Precision precision) {
        this(p, topK, layerSpectra, AnalysisThreads.shared(threads), precision);
    }

    /**
     * An analyzer that runs every step of a checkpoint on the thread that calls {@link #analyze}, for callers that
     * analyse several checkpoints at once on their own threads: analyzers built with {@code threads = 1} share one
     * process-wide thread, so concurrent checkpoints would queue for it.
     */
    public static ModularAdditionAnalyzer onCallerThread(int p, int topK, boolean layerSpectra, Precision precision) {
        return new ModularAdditionAnalyzer(p, topK, layerSpectra, CALLER_RUNS, precision);
    }

    private static final java.util.concurrent.ExecutorService CALLER_RUNS = new CallerRuns();

    private ModularAdditionAnalyzer(int p, int topK, boolean layerSpectra, java.util.concurrent.ExecutorService pool,
                                    Precision precision) {
        if (topK < 1) {
            throw new IllegalArgumentException("top-k must be >= 1, got " + topK);
        }
        this.p = p;
        this.topK = Math.min(topK, p * p);
        this.layerSpectra = layerSpectra;
        this.probes = ModularAddition.inputs(p);
        this.families = FourierFamilies.of(p);
        this.cliffs = Cliffs.modularAddition(p);
        this.pool = pool;
        this.precision = java.util.Objects.requireNonNull(precision, "precision");
    }

    /** Releases nothing today (the analysis threads are shared, see {@link AnalysisThreads}); kept for callers. */
    @Override
    public void close() {
    }

    public int p() {
        return p;
    }

    public Matrix probes() {
        return probes;
    }

    public FourierFamilies families() {
        return families;
    }

    /**
     * Result of one checkpoint; vectors of the whole-model cliffs are kept for rotation, and each kernel's basis
     * ({@link Entk#ALL} and every group) for the next checkpoint's warm start and drift.
     */
    public record Result(SpectrumSummary all, Map<String, SpectrumSummary> layers, Matrix firstCliffVectors,
                         Matrix secondCliffVectors, Map<String, Matrix> bases, double kernelSeconds,
                         double eigenSeconds, double layerSeconds) {
    }

    /** One checkpoint with no previous one (cold solves, no drift). */
    public Result analyze(Network net) {
        return analyze(net, Map.of());
    }

    /**
     * One checkpoint.
     *
     * @param previous the previous checkpoint's {@link Result#bases()} (possibly rounded, e.g. restored from a
     *                 store): warm starts for iterative solves, and the reference for each kernel's drift
     */
    public Result analyze(Network net, Map<String, Matrix> previous) {
        long t0 = System.nanoTime();
        Entk entk = new Entk(net, probes);
        List<String> groups = entk.groups();
        int needValues = Math.max(topK, Math.min(probes.rows(), cliffs.second().last() + 2));
        int needVectors = Math.min(probes.rows(), cliffs.second().last() + 1);
        // Above the dense limit the kernels are never formed: products go through the layer structure.
        Optional<SymmetricOperator> unformed = probes.rows() > SpectrumSolver.DENSE_MAX_SIDE
                ? entk.classMeanOperator(Entk.ALL) : Optional.empty();
        // Without layer spectra no layer kernel is needed on its own: the whole-model kernel is formed from its terms
        // straight into the native memory its dense solve reduces in place.
        Optional<SymmetricOperator> terms = unformed.isEmpty() && !layerSpectra && precision == Precision.FLOAT64
                ? entk.classMeanOperator(Entk.ALL) : Optional.empty();
        java.util.concurrent.Future<SpectrumSolver.Solve> wholeTask;
        // Each layer task also summarises its spectrum (overlaps, drift), beside the whole-model solve.
        Map<String, java.util.concurrent.Future<LayerOutcome>> layerTasks = new LinkedHashMap<>();
        long t1;
        if (unformed.isPresent()) {
            SymmetricOperator whole = unformed.get();
            t1 = System.nanoTime();
            wholeTask = pool.submit(() -> SpectrumSolver.iterative(whole, needValues, needVectors,
                    previous.get(Entk.ALL), precision));
            if (layerSpectra) {
                // An unformed layer kernel is solved down to top-k and the end of the first cliff only: past the
                // first cliff the layer kernel that carries it has a flat bulk (relative gaps ~1e-4 at p = 113), where
                // each further pair costs more than the whole-model solve, and the second cliff's modes live in the
                // read-out, whose narrow factor gives its full spectrum exactly anyway.
                int layerValues = Math.min(probes.rows(), Math.max(topK, cliffs.first().last() + 2));
                int layerVectors = Math.min(needVectors, layerValues - 1);
                // The eigenvalue after the first cliff only enters its gap ratio and sits in that flat bulk.
                int certified = Math.min(layerValues, Math.max(layerVectors, topK));
                for (String g : groups) {
                    // Each layer task holds a core beside the whole-model solve, which then splits its steps only
                    // onto cores no layer task holds (see TwoWay).
                    layerTasks.put(g, pool.submit(() -> TwoWay.occupyingACore(() -> outcome(
                            lowRank(entk, g, needValues, needVectors).orElseGet(() -> SpectrumSolver.iterative(
                                    entk.classMeanOperator(g).orElseThrow(), layerValues, layerVectors, certified,
                                    previous.get(g), precision)), previous.get(g)))));
                }
            }
        } else if (terms.isPresent()) {
            SymmetricOperator whole = terms.get();
            t1 = System.nanoTime();
            wholeTask = pool.submit(() -> SpectrumSolver.formed(whole, needValues, needVectors));
        } else {
            Map<String, java.util.concurrent.Future<Matrix>> kernelTasks = new LinkedHashMap<>();
            for (String g : groups) {
                kernelTasks.put(g, pool.submit(() -> entk.classMean(g)));
            }
            Map<String, Matrix> layerKernels = new LinkedHashMap<>();
            Matrix whole = null;
            for (String g : groups) {
                Matrix k = join(kernelTasks.get(g));
                if (layerSpectra) {
                    layerKernels.put(g, k);
                    whole = whole == null ? k.copy() : whole.addInPlace(1.0, k);
                } else {
                    // The layer kernels are not needed past the sum: accumulate into the first one.
                    whole = whole == null ? k : whole.addInPlace(1.0, k);
                }
            }
            t1 = System.nanoTime();
            Matrix wholeKernel = whole;
            wholeTask = pool.submit(() -> SpectrumSolver.top(wholeKernel, needValues, needVectors,
                    previous.get(Entk.ALL), precision));
            if (layerSpectra) {
                for (String g : groups) {
                    Matrix k = layerKernels.get(g);
                    layerTasks.put(g, pool.submit(() -> outcome(lowRank(entk, g, needValues, needVectors)
                            .orElseGet(() -> SpectrumSolver.top(k, needValues, needVectors, previous.get(g),
                                    precision)), previous.get(g))));
                }
            }
        }
        SpectrumSolver.Solve wholeSolve = join(wholeTask);
        Eigenpairs eig = wholeSolve.pairs();
        SpectrumSummary all = summarise(wholeSolve, previous.get(Entk.ALL));
        Matrix v = eig.vectors();
        Matrix first = v.cols() > cliffs.first().last() ? cliffs.first().columnsOf(v) : null;
        Matrix second = v.cols() > cliffs.second().last() ? cliffs.second().columnsOf(v) : null;
        long t2 = System.nanoTime();
        Map<String, SpectrumSummary> layers = new LinkedHashMap<>();
        Map<String, Matrix> bases = new LinkedHashMap<>();
        bases.put(Entk.ALL, wholeSolve.basis());
        layerTasks.forEach((g, f) -> {
            LayerOutcome o = join(f);
            layers.put(g, o.summary());
            bases.put(g, o.solve().basis());
        });
        long t3 = System.nanoTime();
        return new Result(all, layers, first, second, bases, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    }

    private record LayerOutcome(SpectrumSolver.Solve solve, SpectrumSummary summary) {
    }

    private LayerOutcome outcome(SpectrumSolver.Solve solve, Matrix previousBasis) {
        return new LayerOutcome(solve, summarise(solve, previousBasis));
    }

    /** A group whose kernel has a narrow factor (the read-out) is solved exactly through its small dual. */
    private Optional<SpectrumSolver.Solve> lowRank(Entk entk, String g, int values, int vectors) {
        if (entk.classMeanFactor(g).filter(f -> f.cols() < probes.rows()).isEmpty()) {
            return Optional.empty();
        }
        long s0 = System.nanoTime();
        Eigenpairs e = entk.classMeanTop(g, values, vectors, precision);
        return Optional.of(new SpectrumSolver.Solve(e, e.vectors(), new SolveInfo("low-rank", false, 0,
                e.residual(), (System.nanoTime() - s0) / 1e9, precision)));
    }

    private static <T> T join(java.util.concurrent.Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("analysis interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private SpectrumSummary summarise(SpectrumSolver.Solve solve, Matrix previousBasis) {
        Eigenpairs eig = solve.pairs();
        // The overlaps are level-set sums (milliseconds); the drift is one large GEMM (~5 GFlop at p = 113), which
        // splits itself over both cores when one is free.
        double drift = previousBasis != null && previousBasis.rows() == eig.vectors().rows()
                ? EigenspaceDrift.between(previousBasis, eig.vectors()) : Double.NaN;
        return summarise(eig).withDrift(drift).withSolve(solve.info());
    }

    private SpectrumSummary summarise(Eigenpairs eig) {
        double[] values = eig.values();
        Map<String, Map<Family, Double>> overlaps = new LinkedHashMap<>();
        Matrix v = eig.vectors();
        if (v.cols() > cliffs.first().last()) {
            overlaps.put("firstCliff", SubspaceOverlap.overlapsOfOrthonormal(cliffs.first().columnsOf(v), families));
        }
        if (v.cols() > cliffs.second().last()) {
            overlaps.put("secondCliff", SubspaceOverlap.overlapsOfOrthonormal(cliffs.second().columnsOf(v), families));
        }
        Map<String, Double> gaps = new LinkedHashMap<>();
        if (values.length > cliffs.first().last() + 1) {
            gaps.put("endOfFirstCliff", cliffs.endOfFirstCliffGap(values));
        }
        if (values.length > cliffs.second().last() + 1) {
            gaps.put("endOfSecondCliff", cliffs.endOfSecondCliffGap(values));
        }
        double[] top = Arrays.copyOf(values, Math.min(topK, values.length));
        return new SpectrumSummary(top, overlaps, gaps, Cliffs.detect(top, CLIFF_RATIO, MAX_CLIFFS),
                EffectiveRank.of(top), eig.residual());
    }

    /** The two-stage graph-smoothness rotation of both cliffs of a result (first: n/m, second: sum/diff). */
    public Map<String, RotatedCliff> rotate(Result r) {
        Map<String, RotatedCliff> out = new LinkedHashMap<>();
        Optional.ofNullable(r.firstCliffVectors())
                .ifPresent(q -> out.put("firstCliff", CliffRotation.firstCliff(families).rotate(q)));
        Optional.ofNullable(r.secondCliffVectors())
                .ifPresent(q -> out.put("secondCliff", CliffRotation.secondCliff(families).rotate(q)));
        return out;
    }

    /** Runs each task inside {@code submit}: the futures are complete when handed back. Never shut down. */
    private static final class CallerRuns extends java.util.concurrent.AbstractExecutorService {
        @Override
        public void execute(Runnable command) {
            command.run();
        }

        @Override
        public void shutdown() {
        }

        @Override
        public List<Runnable> shutdownNow() {
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit) {
            return false;
        }
    }
}

package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.ModularAdditionAnalyzer;
import io.grokwatch.entk.DenseJacobian;
import io.grokwatch.entk.Entk;
import io.grokwatch.features.Cliffs;
import io.grokwatch.features.FourierFamilies;
import io.grokwatch.features.ModularAdditionCliffs;
import io.grokwatch.features.SubspaceOverlap;
import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.TmsTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code grokwatch bench entk}: per-checkpoint eNTK analysis against the naive method in the same process.
 * The naive method builds explicit per-class Jacobian blocks (one back-propagation per probe and class),
 * accumulates them into the kernels and runs a full dense eigendecomposition.
 */
@Command(name = "entk", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the per-checkpoint eNTK analysis against a naive baseline in the same process: "
                + "modular addition p=29 (both layer kernels + whole-model top-200 + cliff overlaps) and the TMS "
                + "m=40 flattened kernel (top 80). Prints medians and ratios.",
                "Example: grokwatch bench entk --reps 10 --baseline-reps 1"})
final class BenchEntkCommand implements Callable<Integer> {
    @Option(names = "--p", description = "Modulus of the modular-addition case. Default: ${DEFAULT-VALUE}.")
    int p = 29;
    @Option(names = "--width", description = "Hidden width. Default: ${DEFAULT-VALUE}.")
    int width = 512;
    @Option(names = "--train-epochs", description = "Epochs trained before timing, for realistic weights. Default: ${DEFAULT-VALUE}.")
    int trainEpochs = 100;
    @Option(names = "--tms-hidden", description = "Hidden dimension m of the TMS case. Default: ${DEFAULT-VALUE}.")
    int tmsHidden = 40;
    @Option(names = "--tms-epochs", description = "Epochs the TMS model is trained before timing. Default: ${DEFAULT-VALUE}.")
    int tmsEpochs = 1000;
    @Option(names = "--reps", description = "Timed repetitions of grokwatch's analysis. Default: ${DEFAULT-VALUE}.")
    int reps = 20;
    @Option(names = "--baseline-reps", description = "Timed repetitions of the naive baseline. Default: ${DEFAULT-VALUE}.")
    int baselineReps = 1;
    @Option(names = "--warmup", description = "Untimed warm-up runs of grokwatch's analysis (the slow baseline "
            + "runs none). Default: ${DEFAULT-VALUE}.")
    int warmup = 10;
    @Option(names = "--skip", split = ",", description = "Cases to skip: modular-addition, tms.")
    List<String> skip = new ArrayList<>();
    @Option(names = "--out", description = "Optional JSON file with every timing.")
    Path out;

    record Case(String name, String what, double[] ours, double[] baseline, double check) {
    }

    @Override
    public Integer call() throws Exception {
        if (reps < 1 || baselineReps < 0 || warmup < 0) {
            throw new IllegalArgumentException("--reps must be >= 1, --baseline-reps and --warmup >= 0");
        }
        List<Case> cases = new ArrayList<>();
        if (!skip.contains("modular-addition")) {
            cases.addAll(modularAddition());
        }
        if (!skip.contains("tms")) {
            cases.add(tms());
        }
        Table t = new Table("case", "grokwatch median ms", "baseline median ms", "speed-up", "max rel. eig diff");
        ObjectNode root = JsonFiles.object();
        io.grokwatch.linalg.BlasKernels kernels = io.grokwatch.linalg.BlasKernels.current();
        System.out.println("machine: " + kernels.describe());
        root.put("machine", kernels.describe());
        for (Case c : cases) {
            double ours = ModularAdditionExperiment.median(c.ours) * 1e3;
            double base = c.baseline.length == 0 ? Double.NaN : ModularAdditionExperiment.median(c.baseline) * 1e3;
            t.row(c.name, ours, base, base / ours, c.check);
            ObjectNode o = root.putObject(c.name);
            o.put("what", c.what).put("medianMs", ours).put("baselineMedianMs", base).put("speedup", base / ours)
                    .put("maxRelativeEigenvalueDifference", c.check);
            JsonFiles.array(o, "secondsEach", c.ours);
            JsonFiles.array(o, "baselineSecondsEach", c.baseline);
        }
        System.out.print(t.render());
        for (Case c : cases) {
            System.out.println(c.name + ": " + c.what);
        }
        if (out != null) {
            JsonFiles.write(out, root);
        }
        return 0;
    }

    private List<Case> modularAddition() {
        ModularAdditionTask task = ModularAdditionTask.create(new ModularAdditionTask.Config(p, width, 0.7, 0.05, 0.01,
                trainEpochs, 0));
        Parameters[] params = new Parameters[1];
        task.run(Math.max(1, trainEpochs), (e, s, pr, m) -> {
            params[0] = pr;
            return true;
        });
        Network net = new Network(task.description(), params[0]);
        ModularAdditionAnalyzer.Result[] last = new ModularAdditionAnalyzer.Result[1];
        double[] ours;
        double[] withLayers;
        double[] single;
        ModularAdditionAnalyzer.Result[] full64 = new ModularAdditionAnalyzer.Result[1];
        ModularAdditionAnalyzer.Result[] full32 = new ModularAdditionAnalyzer.Result[1];
        int threads = Runtime.getRuntime().availableProcessors();
        try (ModularAdditionAnalyzer core = new ModularAdditionAnalyzer(p, 200, false);
             ModularAdditionAnalyzer full = new ModularAdditionAnalyzer(p, 200, true);
             ModularAdditionAnalyzer full32bit = new ModularAdditionAnalyzer(p, 200, true, threads,
                     io.grokwatch.linalg.Precision.FLOAT32)) {
            ours = time("modular-addition p=" + p, () -> last[0] = core.analyze(net), reps, warmup);
            withLayers = time("modular-addition p=" + p + " + layer spectra", () -> full64[0] = full.analyze(net),
                    reps, warmup);
            single = time("modular-addition p=" + p + " + layer spectra, float32",
                    () -> full32[0] = full32bit.analyze(net), reps, warmup);
        }
        double singleError = 0;
        for (String layer : full64[0].layers().keySet()) {
            singleError = Math.max(singleError, maxRelativeDifference(full64[0].layers().get(layer).eigenvalues(),
                    full32[0].layers().get(layer).eigenvalues(), 200));
        }
        singleError = Math.max(singleError, maxRelativeDifference(full64[0].all().eigenvalues(),
                full32[0].all().eigenvalues(), 200));
        double[][] baselineValues = new double[1][];
        double[] base;
        try (ModularAdditionAnalyzer forProbes = new ModularAdditionAnalyzer(p, 200, false)) {
            base = time("naive baseline p=" + p, () -> baselineValues[0] = naiveModularAddition(net, forProbes),
                    baselineReps, 0);
        }
        double check = baselineValues[0] == null ? Double.NaN
                : maxRelativeDifference(baselineValues[0], last[0].all().eigenvalues(), 50);
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("modular-addition p=" + p, "per-checkpoint analysis: both layer kernels, whole-model "
                + "top-200 eigenpairs, cliff overlaps with n/m/sum/diff", ours, base, check));
        cases.add(new Case("modular-addition p=" + p + " + layer spectra", "the same plus each layer kernel's own "
                + "top-200 spectrum and cliff overlaps", withLayers, base, check));
        // Baseline column: the float64 analysis, so the ratio is float32's speed-up; the error column compares the
        // two (top 200 of the whole model and each layer), not the naive baseline.
        cases.add(new Case("modular-addition p=" + p + " + layer spectra, float32", "the same with float32 "
                + "reductions; baseline = the float64 run above, error = max relative difference of the top-200 "
                + "eigenvalues (whole model and each layer) from float64", single, withLayers, singleError));
        return cases;
    }

    /** Explicit per-class Jacobian blocks into every kernel, full dense eigendecompositions, same overlaps. */
    private static double[] naiveModularAddition(Network net, ModularAdditionAnalyzer analyzer) {
        Matrix x = analyzer.probes();
        List<String> names = net.description().parameterNames();
        Map<String, Matrix> layer = new java.util.concurrent.ConcurrentHashMap<>();
        int n = x.rows();
        int c = net.outputs();
        // Classes in parallel on every core, as grokwatch's own analysis uses them.
        java.util.stream.IntStream.range(0, c).parallel().forEach(cls -> {
            Matrix jc = classJacobian(net, x, names, cls);
            int off = 0;
            for (String name : names) {
                Matrix w = net.parameters().get(name);
                int size = w.rows() * w.cols();
                Matrix block = jc.columns(off, off + size);
                off += size;
                String g = ModelDescription.groupOf(name);
                Matrix k = Blas.gram(block);
                layer.merge(g, k, (a, b) -> a.copy().addInPlace(1.0, b));
            }
        });
        Matrix all = new Matrix(n, n);
        for (Matrix k : new ArrayList<>(layer.values())) {
            k.scaleInPlace(1.0 / c);
            all.addInPlace(1.0, k);
        }
        FourierFamilies fam = analyzer.families();
        ModularAdditionCliffs cliffs = Cliffs.modularAddition(analyzer.p());
        List<Matrix> kernels = new ArrayList<>(layer.values());
        kernels.add(0, all);
        List<double[]> values = kernels.parallelStream().map(k -> {
            Eigenpairs e = SymmetricEigen.full(k);
            SubspaceOverlap.overlaps(cliffs.first().columnsOf(e.vectors()), fam);
            SubspaceOverlap.overlaps(cliffs.second().columnsOf(e.vectors()), fam);
            return e.values();
        }).toList();
        return values.get(0);
    }

    /** {@code J_c}: N x P, one back-propagation per probe. */
    private static Matrix classJacobian(Network net, Matrix x, List<String> names, int cls) {
        return new DenseJacobianOfOneClass(net, x, names, cls).matrix;
    }

    private static final class DenseJacobianOfOneClass {
        final Matrix matrix;

        DenseJacobianOfOneClass(Network net, Matrix x, List<String> names, int cls) {
            long total = 0;
            for (String n : names) {
                total += net.parameters().get(n).data().length;
            }
            matrix = new Matrix(x.rows(), Math.toIntExact(total));
            Matrix seed = new Matrix(1, net.outputs());
            seed.set(0, cls, 1.0);
            for (int i = 0; i < x.rows(); i++) {
                Parameters g = net.gradient(net.forward(x.rowRange(i, i + 1)), seed);
                int off = i * matrix.cols();
                for (String n : names) {
                    double[] gd = g.get(n).data();
                    System.arraycopy(gd, 0, matrix.data(), off, gd.length);
                    off += gd.length;
                }
            }
        }
    }

    private Case tms() {
        TmsTask task = TmsTask.create(new TmsTask.Config(50, tmsHidden, 0.9, 0.8, 500, tmsEpochs, 1e-3, 0));
        Parameters[] params = new Parameters[1];
        task.run(Math.max(1, tmsEpochs), (e, s, pr, m) -> {
            params[0] = pr;
            return true;
        });
        Network net = new Network(task.description(), params[0]);
        Matrix x = task.dataset();
        double[] scale = Entk.importanceScale(task.importances(), 0.33);
        Eigenpairs[] last = new Eigenpairs[1];
        double[] ours = time("tms m=" + tmsHidden, () -> last[0] = new Entk(net, x).flattenedTop(Entk.ALL, scale, 80, 80),
                reps, warmup);
        double[][] baselineValues = new double[1][];
        double[] base = time("naive baseline tms", () -> {
            DenseJacobian j = new DenseJacobian(net, x, net.description().parameterNames());
            Matrix sj = j.flattenedJacobian(scale);
            Matrix g = Blas.multiply(sj, true, sj, false);
            Eigenpairs e = SymmetricEigen.full(g);
            Matrix v = e.vectors().columns(0, 80);
            sj.times(v);
            baselineValues[0] = e.values();
            return e;
        }, baselineReps, 0);
        double check = baselineValues[0] == null ? Double.NaN
                : maxRelativeDifference(baselineValues[0], last[0].values(), 50);
        return new Case("tms m=" + tmsHidden + " flattened", "importance-rescaled flattened kernel (tau 0.33), "
                + "top-80 eigenpairs mapped to NC space", ours, base, check);
    }

    private double[] time(String label, Supplier<?> work, int n, int warm) {
        if (n == 0) {
            return new double[0];
        }
        double[] t = new double[n];
        try (ProgressBar bar = new ProgressBar(label, warm + n)) {
            for (int i = 0; i < warm + n; i++) {
                long t0 = System.nanoTime();
                work.get();
                if (i >= warm) {
                    t[i - warm] = (System.nanoTime() - t0) / 1e9;
                }
                bar.update(i + 1, i < warm ? "warm-up" : "");
            }
        }
        return t;
    }

    private static double maxRelativeDifference(double[] a, double[] b, int k) {
        double m = 0;
        // Numerically zero eigenvalues (past a kernel's rank) have no relative accuracy to compare.
        double floor = a.length == 0 ? 0 : 1e-8 * Math.abs(a[0]);
        for (int i = 0; i < Math.min(k, Math.min(a.length, b.length)); i++) {
            if (Math.abs(a[i]) > floor) {
                m = Math.max(m, Math.abs(a[i] - b[i]) / Math.abs(a[i]));
            }
        }
        return m;
    }
}

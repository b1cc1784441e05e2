package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.KernelSpectra;
import io.grokwatch.analysis.ModularAdditionAnalyzer;
import io.grokwatch.analysis.SolveInfo;
import io.grokwatch.analysis.SpectrumSummary;
import io.grokwatch.analysis.SpectrumSolver;
import io.grokwatch.entk.Entk;
import io.grokwatch.features.Cliffs;
import io.grokwatch.linalg.BlockLanczos;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.linalg.TopEigenSolver;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.RunDescriptors;
import io.grokwatch.trainer.TmsTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code grokwatch bench solver}: kernels of consecutive checkpoints of real runs solved three ways in one
 * process: full dense (LAPACK tridiagonalisation, where the formed kernel is affordable), the analyzer's iterative
 * solver (block Lanczos) cold (random start) and warm-started from the previous checkpoint's basis, and optionally
 * LOBPCG both ways, at the same tolerance, so the ratio
 * compares solves of the same accuracy. Modular addition uses the whole-model class-mean kernel applied through
 * the layer structure (never formed); each checkpoint also gets the full per-checkpoint analysis (both layer
 * kernels, whole model, cliff overlaps) cold and warm. TMS uses the importance-weighted flattened kernel
 * through its P x P dual.
 */
@Command(name = "solver", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Cold vs warm-started block Lanczos (and, with --lobpcg, LOBPCG) vs full dense decomposition on consecutive checkpoints of real "
                + "runs (modular addition: whole-model eNTK plus the full per-checkpoint analysis; TMS: flattened "
                + "kernel): time, iterations, achieved residual, eigenvalue agreement with the dense solve, and "
                + "peak heap.",
                "Example: grokwatch bench solver --p 29,59,113 --tms-hidden 10,40 --checkpoints 3"})
final class BenchSolverCommand implements Callable<Integer> {
    @Option(names = "--p", split = ",", description = "Moduli. Default: ${DEFAULT-VALUE}.")
    List<Integer> moduli = new ArrayList<>(List.of(29, 59, 113));
    @Option(names = "--width", description = "Hidden width. Default: ${DEFAULT-VALUE}.")
    int width = 512;
    @Option(names = "--train-epochs", split = ",", description = "Modular addition: epochs before the first timed "
            + "checkpoint; several values time several windows of --checkpoints consecutive checkpoints through one "
            + "run (e.g. 60,300,1500: onset, memorised, generalised), each a case of its own. Default: ${DEFAULT-VALUE}.")
    List<Integer> trainEpochs = new ArrayList<>(List.of(60));
    @Option(names = "--tms-hidden", split = ",", description = "TMS hidden sizes m. "
            + "Default: ${DEFAULT-VALUE}.")
    List<Integer> tmsHidden = new ArrayList<>(List.of(10, 40));
    @Option(names = "--tms-epochs", split = ",", description = "TMS: epochs before the first timed checkpoint; several "
            + "values time several windows, as --train-epochs. Default: ${DEFAULT-VALUE}.")
    List<Integer> tmsEpochs = new ArrayList<>(List.of(1000));
    @Option(names = "--every", description = "Epochs between consecutive checkpoints. Default: ${DEFAULT-VALUE}.")
    int every = 1;
    @Option(names = "--checkpoints", description = "Consecutive checkpoints timed (the first only cold). Default: ${DEFAULT-VALUE}.")
    int checkpoints = 3;
    @Option(names = "--top-k", description = "Modular addition: eigenpairs wanted (at least the second cliff, "
            + "4(p-1)+2). Default: ${DEFAULT-VALUE}.")
    int topK = 200;
    @Option(names = "--tolerance", description = "Residual tolerance of both iterative solves. Default: ${DEFAULT-VALUE}.")
    double tolerance = 1e-6;
    @Option(names = "--float32", description = "Also time each analysis with --precision float32 (float32 dense "
            + "decompositions and kernel products), in rows marked f32 whose residual is measured on the float64 "
            + "kernel and whose eigenvalue column is the largest relative difference from the float64 analysis.")
    boolean float32;
    @Option(names = "--dense-max-side", description = "Form and densely decompose kernels up to this side (the "
            + "reference for the eigenvalue column); above it the column shows the worst exact residual's bound. "
            + "p = 113 (12,769) needs about 7 GB of heap and minutes per checkpoint. Default: ${DEFAULT-VALUE}.")
    int denseMaxSide = 4000;
    /** n x n matrices alive at once while the dense reference is formed and decomposed. */
    private static final int DENSE_COPIES = 5;
    // Declared by its negative name: for a negatable option that is on by default, picocli makes the named form
    // turn it off.
    @Option(names = "--no-analysis", negatable = true, description = "Time the full per-checkpoint analysis cold "
            + "and warm (modular addition: both layer kernels + whole model + overlaps; TMS: dual Gram, solve, map "
            + "back, heatmap); on by default, --no-analysis skips it.")
    boolean analysis = true;
    @Option(names = "--warm-up", description = "Untimed rounds on each case's first checkpoint before the timed "
            + "ones (a cold and a warm solve and, with the analysis, a cold and a warm analysis), so that the timings "
            + "are of JIT-compiled code, as in an analyzer that has been running; 0 times the first calls' "
            + "compilation too. Default: ${DEFAULT-VALUE}.")
    int warmUp = 1;
    @Option(names = "--block", description = "Block Lanczos: vectors added to the Krylov basis per operator "
            + "application; 0 = the analyzer's choice (32, or k/5 down to 8 for fewer than 160 pairs). "
            + "Default: ${DEFAULT-VALUE}.")
    int lanczosBlock = 0;
    @Option(names = "--basis", description = "Block Lanczos: basis vectors kept before a thick restart; 0 chooses "
            + "2k + 6 blocks. Default: ${DEFAULT-VALUE}.")
    int lanczosBasis = 0;
    @Option(names = "--lobpcg", negatable = true, description = "Also time LOBPCG (the solver block Lanczos replaced; "
            + "slow above p = 59). Default: ${DEFAULT-VALUE}.")
    boolean lobpcg = false;
    @Option(names = "--out", description = "Optional JSON file with every measurement: one array of rows per case "
            + "(p113, tms-m40; with several windows p113-epoch300), and summary.<case> with firstEpoch, the cold and "
            + "warm medians, warmSpeedup, warmProductRatio and previousBasisMedianResidual (how far the warm start "
            + "was). docs/plot_bench.py and docs/plot_warm.py draw it.")
    Path out;

    @Override
    public Integer call() throws java.io.IOException {
        if (checkpoints < 2 || every < 1) {
            throw new IllegalArgumentException("--checkpoints must be >= 2 and --every >= 1");
        }
        if (trainEpochs.isEmpty() || tmsEpochs.isEmpty() || trainEpochs.stream().anyMatch(e -> e < 0)
                || tmsEpochs.stream().anyMatch(e -> e < 0)) {
            throw new IllegalArgumentException("--train-epochs and --tms-epochs must be one or more epochs >= 0, got "
                    + trainEpochs + " and " + tmsEpochs);
        }
        trainEpochs = trainEpochs.stream().distinct().sorted().toList();
        tmsEpochs = tmsEpochs.stream().distinct().sorted().toList();
        if (warmUp < 0) {
            throw new IllegalArgumentException("--warm-up must be >= 0, got " + warmUp);
        }
        if (lanczosBlock < 0 || lanczosBasis < 0) {
            throw new IllegalArgumentException("--block and --basis must be >= 0 (0 = automatic)");
        }
        for (int p : moduli) {
            long n = (long) p * p;
            // The formed reference: the per-layer kernels, their sum and LAPACK's working copy, n x n doubles each.
            double needGb = DENSE_COPIES * n * n * 8 / 1e9;
            double haveGb = Runtime.getRuntime().maxMemory() / 1e9;
            if (n <= denseMaxSide && needGb > haveGb) {
                throw new IllegalArgumentException(String.format("--dense-max-side %d forms the p=%d kernel (%d x %d) "
                        + "for the dense reference, which needs about %.0f GB of heap; this JVM may use %.1f GB. "
                        + "Raise the heap (e.g. GROKWATCH_JAVA_OPTS=-Xmx%dg) or set --dense-max-side below %d",
                        denseMaxSide, p, n, n, needGb, haveGb, (int) Math.ceil(needGb * 1.5), n));
            }
        }
        keepCommittedHeap();
        Table t = new Table("case", "n", "k", "checkpoint", "method", "ms", "steps", "residual",
                "max rel. eig diff", "peak heap MB");
        ObjectNode root = JsonFiles.object();
        // Timings depend on the BLAS kernels as much as on the code: say which ones ran.
        io.grokwatch.linalg.BlasKernels kernels = io.grokwatch.linalg.BlasKernels.current();
        System.out.println("machine: " + kernels.describe());
        root.put("machine", kernels.describe()).put("tolerance", tolerance);
        List<String> summary = new ArrayList<>();
        ObjectNode medians = JsonFiles.object();
        for (int p : moduli) {
            summary.addAll(modularAddition(p, t, root, medians));
        }
        for (int m : tmsHidden) {
            summary.addAll(tms(m, t, root, medians));
        }
        root.set("summary", medians);
        System.out.print(t.render());
        summary.forEach(System.out::println);
        System.out.println("max rel. eig diff: against the dense decomposition of the same kernel, or (marked ~) the "
                + "worst residual ||Kv - lambda v|| / lambda, which bounds it, where the kernel is not formed");
        if (out != null) {
            JsonFiles.write(out, root);
        }
        return 0;
    }

    /**
     * One run per modulus, trained once to the end of the last window; each window of consecutive checkpoints is a
     * case of its own.
     */
    private List<String> modularAddition(int p, Table t, ObjectNode root, ObjectNode medians) {
        int last = windowEnd(trainEpochs.get(trainEpochs.size() - 1));
        ModularAdditionTask task = ModularAdditionTask.create(new ModularAdditionTask.Config(p, width, 0.7, 0.05, 0.01,
                last, 0));
        Map<Integer, Parameters> snapshots = new java.util.TreeMap<>();
        try (ProgressBar bar = new ProgressBar("training p=" + p, last)) {
            task.run(1, (epoch, step, params, metrics) -> {
                bar.update(epoch, "");
                if (inWindow(epoch, trainEpochs)) {
                    snapshots.put(epoch, params.copy());
                }
                return true;
            });
        }
        List<String> lines = new ArrayList<>();
        int threads = Runtime.getRuntime().availableProcessors();
        try (ModularAdditionAnalyzer analyzer = new ModularAdditionAnalyzer(p, topK, true);
             ModularAdditionAnalyzer single = new ModularAdditionAnalyzer(p, topK, true, threads, Precision.FLOAT32)) {
            for (int start : trainEpochs) {
                String key = caseKey("p" + p, start, trainEpochs);
                lines.add(modularAdditionWindow(p, caseName("p=" + p, start, trainEpochs), task,
                        window(snapshots, start), start, start == trainEpochs.get(0), analyzer, single, t,
                        root.putArray(key), medians.putObject(key)));
            }
        }
        return lines;
    }

    private String modularAdditionWindow(int p, String name, ModularAdditionTask task, List<Parameters> snapshots,
                                         int firstEpoch, boolean firstWindow, ModularAdditionAnalyzer analyzer,
                                         ModularAdditionAnalyzer single, Table t,
                                         com.fasterxml.jackson.databind.node.ArrayNode json, ObjectNode summary) {
        Matrix probes = ModularAddition.inputs(p);
        int k = Math.max(topK, Cliffs.modularAddition(p).second().last() + 2);
        List<Double> warmMs = new ArrayList<>();
        List<Double> coldMs = new ArrayList<>();
        List<double[]> paired = new ArrayList<>();
        List<Double> analysisCold = new ArrayList<>();
        List<Double> analysisWarm = new ArrayList<>();
        Matrix previous = null;
        Map<String, Matrix> previousBases = null;
        Map<String, Matrix> previousSingle = null;
        List<Double> singleCold = new ArrayList<>();
        List<Double> singleWarm = new ArrayList<>();
        Network first = new Network(task.description(), snapshots.get(0));
        if (firstWindow) {
            warmUp(name, new Entk(first, probes).classMeanOperator(Entk.ALL).orElseThrow(), k,
                    () -> analyzer.analyze(first, analyzer.analyze(first).bases()));
        }
        for (int c = 0; c < snapshots.size(); c++) {
            Network net = new Network(task.description(), snapshots.get(c));
            Entk entk = new Entk(net, probes);
            SymmetricOperator op = entk.classMeanOperator(Entk.ALL).orElseThrow();
            int n = op.size();
            String label = "epoch " + (firstEpoch + c * every);
            double[] reference = null;
            if (n <= denseMaxSide) {
                Matrix kk = entk.classMean(Entk.ALL);
                Measured<Eigenpairs> d = measure(() -> SymmetricEigen.top(kk, k, k));
                reference = d.value.values();
                row(t, json, name, n, k, label, "dense", d, 0, SymmetricEigen.residual(kk, d.value.values(),
                        d.value.vectors()), 0);
            }
            previous = solves(t, json, name, op, k, label, reference, previous, coldMs, warmMs, paired);
            if (analysis) {
                Measured<ModularAdditionAnalyzer.Result> cold = measure(() -> analyzer.analyze(net));
                analysisCold.add(cold.seconds * 1e3);
                row(t, json, name, n, k, label, "analysis cold", cold, cold.value.all().solve().iterations(),
                        cold.value.all().residual(), Double.NaN);
                Measured<ModularAdditionAnalyzer.Result> warm = null;
                if (previousBases != null) {
                    Map<String, Matrix> start = previousBases;
                    warm = measure(() -> analyzer.analyze(net, start));
                    analysisWarm.add(warm.seconds * 1e3);
                    row(t, json, name, n, k, label, "analysis warm", warm, warm.value.all().solve().iterations(),
                            warm.value.all().residual(), Double.NaN);
                    previousBases = warm.value.bases();
                } else {
                    previousBases = cold.value.bases();
                }
                if (float32) {
                    Measured<ModularAdditionAnalyzer.Result> c32 = measure(() -> single.analyze(net));
                    singleCold.add(c32.seconds * 1e3);
                    row(t, json, name, n, k, label, "f32 analysis cold", c32, c32.value.all().solve().iterations(),
                            c32.value.all().residual(), maxRelativeDifference(cold.value.all().eigenvalues(),
                                    c32.value.all().eigenvalues()));
                    if (previousSingle != null && warm != null) {
                        Map<String, Matrix> start = previousSingle;
                        Measured<ModularAdditionAnalyzer.Result> w32 = measure(() -> single.analyze(net, start));
                        singleWarm.add(w32.seconds * 1e3);
                        row(t, json, name, n, k, label, "f32 analysis warm", w32,
                                w32.value.all().solve().iterations(), w32.value.all().residual(),
                                maxRelativeDifference(warm.value.all().eigenvalues(), w32.value.all().eigenvalues()));
                        previousSingle = w32.value.bases();
                    } else {
                        previousSingle = c32.value.bases();
                    }
                }
            }
        }
        summarise(summary, firstEpoch, coldMs, warmMs, paired, analysisCold, analysisWarm);
        return String.format("%s: whole-model solve median cold %.0f ms, warm %.0f ms, %s", name,
                median(coldMs), median(warmMs), warmGain(paired)) + analysisSummary(analysisCold, analysisWarm, singleCold, singleWarm);
    }

    /** One TMS run per hidden size, trained once to the end of the last window; each window is a case. */
    private List<String> tms(int m, Table t, ObjectNode root, ObjectNode medians) {
        int last = windowEnd(tmsEpochs.get(tmsEpochs.size() - 1));
        TmsTask task = TmsTask.create(new TmsTask.Config(50, m, 0.9, 0.8, 500, last, 1e-3, 0));
        Map<Integer, Parameters> snapshots = new java.util.TreeMap<>();
        try (ProgressBar bar = new ProgressBar("training tms m=" + m, last)) {
            task.run(1, (epoch, step, params, metrics) -> {
                if (epoch % 50 == 0 || epoch == last) {
                    bar.update(epoch, "");
                }
                if (inWindow(epoch, tmsEpochs)) {
                    snapshots.put(epoch, params.copy());
                }
                return true;
            });
        }
        List<String> lines = new ArrayList<>();
        for (int start : tmsEpochs) {
            String key = caseKey("tms-m" + m, start, tmsEpochs);
            lines.add(tmsWindow(caseName("tms m=" + m, start, tmsEpochs), task, window(snapshots, start), start,
                    start == tmsEpochs.get(0), t, root.putArray(key), medians.putObject(key)));
        }
        return lines;
    }

    private String tmsWindow(String name, TmsTask task, List<Parameters> snapshots, int firstEpoch,
                             boolean firstWindow,
                             Table t, com.fasterxml.jackson.databind.node.ArrayNode json, ObjectNode summary) {
        double[] scale = Entk.importanceScale(task.importances(), 0.33);
        int k = RunDescriptors.TMS_TOP_K;
        List<Double> warmMs = new ArrayList<>();
        List<Double> coldMs = new ArrayList<>();
        List<double[]> paired = new ArrayList<>();
        List<Double> gramMs = new ArrayList<>();
        List<Double> analysisCold = new ArrayList<>();
        List<Double> analysisWarm = new ArrayList<>();
        Map<String, Matrix> previousBases = null;
        Map<String, Matrix> previousSingle = null;
        List<Double> singleCold = new ArrayList<>();
        List<Double> singleWarm = new ArrayList<>();
        Matrix previous = null;
        Network first = new Network(task.description(), snapshots.get(0));
        Matrix firstGram = new Entk(first, task.dataset()).dualGram(Entk.ALL, scale);
        KernelSpectra.Options analysed = new KernelSpectra.Options(io.grokwatch.entk.KernelKind.FLATTENED, k, scale, 0);
        if (firstWindow) {
            warmUp(name, SymmetricOperator.of(firstGram), Math.min(k, firstGram.rows() / 4), () -> KernelSpectra.analyze(
                    first, task.dataset(), java.util.Optional.empty(), analysed, bases(KernelSpectra.analyze(first,
                            task.dataset(), java.util.Optional.empty(), analysed, Map.of(), false)), false));
        }
        for (int c = 0; c < snapshots.size(); c++) {
            Entk entk = new Entk(new Network(task.description(), snapshots.get(c)), task.dataset());
            Measured<Matrix> gram = measure(() -> entk.dualGram(Entk.ALL, scale));
            gramMs.add(gram.seconds * 1e3);
            Matrix g = gram.value;
            int n = g.rows();
            int kk = Math.min(k, n / 4);
            String label = "epoch " + (firstEpoch + c * every);
            row(t, json, name, n, kk, label, "dual Gram", gram, 0, Double.NaN, Double.NaN);
            Measured<Eigenpairs> d = measure(() -> SymmetricEigen.top(g, kk, kk));
            row(t, json, name, n, kk, label, "dense", d, 0, SymmetricEigen.residual(g, d.value.values(),
                    d.value.vectors()), 0);
            previous = solves(t, json, name, SymmetricOperator.of(g), kk, label, d.value.values(), previous, coldMs,
                    warmMs, paired);
            if (analysis) {
                // What a streamed TMS run costs per checkpoint: dual Gram, solve, map back, heatmap.
                Network net = new Network(task.description(), snapshots.get(c));
                KernelSpectra.Options o = new KernelSpectra.Options(io.grokwatch.entk.KernelKind.FLATTENED, k, scale, 0);
                Measured<Map<String, KernelSpectra.KernelResult>> cold = measure(() -> KernelSpectra.analyze(net,
                        task.dataset(), java.util.Optional.empty(), o, Map.of(), false));
                analysisCold.add(cold.seconds * 1e3);
                SolveInfo cs = cold.value.get(Entk.ALL).spectrum().solve();
                row(t, json, name, n, kk, label, "analysis cold", cold, cs.iterations(), cs.residual(), Double.NaN);
                Measured<Map<String, KernelSpectra.KernelResult>> warm = null;
                if (previousBases != null) {
                    Map<String, Matrix> start = previousBases;
                    warm = measure(() -> KernelSpectra.analyze(net,
                            task.dataset(), java.util.Optional.empty(), o, start, false));
                    analysisWarm.add(warm.seconds * 1e3);
                    SolveInfo ws = warm.value.get(Entk.ALL).spectrum().solve();
                    row(t, json, name, n, kk, label, "analysis warm", warm, ws.iterations(), ws.residual(), Double.NaN);
                    previousBases = bases(warm.value);
                } else {
                    previousBases = bases(cold.value);
                }
                if (float32) {
                    KernelSpectra.Options o32 = new KernelSpectra.Options(io.grokwatch.entk.KernelKind.FLATTENED, k,
                            scale, 0, Precision.FLOAT32);
                    Measured<Map<String, KernelSpectra.KernelResult>> c32 = measure(() -> KernelSpectra.analyze(net,
                            task.dataset(), java.util.Optional.empty(), o32, Map.of(), false));
                    singleCold.add(c32.seconds * 1e3);
                    SpectrumSummary sc = c32.value.get(Entk.ALL).spectrum();
                    row(t, json, name, n, kk, label, "f32 analysis cold", c32, sc.solve().iterations(),
                            sc.solve().residual(), maxRelativeDifference(
                                    cold.value.get(Entk.ALL).spectrum().eigenvalues(), sc.eigenvalues()));
                    if (previousSingle != null && warm != null) {
                        Map<String, Matrix> start = previousSingle;
                        Measured<Map<String, KernelSpectra.KernelResult>> w32 = measure(() -> KernelSpectra.analyze(
                                net, task.dataset(), java.util.Optional.empty(), o32, start, false));
                        singleWarm.add(w32.seconds * 1e3);
                        SpectrumSummary sw = w32.value.get(Entk.ALL).spectrum();
                        row(t, json, name, n, kk, label, "f32 analysis warm", w32, sw.solve().iterations(),
                                sw.solve().residual(), maxRelativeDifference(
                                        warm.value.get(Entk.ALL).spectrum().eigenvalues(), sw.eigenvalues()));
                        previousSingle = bases(w32.value);
                    } else {
                        previousSingle = bases(c32.value);
                    }
                }
            }
        }
        summarise(summary, firstEpoch, coldMs, warmMs, paired, analysisCold, analysisWarm);
        summary.put("dualGramMedianMs", median(gramMs));
        return String.format("%s: dual Gram median %.0f ms; solve median cold %.0f ms, warm %.0f ms, %s",
                name, median(gramMs), median(coldMs), median(warmMs), warmGain(paired)) + analysisSummary(analysisCold, analysisWarm, singleCold, singleWarm);
    }

    /**
     * Cold and (from {@code previous}) warm solves of one kernel by the analyzer's iterative solver (block Lanczos),
     * and with {@code --lobpcg} by LOBPCG too; returns the basis the next checkpoint starts from.
     */
    private Matrix solves(Table t, com.fasterxml.jackson.databind.node.ArrayNode json, String name,
                          SymmetricOperator op, int k, String label, double[] reference, Matrix previous,
                          List<Double> coldMs, List<Double> warmMs, List<double[]> paired) {
        int n = op.size();
        BlockLanczos.Options lo = lanczosOptions(k);
        Matrix next = null;
        if (BlockLanczos.applicable(k, n, lo)) {
            Measured<TopEigenSolver.Solution> cold = measure(() -> BlockLanczos.solve(op, k, null, lo));
            coldMs.add(cold.seconds * 1e3);
            solveRow(t, json, name, n, k, label, "cold", cold, reference);
            next = cold.value.basis();
            if (previous != null) {
                Matrix start = previous;
                // What the warm start brings: the previous basis as eigenvectors of this checkpoint's kernel.
                Measured<io.grokwatch.linalg.RayleighRitz.Result> rr = measure(
                        () -> io.grokwatch.linalg.RayleighRitz.of(op, start));
                row(t, json, name, n, k, label, "previous basis", rr, 0, rr.value.medianResidual(),
                        reference == null ? Double.NaN : maxRelativeDifference(reference, rr.value.values()));
                ((ObjectNode) json.get(json.size() - 1)).put("medianResidual", rr.value.medianResidual())
                        .put("worstResidual", rr.value.worstResidual());
                Measured<TopEigenSolver.Solution> warm = measure(() -> BlockLanczos.solve(op, k, start, lo));
                warmMs.add(warm.seconds * 1e3);
                paired.add(new double[] {cold.seconds, warm.seconds, cold.value.report().products(),
                        warm.value.report().products(), rr.value.medianResidual()});
                solveRow(t, json, name, n, k, label, warm.value.report().fellBack() ? "warm->cold" : "warm", warm,
                        reference);
                next = warm.value.basis();
            }
        }
        if (lobpcg) {
            TopEigenSolver.Options options = TopEigenSolver.Options.DEFAULT.withTolerance(tolerance);
            Measured<TopEigenSolver.Solution> cold = measure(() -> TopEigenSolver.solve(op, k, null, options));
            solveRow(t, json, name, n, k, label, "lobpcg cold", cold, reference);
            if (next == null) {
                next = cold.value.basis();
            }
            if (previous != null) {
                Matrix start = previous;
                Measured<TopEigenSolver.Solution> warm = measure(() -> TopEigenSolver.solve(op, k, start, options));
                solveRow(t, json, name, n, k, label, warm.value.report().fellBack() ? "lobpcg warm->cold"
                        : "lobpcg warm", warm, reference);
            }
        }
        return next;
    }

    /** Last epoch of the window of consecutive checkpoints that starts at {@code start}. */
    private int windowEnd(int start) {
        return start + every * (checkpoints - 1);
    }

    private boolean inWindow(int epoch, List<Integer> starts) {
        return starts.stream().anyMatch(s -> epoch >= s && epoch <= windowEnd(s) && (epoch - s) % every == 0);
    }

    private List<Parameters> window(Map<Integer, Parameters> snapshots, int start) {
        List<Parameters> w = new ArrayList<>();
        for (int c = 0; c < checkpoints; c++) {
            w.add(snapshots.get(start + c * every));
        }
        return w;
    }

    /** The JSON key of a case: the run's alone with one window (as before windows), else suffixed with the start. */
    private static String caseKey(String run, int start, List<Integer> starts) {
        return starts.size() == 1 ? run : run + "-epoch" + start;
    }

    private static String caseName(String run, int start, List<Integer> starts) {
        return starts.size() == 1 ? run : run + " @" + start;
    }

    private BlockLanczos.Options lanczosOptions(int k) {
        return BlockLanczos.Options.DEFAULT.withTolerance(tolerance)
                .withBlockSize(lanczosBlock > 0 ? lanczosBlock : SpectrumSolver.lanczosBlock(k))
                .withMaxBasis(lanczosBasis);
    }

    /**
     * The untimed rounds of {@code --warm-up} on one kernel: a cold block Lanczos solve, a warm one from it, and
     * {@code analyses} (a cold and a warm analysis) when the analysis is timed.
     */
    private void warmUp(String name, SymmetricOperator op, int k, Runnable analyses) {
        if (warmUp == 0) {
            return;
        }
        BlockLanczos.Options lo = lanczosOptions(k);
        try (ProgressBar bar = new ProgressBar("warming up " + name + " (untimed)", warmUp)) {
            for (int round = 0; round < warmUp; round++) {
                if (BlockLanczos.applicable(k, op.size(), lo)) {
                    Matrix basis = BlockLanczos.solve(op, k, null, lo).basis();
                    BlockLanczos.solve(op, k, basis, lo);
                }
                if (analysis) {
                    analyses.run();
                }
                bar.update(round + 1, "");
            }
        }
    }

    private static void solveRow(Table t, com.fasterxml.jackson.databind.node.ArrayNode json, String name, int n,
                                 int k, String label, String method, Measured<TopEigenSolver.Solution> m,
                                 double[] reference) {
        row(t, json, name, n, k, label, method, m, m.value.report().iterations(), m.value.report().residual(),
                diff(reference, m.value));
        ((ObjectNode) json.get(json.size() - 1)).put("products", m.value.report().products())
                .put("converged", m.value.report().converged());
    }

    /** The summary's analysis medians, float64 and (with {@code --float32}) float32; empty without analyses. */
    private String analysisSummary(List<Double> cold, List<Double> warm, List<Double> singleCold,
                                   List<Double> singleWarm) {
        if (!analysis) {
            return "";
        }
        String s = String.format("; full per-checkpoint analysis median cold %.0f ms, warm %.0f ms", median(cold),
                median(warm));
        if (float32) {
            s += String.format("; float32 analysis median cold %.0f ms, warm %.0f ms (%.2fx, %.2fx of float64)",
                    median(singleCold), median(singleWarm), median(cold) / median(singleCold),
                    median(warm) / median(singleWarm));
        }
        return s;
    }

    /**
     * The summary line's figures for {@code --out}: medians, and the {@link WarmGain} (null without a warm solve; the
     * analysis medians only with analyses).
     */
    private static void summarise(ObjectNode s, int firstEpoch, List<Double> coldMs, List<Double> warmMs,
                                  List<double[]> paired, List<Double> analysisCold, List<Double> analysisWarm) {
        s.put("firstEpoch", firstEpoch).put("coldMedianMs", median(coldMs)).put("warmMedianMs", median(warmMs));
        WarmGain gain = WarmGain.of(paired);
        if (gain == null) {
            s.putNull("warmSpeedup").putNull("warmProductRatio").putNull("previousBasisMedianResidual");
        } else {
            s.put("warmSpeedup", gain.time()).put("warmProductRatio", gain.products())
                    .put("previousBasisMedianResidual", gain.startResidual());
        }
        if (!analysisCold.isEmpty()) {
            s.put("analysisColdMedianMs", median(analysisCold)).put("analysisWarmMedianMs", median(analysisWarm));
        }
    }

    /**
     * Warm against cold on the same checkpoints (the first checkpoint has no warm solve, and its cold one carries the
     * JIT's warm-up, so the ratio of the two medians would flatter the warm start): the median of the per-checkpoint
     * time ratios, and of the operator-product ratios, which do not depend on the machine's noise.
     */
    record WarmGain(double time, double products, double startResidual) {
        /**
         * @param paired per checkpoint: cold ms, warm ms, cold products, warm products, and the median residual of
         *               the previous basis's Ritz pairs on this checkpoint's kernel (how far the warm start is from
         *               the answer); null when empty
         */
        static WarmGain of(List<double[]> paired) {
            if (paired.isEmpty()) {
                return null;
            }
            double[] time = paired.stream().mapToDouble(q -> q[0] / q[1]).toArray();
            double[] products = paired.stream().mapToDouble(q -> q[2] / q[3]).toArray();
            double[] start = paired.stream().mapToDouble(q -> q[4]).toArray();
            return new WarmGain(ModularAdditionExperiment.median(time), ModularAdditionExperiment.median(products),
                    ModularAdditionExperiment.median(start));
        }
    }

    static String warmGain(List<double[]> paired) {
        WarmGain gain = WarmGain.of(paired);
        return gain == null ? "no warm solves" : String.format(
                "warm speed-up %.1fx on the same checkpoints (operator products %.2fx; previous basis's median "
                        + "residual %.1e)", gain.time(), gain.products(), gain.startResidual());
    }

    private static double median(List<Double> values) {
        return values.isEmpty() ? Double.NaN
                : ModularAdditionExperiment.median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private record Measured<T>(T value, double seconds, double peakMb) {
    }

    /**
     * Each measurement starts from a collected heap, so that its peak is its own. A full collection also lets the JVM
     * give memory back to the OS (above 70% free by default), which the next measurement then faults in again, page by
     * page: a running analyzer never pays that (measured at p = 113: analyses markedly slower after such a collection
     * than without or after one that keeps the heap; docs/benchmarks.md). So the bench keeps what it committed; the
     * option is manageable, set here and not by the launcher, which serves long-running services too.
     */
    private static void keepCommittedHeap() {
        try {
            ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .setVMOption("MaxHeapFreeRatio", "100");
        } catch (RuntimeException e) {
            System.err.println("bench: cannot keep the heap committed between measurements (" + e.getMessage()
                    + "); timings after the first may include re-faulting freed memory");
        }
    }

    private static <T> Measured<T> measure(Supplier<T> work) {
        List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(b -> b.getType() == MemoryType.HEAP).toList();
        System.gc();
        heap.forEach(MemoryPoolMXBean::resetPeakUsage);
        long t0 = System.nanoTime();
        T v = work.get();
        double s = (System.nanoTime() - t0) / 1e9;
        double peak = heap.stream().mapToLong(b -> b.getPeakUsage().getUsed()).sum() / 1048576.0;
        return new Measured<>(v, s, peak);
    }

    /**
     * Worst relative eigenvalue difference from the dense reference; without one, the worst relative residual
     * (for a symmetric operator some eigenvalue lies within ||r|| of each Ritz value), reported negative so the
     * table can mark it as a bound.
     */
    private static double diff(double[] reference, TopEigenSolver.Solution s) {
        if (reference == null) {
            return -s.report().residual();
        }
        return maxRelativeDifference(reference, s.pairs().values());
    }

    private static void row(Table t, com.fasterxml.jackson.databind.node.ArrayNode json, String name, int n, int k,
                            String label, String method, Measured<?> m, int iterations, double residual, double diff) {
        String shown = Double.isNaN(diff) ? "-" : diff < 0 ? String.format("~%.3g", -diff) : String.format("%.3g", diff);
        t.row(name, n, k, label, method, m.seconds * 1e3, iterations, residual, shown, m.peakMb);
        ObjectNode o = json.addObject().put("case", name).put("n", n).put("k", k).put("checkpoint", label)
                .put("method", method).put("ms", m.seconds * 1e3).put("iterations", iterations)
                .put("residual", residual).put("peakHeapMb", m.peakMb);
        if (!Double.isNaN(diff)) {
            o.put(diff < 0 ? "eigenvalueErrorBound" : "maxRelativeEigenvalueDifference", Math.abs(diff));
        }
    }

    private static Map<String, Matrix> bases(Map<String, KernelSpectra.KernelResult> results) {
        Map<String, Matrix> out = new java.util.LinkedHashMap<>();
        results.forEach((g, r) -> r.basis().ifPresent(b -> out.put(g, b)));
        return out;
    }

    /** Largest relative difference over the values both arrays have. */
    private static double maxRelativeDifference(double[] reference, double[] values) {
        double worst = 0;
        for (int i = 0; i < Math.min(reference.length, values.length); i++) {
            worst = Math.max(worst, Math.abs(values[i] - reference[i]) / Math.abs(reference[i]));
        }
        return worst;
    }
}

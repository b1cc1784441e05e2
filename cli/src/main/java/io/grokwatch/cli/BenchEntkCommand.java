package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.TmsTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code grokwatch bench entk}: per-checkpoint eNTK analysis against numpy and against the naive method, in one run.
 * The numpy peer ({@code bench/numpy_entk.py}) does the same modular-addition work on the same weights in plain
 * numpy (both layer kernels, one dense {@code eigh}, the cliff overlaps) and, for the whole experiment, the same
 * training from the same initial state. The naive method builds explicit per-class Jacobian blocks (one
 * back-propagation per probe and class), accumulates them into the kernels and runs a full dense eigendecomposition.
 */
@Command(name = "entk", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the per-checkpoint eNTK analysis against numpy and against a naive baseline in one run: "
                + "modular addition p=29 (both layer kernels + whole-model top-200 + cliff overlaps) on the same "
                + "weights as a numpy peer run by --python (timed rep by rep in turn with grokwatch, so both see the "
                + "same machine load; eigenvalues checked to agree), the whole experiment (train, analyse every "
                + "--experiment-every epochs) as one process each side, and the TMS m=40 flattened kernel (top 80). "
                + "Prints medians and ratios, the numpy ratio first.",
                "Example: grokwatch bench entk --reps 10 --baseline-reps 1"})
final class BenchEntkCommand implements Callable<Integer> {
    /**
     * Largest relative difference allowed between grokwatch's and numpy's eigenvalues of one checkpoint (top k, each
     * relative to itself, above 1e-8 of the largest): both are float64 dense decompositions of the same kernel, so
     * they agree to rounding (measured about 1e-13) and anything above this is a wrong kernel or solve.
     */
    static final double NUMPY_EIGENVALUE_TOLERANCE = 1e-9;

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
    @Option(names = "--warmup", description = "Untimed warm-up runs of grokwatch's analysis, and as many of the "
            + "numpy peer's (the slow baseline runs none). Default: ${DEFAULT-VALUE}.")
    int warmup = 10;
    @Option(names = "--python", description = "The Python with numpy that runs the numpy peer (Debian's, whose numpy "
            + "is installed; another python3 may come first on PATH). Default: ${DEFAULT-VALUE}.")
    String python = "/usr/bin/python3";
    @Option(names = "--numpy-threads", split = ",", description = "BLAS threads of the numpy peer; each setting is "
            + "timed and grokwatch is compared with the fastest. Default: 1 and the number of cores.")
    List<Integer> numpyThreads;
    @Option(names = "--experiment-epochs", description = "Epochs of the whole-experiment comparison. "
            + "Default: ${DEFAULT-VALUE}.")
    int experimentEpochs = 500;
    @Option(names = "--experiment-every", description = "Checkpoint interval of the whole-experiment comparison. "
            + "Default: ${DEFAULT-VALUE}.")
    int experimentEvery = 10;
    @Option(names = "--experiment-repeats", description = "Runs of each side of the whole-experiment comparison, in "
            + "turn. Default: ${DEFAULT-VALUE}.")
    int experimentRepeats = 3;
    @Option(names = "--skip", split = ",", description = "Parts to skip: modular-addition (the per-checkpoint cases), "
            + "tms, numpy (the numpy peer of the per-checkpoint case), experiment (the whole-experiment comparison).")
    List<String> skip = new ArrayList<>();
    @Option(names = "--out", description = "Optional JSON file with every timing.")
    Path out;

    /**
     * One timed case. {@code numpy} holds the numpy peer's seconds per BLAS-thread setting (empty when it did not
     * run); {@code check} compares with the naive baseline, {@code numpyCheck} with numpy's eigenvalues.
     */
    record Case(String name, String what, double[] ours, Map<Integer, double[]> numpy, double[] baseline,
                double check, double numpyCheck) {
        Case(String name, String what, double[] ours, double[] baseline, double check) {
            this(name, what, ours, Map.of(), baseline, check, Double.NaN);
        }

        /** The numpy median of the fastest thread setting, in seconds (NaN without numpy). */
        double numpyBest() {
            return numpy.values().stream().mapToDouble(ModularAdditionExperiment::median).min().orElse(Double.NaN);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (reps < 1 || baselineReps < 0 || warmup < 0 || experimentRepeats < 0 || experimentEvery < 1
                || experimentEpochs < 0) {
            throw new IllegalArgumentException("--reps and --experiment-every must be >= 1; --baseline-reps, "
                    + "--warmup, --experiment-repeats and --experiment-epochs >= 0");
        }
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> threads = numpyThreads != null ? numpyThreads : cores > 1 ? List.of(1, cores) : List.of(1);
        if (threads.isEmpty() || threads.stream().anyMatch(t -> t < 1)) {
            throw new IllegalArgumentException("--numpy-threads must list numbers >= 1, got " + threads);
        }
        boolean experimentToo = !skip.contains("experiment") && experimentRepeats > 0;
        boolean withNumpy = !skip.contains("modular-addition") && !skip.contains("numpy") || experimentToo;
        if (withNumpy && !NumpyPeer.available(python)) {
            throw new IllegalArgumentException(python + " cannot import numpy; install it (Debian: python3-numpy), "
                    + "name another Python with --python, or --skip numpy,experiment");
        }
        Path work = Files.createTempDirectory("grokwatch-bench-entk");
        NumpyPeer peer = withNumpy ? NumpyPeer.in(python, work) : null;
        List<Case> cases = new ArrayList<>();
        if (!skip.contains("modular-addition")) {
            cases.addAll(modularAddition(skip.contains("numpy") ? null : peer, work, threads));
        }
        if (experimentToo) {
            cases.add(experiment(peer, work, threads));
        }
        if (!skip.contains("tms")) {
            cases.add(tms());
        }
        Table t = new Table("case", "grokwatch median ms", "numpy median ms", "grokwatch/numpy",
                "naive median ms", "speed-up vs naive", "max rel. eig diff (numpy)", "max rel. eig diff (naive)");
        ObjectNode root = JsonFiles.object();
        io.grokwatch.linalg.BlasKernels kernels = io.grokwatch.linalg.BlasKernels.current();
        System.out.println("machine: " + kernels.describe());
        root.put("machine", kernels.describe());
        for (Case c : cases) {
            double ours = ModularAdditionExperiment.median(c.ours) * 1e3;
            double numpy = c.numpyBest() * 1e3;
            double base = c.baseline.length == 0 ? Double.NaN : ModularAdditionExperiment.median(c.baseline) * 1e3;
            t.row(c.name, ours, numpy, ours / numpy, base, base / ours, c.numpyCheck, c.check);
            ObjectNode o = root.putObject(c.name);
            o.put("what", c.what).put("medianMs", ours);
            if (!c.numpy.isEmpty()) {
                o.put("numpyMedianMs", numpy).put("numpyRatio", ours / numpy)
                        .put("numpyMaxRelativeEigenvalueDifference", c.numpyCheck);
                ObjectNode byThreads = o.putObject("numpyByBlasThreads");
                c.numpy.forEach((n, s) -> {
                    ObjectNode x = byThreads.putObject(Integer.toString(n));
                    x.put("medianMs", ModularAdditionExperiment.median(s) * 1e3);
                    JsonFiles.array(x, "secondsEach", s);
                });
            }
            o.put("baselineMedianMs", base).put("speedup", base / ours).put("maxRelativeEigenvalueDifference", c.check);
            JsonFiles.array(o, "secondsEach", c.ours);
            JsonFiles.array(o, "baselineSecondsEach", c.baseline);
        }
        System.out.print(t.render());
        for (Case c : cases) {
            System.out.println(c.name + ": " + c.what);
            c.numpy.forEach((n, s) -> System.out.printf("  numpy with %d BLAS thread%s: median %.1f ms%n", n,
                    n == 1 ? "" : "s", ModularAdditionExperiment.median(s) * 1e3));
        }
        if (cases.stream().anyMatch(c -> !c.numpy.isEmpty())) {
            System.out.printf("grokwatch/numpy compares with numpy's fastest BLAS-thread setting; eigenvalues of one "
                    + "checkpoint must agree with numpy's to %.0e relative (top %d).%n", NUMPY_EIGENVALUE_TOLERANCE,
                    TOP_K);
        }
        if (out != null) {
            root.put("warmup", warmup).put("reps", reps).put("cores", cores);
            JsonFiles.write(out, root);
        }
        for (Case c : cases) {
            if (c.numpyCheck > NUMPY_EIGENVALUE_TOLERANCE && !c.name.contains("experiment")) {
                System.err.printf("%s: eigenvalues differ from numpy's by %.3e relative, above %.0e%n", c.name,
                        c.numpyCheck, NUMPY_EIGENVALUE_TOLERANCE);
                return 1;
            }
        }
        return 0;
    }

    /** Eigenvalues reported per spectrum, as the experiment's default {@code --top-k}. */
    static final int TOP_K = 200;

    private List<Case> modularAddition(NumpyPeer peer, Path work, List<Integer> threads) throws Exception {
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
        Map<Integer, double[]> numpy = new LinkedHashMap<>();
        double[] numpyValues = null;
        ModularAdditionAnalyzer.Result[] full64 = new ModularAdditionAnalyzer.Result[1];
        ModularAdditionAnalyzer.Result[] full32 = new ModularAdditionAnalyzer.Result[1];
        int cores = Runtime.getRuntime().availableProcessors();
        try (ModularAdditionAnalyzer core = new ModularAdditionAnalyzer(p, TOP_K, false);
             ModularAdditionAnalyzer full = new ModularAdditionAnalyzer(p, TOP_K, true);
             ModularAdditionAnalyzer full32bit = new ModularAdditionAnalyzer(p, TOP_K, true, cores,
                     io.grokwatch.linalg.Precision.FLOAT32)) {
            if (peer == null) {
                ours = time("modular-addition p=" + p, () -> last[0] = core.analyze(net), reps, warmup);
            } else {
                Path weights = work.resolve("weights.safetensors");
                Safetensors.write(TensorFile.of(tensor("W1", params[0].get(ModularAdditionTask.W1)),
                        tensor("W2", params[0].get(ModularAdditionTask.W2))), weights);
                ours = new double[reps];
                List<NumpyPeer.Server> servers = new ArrayList<>();
                try {
                    for (int n : threads) {
                        servers.add(peer.serve(n, weights, p, TOP_K));
                        numpy.put(n, new double[reps]);
                    }
                    // In turn, rep by rep: grokwatch, then numpy at each thread setting, so that all of them see the
                    // same load on a shared machine. The warm-up is the same for both sides.
                    try (ProgressBar bar = new ProgressBar("modular-addition p=" + p + " and numpy", warmup + reps)) {
                        for (int i = 0; i < warmup + reps; i++) {
                            long t0 = System.nanoTime();
                            last[0] = core.analyze(net);
                            double s = (System.nanoTime() - t0) / 1e9;
                            for (NumpyPeer.Server server : servers) {
                                JsonNode r = server.analyse();
                                if (i >= warmup) {
                                    numpy.get(server.threads)[i - warmup] = r.get("seconds").asDouble();
                                }
                                numpyValues = doubles(r.get("eigenvalues"));
                            }
                            if (i >= warmup) {
                                ours[i - warmup] = s;
                            }
                            bar.update(i + 1, i < warmup ? "warm-up" : "");
                        }
                    }
                } finally {
                    servers.forEach(NumpyPeer.Server::close);
                }
            }
            withLayers = time("modular-addition p=" + p + " + layer spectra", () -> full64[0] = full.analyze(net),
                    reps, warmup);
            single = time("modular-addition p=" + p + " + layer spectra, float32",
                    () -> full32[0] = full32bit.analyze(net), reps, warmup);
        }
        double singleError = 0;
        for (String layer : full64[0].layers().keySet()) {
            singleError = Math.max(singleError, maxRelativeDifference(full64[0].layers().get(layer).eigenvalues(),
                    full32[0].layers().get(layer).eigenvalues(), TOP_K));
        }
        singleError = Math.max(singleError, maxRelativeDifference(full64[0].all().eigenvalues(),
                full32[0].all().eigenvalues(), TOP_K));
        double[][] baselineValues = new double[1][];
        double[] base;
        try (ModularAdditionAnalyzer forProbes = new ModularAdditionAnalyzer(p, TOP_K, false)) {
            base = time("naive baseline p=" + p, () -> baselineValues[0] = naiveModularAddition(net, forProbes),
                    baselineReps, 0);
        }
        double check = baselineValues[0] == null ? Double.NaN
                : maxRelativeDifference(baselineValues[0], last[0].all().eigenvalues(), 50);
        double numpyCheck = numpyValues == null ? Double.NaN
                : maxRelativeDifference(numpyValues, last[0].all().eigenvalues(), TOP_K);
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("modular-addition p=" + p, "per-checkpoint analysis: both layer kernels, whole-model "
                + "top-200 eigenpairs, cliff overlaps with n/m/sum/diff (numpy: the same kernels, one eigh, the same "
                + "overlaps, on the same weights)", ours, numpy, base, check, numpyCheck));
        cases.add(new Case("modular-addition p=" + p + " + layer spectra", "the same plus each layer kernel's own "
                + "top-200 spectrum and cliff overlaps", withLayers, base, check));
        // Baseline column: the float64 analysis, so the ratio is float32's speed-up; the error column compares the
        // two (top 200 of the whole model and each layer), not the naive baseline.
        cases.add(new Case("modular-addition p=" + p + " + layer spectra, float32", "the same with float32 "
                + "reductions; baseline = the float64 run above, error = max relative difference of the top-200 "
                + "eigenvalues (whole model and each layer) from float64", single, withLayers, singleError));
        return cases;
    }

    /**
     * The whole experiment, one process per side and run, in turn: {@code grokwatch experiment modular-addition
     * --no-layers} in a fresh JVM against the numpy peer training the same model from the same initial weights and
     * split (both evaluate, form both layer kernels, solve the whole-model spectrum and measure the overlaps at
     * every checkpoint). Times are wall seconds from process start to exit, start-up included on both sides.
     */
    private Case experiment(NumpyPeer peer, Path work, List<Integer> threads) throws Exception {
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(p, width, 0.7, 0.05, 0.01,
                experimentEpochs, 0);
        ModularAdditionTask task = ModularAdditionTask.create(config);
        Parameters init = task.parameters();
        int[] train = task.trainIndices();
        double[] trainRows = new double[train.length];
        for (int i = 0; i < train.length; i++) {
            trainRows[i] = train[i];
        }
        Path state = work.resolve("initial.safetensors");
        Safetensors.write(TensorFile.of(tensor("W1", init.get(ModularAdditionTask.W1)),
                tensor("W2", init.get(ModularAdditionTask.W2)),
                Tensor.f64("train", new long[] {train.length}, trainRows)), state);
        double[] ours = new double[experimentRepeats];
        Map<Integer, double[]> numpy = new LinkedHashMap<>();
        threads.forEach(n -> numpy.put(n, new double[experimentRepeats]));
        JsonNode oursFinal = null;
        JsonNode numpyFinal = null;
        String label = "experiment p=" + p + ", " + experimentEpochs + " epochs";
        try (ProgressBar bar = new ProgressBar(label + ", grokwatch and numpy", experimentRepeats)) {
            for (int r = 0; r < experimentRepeats; r++) {
                Path json = work.resolve("experiment-" + r + ".json");
                long t0 = System.nanoTime();
                runOurExperiment(json);
                ours[r] = (System.nanoTime() - t0) / 1e9;
                JsonNode cps = JsonFiles.MAPPER.readTree(json.toFile()).get("checkpoints");
                oursFinal = cps.get(cps.size() - 1);
                for (int n : threads) {
                    NumpyPeer.Experiment e = peer.experiment(n, state, p, experimentEpochs, experimentEvery, 0.05,
                            0.01, TOP_K);
                    numpy.get(n)[r] = e.wallSeconds();
                    JsonNode npc = e.result().get("checkpoints");
                    numpyFinal = npc.get(npc.size() - 1);
                }
                bar.update(r + 1, "");
            }
        }
        // Both trained the same model from the same start; their arithmetic differs in summation order only, so
        // the final spectra agree closely but not to the last digit (reported, not enforced).
        double check = maxRelativeDifference(doubles(numpyFinal.get("eigenvalues")),
                doubles(oursFinal.get("eigenvalues")), TOP_K);
        return new Case(label, String.format("the whole run as one process each side, start-up included: train, and "
                + "every %d epochs evaluate, form both layer kernels, the whole-model top-%d spectrum and the cliff "
                + "overlaps (grokwatch: experiment modular-addition --no-layers, training and analysis overlapping; "
                + "numpy: the same from the same initial weights and split, one step after the other); final test "
                + "accuracy %.3f grokwatch, %.3f numpy; eig diff at the last checkpoint", experimentEvery, TOP_K,
                oursFinal.get("testAccuracy").asDouble(), numpyFinal.get("testAccuracy").asDouble()),
                ours, numpy, new double[0], Double.NaN, check);
    }

    /**
     * {@code grokwatch experiment modular-addition --no-layers} in a fresh JVM with this one's class path and the JVM
     * options the launcher gives {@code experiment} (huge pages, C1 only: see the grokwatch script).
     */
    private void runOurExperiment(Path json) throws java.io.IOException, InterruptedException {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(javaBin, "-XX:+UseTransparentHugePages", "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "experiment", "modular-addition",
                "--p", Integer.toString(p), "--width", Integer.toString(width), "--epochs",
                Integer.toString(experimentEpochs), "--every", Integer.toString(experimentEvery), "--top-k",
                Integer.toString(TOP_K), "--no-layers", "--out", json.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        // What the launcher sets (one BLAS thread per solve) unless the caller chose otherwise.
        pb.environment().putIfAbsent("OPENBLAS_NUM_THREADS", "1");
        Process proc = pb.start();
        String stdout = new String(proc.getInputStream().readAllBytes());
        if (!proc.waitFor(2, java.util.concurrent.TimeUnit.HOURS) || proc.exitValue() != 0) {
            throw new IllegalStateException("grokwatch experiment failed: " + stdout);
        }
    }

    private static Tensor tensor(String name, io.grokwatch.linalg.Matrix m) {
        return Tensor.f64(name, new long[] {m.rows(), m.cols()}, m.data());
    }

    private static double[] doubles(JsonNode array) {
        double[] d = new double[array.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = array.get(i).asDouble();
        }
        return d;
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

package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.entk.Entk;
import io.grokwatch.features.Cliffs;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.linalg.TopEigenSolver;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;
import io.grokwatch.trainer.ModularAdditionTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code grokwatch bench solver}: the whole-model class-mean kernel of consecutive checkpoints of a real
 * modular-addition run, solved three ways in one process: full dense (LAPACK tridiagonalisation), cold LOBPCG
 * (random start) and LOBPCG warm-started from the previous checkpoint's basis. Same tolerance for both
 * iterative solves, so the ratio compares solves of the same accuracy.
 */
@Command(name = "solver", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Cold vs warm-started LOBPCG vs full dense decomposition of the whole-model eNTK on "
                + "consecutive checkpoints of a real modular-addition run: time, iterations, achieved residual, "
                + "eigenvalue agreement with the dense solve, and peak heap.",
                "Example: grokwatch bench solver --p 29,59 --checkpoints 4"})
final class BenchSolverCommand implements Callable<Integer> {
    @Option(names = "--p", split = ",", description = "Moduli. Default: ${DEFAULT-VALUE}.")
    List<Integer> moduli = new ArrayList<>(List.of(29, 59));
    @Option(names = "--width", description = "Hidden width. Default: ${DEFAULT-VALUE}.")
    int width = 512;
    @Option(names = "--train-epochs", description = "Epochs before the first timed checkpoint. Default: ${DEFAULT-VALUE}.")
    int trainEpochs = 60;
    @Option(names = "--every", description = "Epochs between consecutive checkpoints. Default: ${DEFAULT-VALUE}.")
    int every = 1;
    @Option(names = "--checkpoints", description = "Consecutive checkpoints timed (the first only cold). Default: ${DEFAULT-VALUE}.")
    int checkpoints = 4;
    @Option(names = "--top-k", description = "Eigenpairs wanted (at least the second cliff, 4(p-1)+2). Default: ${DEFAULT-VALUE}.")
    int topK = 200;
    @Option(names = "--tolerance", description = "Residual tolerance of both iterative solves. Default: ${DEFAULT-VALUE}.")
    double tolerance = 1e-6;
    @Option(names = "--dense", description = "Also time the full dense decomposition (costly at large p). Default: ${DEFAULT-VALUE}.")
    boolean dense = true;
    @Option(names = "--out", description = "Optional JSON file with every measurement.")
    Path out;

    @Override
    public Integer call() throws java.io.IOException {
        if (checkpoints < 2 || every < 1 || trainEpochs < 0) {
            throw new IllegalArgumentException("--checkpoints must be >= 2, --every >= 1, --train-epochs >= 0");
        }
        Table t = new Table("p", "n", "k", "checkpoint", "method", "ms", "iterations", "residual", "max rel. eig diff",
                "peak heap MB");
        ObjectNode root = JsonFiles.object();
        for (int p : moduli) {
            bench(p, t, root.putArray("p" + p));
        }
        System.out.print(t.render());
        if (out != null) {
            JsonFiles.write(out, root);
        }
        return 0;
    }

    private void bench(int p, Table t, com.fasterxml.jackson.databind.node.ArrayNode json) {
        ModularAdditionTask task = ModularAdditionTask.create(new ModularAdditionTask.Config(p, width, 0.7, 0.05, 0.01,
                trainEpochs + every * (checkpoints - 1), 0));
        List<Parameters> snapshots = new ArrayList<>();
        int last = trainEpochs + every * (checkpoints - 1);
        try (ProgressBar bar = new ProgressBar("training p=" + p, last)) {
            task.run(1, (epoch, step, params, metrics) -> {
                bar.update(epoch, "");
                if (epoch >= trainEpochs && (epoch - trainEpochs) % every == 0) {
                    snapshots.add(params.copy());
                }
                return true;
            });
        }
        Matrix probes = ModularAddition.inputs(p);
        int k = Math.max(topK, Cliffs.modularAddition(p).second().last() + 2);
        TopEigenSolver.Options options = TopEigenSolver.Options.DEFAULT.withTolerance(tolerance);
        Matrix previous = null;
        List<Double> warmMs = new ArrayList<>();
        List<Double> coldMs = new ArrayList<>();
        for (int c = 0; c < snapshots.size(); c++) {
            Entk entk = new Entk(new Network(task.description(), snapshots.get(c)), probes);
            Matrix kernel = null;
            for (String g : entk.groups()) {
                Matrix kg = entk.classMean(g);
                kernel = kernel == null ? kg : kernel.addInPlace(1.0, kg);
            }
            Matrix kk = kernel;
            int n = kk.rows();
            double[] reference = null;
            String label = "epoch " + (trainEpochs + c * every);
            if (dense) {
                Measured<Eigenpairs> d = measure(() -> SymmetricEigen.top(kk, k, k));
                reference = d.value.values();
                row(t, json, p, n, k, label, "dense", d, 0, SymmetricEigen.residual(kk, d.value.values(),
                        d.value.vectors()), 0);
            }
            Measured<TopEigenSolver.Solution> cold = measure(() -> TopEigenSolver.solve(SymmetricOperator.of(kk), k,
                    null, options));
            coldMs.add(cold.seconds * 1e3);
            row(t, json, p, n, k, label, "cold", cold, cold.value.report().iterations(), cold.value.report().residual(),
                    diff(reference, cold.value.pairs().values()));
            if (previous != null) {
                Matrix start = previous;
                Measured<TopEigenSolver.Solution> warm = measure(() -> TopEigenSolver.solve(SymmetricOperator.of(kk), k,
                        start, options));
                warmMs.add(warm.seconds * 1e3);
                row(t, json, p, n, k, label, warm.value.report().fellBack() ? "warm->cold" : "warm", warm,
                        warm.value.report().iterations(), warm.value.report().residual(),
                        diff(reference, warm.value.pairs().values()));
                previous = warm.value.basis();
            } else {
                previous = cold.value.basis();
            }
        }
        double cm = ModularAdditionExperiment.median(coldMs.stream().mapToDouble(Double::doubleValue).toArray());
        double wm = ModularAdditionExperiment.median(warmMs.stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf("p=%d: median cold %.0f ms, median warm %.0f ms, warm speed-up %.1fx%n", p, cm, wm, cm / wm);
    }

    private record Measured<T>(T value, double seconds, double peakMb) {
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

    private static double diff(double[] reference, double[] values) {
        if (reference == null) {
            return Double.NaN;
        }
        double worst = 0;
        for (int i = 0; i < Math.min(reference.length, values.length); i++) {
            worst = Math.max(worst, Math.abs(reference[i] - values[i]) / Math.abs(reference[i]));
        }
        return worst;
    }

    private static void row(Table t, com.fasterxml.jackson.databind.node.ArrayNode json, int p, int n, int k,
                            String label, String method, Measured<?> m, int iterations, double residual, double diff) {
        t.row(p, n, k, label, method, m.seconds * 1e3, iterations, residual, diff, m.peakMb);
        json.addObject().put("p", p).put("n", n).put("k", k).put("checkpoint", label).put("method", method)
                .put("ms", m.seconds * 1e3).put("iterations", iterations).put("residual", residual)
                .put("maxRelativeEigenvalueDifference", diff).put("peakHeapMb", m.peakMb);
    }
}

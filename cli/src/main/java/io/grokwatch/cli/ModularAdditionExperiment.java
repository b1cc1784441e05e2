package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.ModularAdditionAnalyzer;
import io.grokwatch.analysis.SpectrumSummary;
import io.grokwatch.features.Family;
import io.grokwatch.features.RotatedCliff;
import io.grokwatch.features.RotatedVector;
import io.grokwatch.model.Network;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.TrainingMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** {@code grokwatch experiment modular-addition}: the grokking experiment, trained and analysed offline. */
@Command(name = "modular-addition", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train the 1-hidden-layer MLP on (a + b) mod p and analyse its class-mean eNTK every few "
                + "epochs: spectrum, cliff overlaps with the Fourier families n, m, sum, diff, and the per-layer "
                + "kernels. Writes JSON; prints a summary table.",
                "Example: grokwatch experiment modular-addition --p 29 --epochs 500 --out ma.json"})
final class ModularAdditionExperiment implements Callable<Integer> {
    @Option(names = "--p", description = "Modulus (prime for the cliff structure). Default: ${DEFAULT-VALUE}.")
    int p = 29;
    @Option(names = "--width", description = "Hidden width H. Default: ${DEFAULT-VALUE}.")
    int width = 512;
    @Option(names = "--alpha", description = "Training fraction of the p^2 pairs. Default: ${DEFAULT-VALUE}.")
    double alpha = 0.7;
    @Option(names = "--lr", description = "AdamW learning rate. Default: ${DEFAULT-VALUE}.")
    double lr = 0.05;
    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay = 0.01;
    @Option(names = "--epochs", description = "Full-batch epochs. Default: ${DEFAULT-VALUE}.")
    int epochs = 500;
    @Option(names = "--seed", description = "Seed of the split and the initialisation. Default: ${DEFAULT-VALUE}.")
    long seed = 0;
    @Option(names = "--every", description = "Analyse a checkpoint every N epochs. Default: ${DEFAULT-VALUE}.")
    int every = 10;
    @Option(names = "--top-k", description = "Eigenvalues reported per spectrum. Default: ${DEFAULT-VALUE}.")
    int topK = 200;
    @Option(names = "--no-layers", description = "Skip the per-layer spectra (faster).")
    boolean noLayers;
    @Option(names = "--precision", description = "Arithmetic of the dense eigendecompositions and of "
            + "the kernel products of iterative solves: float64 or float32. "
            + "Default: ${DEFAULT-VALUE}.")
    String precision = "float64";
    @picocli.CommandLine.Mixin
    DetectorOptions detectorOptions;
    @Option(names = "--out", required = true, description = "JSON file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        ModularAdditionTask.Config config = new ModularAdditionTask.Config(p, width, alpha, lr, weightDecay, epochs, seed);
        io.grokwatch.detect.DetectorSuite detectors = detectorOptions.suite(); // validated before training
        if (every <= 0) {
            throw new IllegalArgumentException("--every must be a positive number of epochs, got " + every);
        }
        io.grokwatch.linalg.Precision prec = TaskOptions.parsePrecision(precision);
        long wall0 = System.nanoTime();
        ModularAdditionTask task = ModularAdditionTask.create(config);
        // Checkpoints are analysed by independent workers, each single-threaded: across-checkpoint parallelism
        // keeps both cores busy while the trainer runs ahead.
        int workers = Math.max(1, Runtime.getRuntime().availableProcessors());
        ThreadLocal<ModularAdditionAnalyzer> analyzers = new ThreadLocal<>();
        List<ModularAdditionAnalyzer> created = java.util.Collections.synchronizedList(new ArrayList<>());
        ModularAdditionAnalyzer main = ModularAdditionAnalyzer.onCallerThread(p, topK, !noLayers, prec);
        created.add(main);
        int total = epochs / every + 1 + (epochs % every == 0 ? 0 : 1);

        List<Row> rows = new ArrayList<>();
        List<Future<ModularAdditionAnalyzer.Result>> pending = new ArrayList<>();
        // Training and analysis overlap: the trainer runs ahead while the analysis thread works through
        // checkpoints in order.
        ExecutorService analysis = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "analysis");
            t.setDaemon(true);
            return t;
        });
        double[] trainSeconds = {0};
        try (ProgressBar bar = new ProgressBar("modular-addition p=" + p, total)) {
            long[] trainStart = {System.nanoTime()};
            task.run(every, (epoch, step, params, metrics) -> {
                trainSeconds[0] += (System.nanoTime() - trainStart[0]) / 1e9;
                Network net = new Network(task.description(), params);
                rows.add(new Row(epoch, step, metrics));
                pending.add(analysis.submit(() -> {
                    ModularAdditionAnalyzer a = analyzers.get();
                    if (a == null) {
                        a = ModularAdditionAnalyzer.onCallerThread(p, topK, !noLayers, prec);
                        analyzers.set(a);
                        created.add(a);
                    }
                    return slim(a.analyze(net), epoch == epochs);
                }));
                trainStart[0] = System.nanoTime();
                return true;
            });
            for (int i = 0; i < pending.size(); i++) {
                rows.get(i).result = get(pending.get(i));
                Row r = rows.get(i);
                bar.update(i + 1, String.format("epoch %d test acc %.2f", r.epoch, r.metrics.testAccuracy()));
            }
        } finally {
            analysis.shutdownNow();
            created.forEach(ModularAdditionAnalyzer::close);
        }
        Row last = rows.get(rows.size() - 1);
        Map<String, RotatedCliff> rotation = main.rotate(last.result);
        // The detectors see the checkpoints in order, exactly as the streaming analyzer feeds them.
        io.grokwatch.detect.DetectorStates detectorState = detectors.initialState();
        List<io.grokwatch.detect.Alert> alerts = new ArrayList<>();
        for (Row r : rows) {
            var step = detectors.observe(detectorState, new io.grokwatch.detect.Observation(r.epoch, r.step,
                    r.metrics.trainAccuracy(), r.metrics.trainLoss(), r.metrics.testAccuracy(),
                    r.result.all().eigenvalues(), r.result.all().overlaps(), r.result.all().gaps()));
            detectorState = step.state();
            alerts.addAll(step.alerts());
        }
        double wall = (System.nanoTime() - wall0) / 1e9;

        ObjectNode root = JsonFiles.object();
        root.put("experiment", "modular-addition");
        ObjectNode cfg = root.putObject("config");
        cfg.put("p", p).put("width", width).put("alpha", alpha).put("lr", lr).put("weightDecay", weightDecay)
                .put("epochs", epochs).put("seed", seed).put("every", every).put("topK", topK);
        ArrayNode cps = root.putArray("checkpoints");
        for (Row r : rows) {
            cps.add(checkpointJson(r));
        }
        ArrayNode alertsJson = root.putArray("alerts");
        alerts.forEach(a -> alertsJson.add(JsonFiles.tree(a)));
        ObjectNode fin = root.putObject("final");
        fin.put("epoch", last.epoch);
        ObjectNode rot = fin.putObject("rotation");
        rotation.forEach((cliff, rc) -> rot.set(cliff, rotationJson(rc)));
        ObjectNode timing = root.putObject("timings");
        timing.put("wallSeconds", wall).put("trainSeconds", trainSeconds[0]);
        timing.put("analysisSecondsMedian", median(rows.stream().mapToDouble(r -> r.result.kernelSeconds()
                + r.result.eigenSeconds() + r.result.layerSeconds()).toArray()));
        JsonFiles.write(out, root);

        System.out.println(summary(rows, rotation));
        for (io.grokwatch.detect.Alert a : alerts) {
            System.out.printf("alert %-15s at epoch %d (confidence %.2f): %s%n", a.type(), a.epoch(), a.confidence(),
                    a.evidence().signal());
        }
        System.out.printf("wrote %s (%d checkpoints) in %.1f s%n", out, rows.size(), wall);
        return 0;
    }

    /**
     * What a row keeps of a checkpoint's result: its summaries, and the cliff vectors only for the last checkpoint,
     * the one rotated. A p = 113 result also holds 12,769 x 450 cliff vectors and every kernel's basis, which for
     * every checkpoint of a run would not fit the heap (measured: docs/benchmarks.md).
     */
    static ModularAdditionAnalyzer.Result slim(ModularAdditionAnalyzer.Result r, boolean keepVectors) {
        return keepVectors ? r : new ModularAdditionAnalyzer.Result(r.all(), r.layers(), null, null, Map.of(),
                r.kernelSeconds(), r.eigenSeconds(), r.layerSeconds());
    }

    private static ModularAdditionAnalyzer.Result get(Future<ModularAdditionAnalyzer.Result> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        }
    }

    private static final class Row {
        final int epoch;
        final long step;
        final TrainingMetrics metrics;
        ModularAdditionAnalyzer.Result result;

        Row(int epoch, long step, TrainingMetrics metrics) {
            this.epoch = epoch;
            this.step = step;
            this.metrics = metrics;
        }
    }

    static ObjectNode checkpointJson(Row r) {
        ObjectNode o = JsonFiles.object();
        o.put("epoch", r.epoch).put("step", r.step);
        JsonFiles.putFinite(o, "trainAccuracy", r.metrics.trainAccuracy());
        JsonFiles.putFinite(o, "testAccuracy", r.metrics.testAccuracy());
        JsonFiles.putFinite(o, "trainLoss", r.metrics.trainLoss());
        JsonFiles.putFinite(o, "testLoss", r.metrics.testLoss());
        o.setAll(JsonFiles.tree(r.result.all().toRecord()));
        ObjectNode layers = o.putObject("layers");
        r.result.layers().forEach((g, s) -> layers.set(g, JsonFiles.tree(s.toRecord())));
        ObjectNode t = o.putObject("timings");
        t.put("kernelSeconds", r.result.kernelSeconds()).put("eigenSeconds", r.result.eigenSeconds())
                .put("layerSeconds", r.result.layerSeconds());
        return o;
    }

    static ObjectNode rotationJson(RotatedCliff rc) {
        ObjectNode o = JsonFiles.object();
        var s = rc.summary();
        o.put("vectors", s.vectorCount()).put("meanBestAlignment", s.meanBestAlignment())
                .put("minBestAlignment", s.minBestAlignment()).put("cleanThreshold", s.cleanThreshold())
                .put("cleanVectors", s.cleanVectors()).put("distinctModes", s.distinctModes());
        ArrayNode per = o.putArray("perVector");
        for (RotatedVector v : rc.perVector()) {
            per.addObject().put("index", v.index()).put("family", v.best().family().label())
                    .put("frequency", v.best().frequency()).put("alignment", v.best().alignment());
        }
        return o;
    }

    private static String summary(List<Row> rows, Map<String, RotatedCliff> rotation) {
        Table t = new Table("epoch", "train acc", "test acc", "top eig", "n (1st)", "m (1st)", "sum (2nd)",
                "diff (2nd)", "gap 2nd end");
        for (Row r : rows) {
            SpectrumSummary s = r.result.all();
            Map<Family, Double> c1 = s.overlaps().get("firstCliff");
            Map<Family, Double> c2 = s.overlaps().get("secondCliff");
            t.row(r.epoch, r.metrics.trainAccuracy(), r.metrics.testAccuracy(), s.eigenvalues()[0],
                    c1 == null ? Double.NaN : c1.get(Family.N), c1 == null ? Double.NaN : c1.get(Family.M),
                    c2 == null ? Double.NaN : c2.get(Family.SUM), c2 == null ? Double.NaN : c2.get(Family.DIFF),
                    s.gaps().getOrDefault("endOfSecondCliff", Double.NaN));
        }
        StringBuilder sb = new StringBuilder(t.render());
        rotation.forEach((cliff, rc) -> sb.append(String.format(
                "rotation of %s: %d of %d vectors single-mode (alignment >= %.2f), %d distinct modes, mean best %.3f%n",
                cliff, rc.summary().cleanVectors(), rc.summary().vectorCount(), rc.summary().cleanThreshold(),
                rc.summary().distinctModes(), rc.summary().meanBestAlignment())));
        return sb.toString();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}

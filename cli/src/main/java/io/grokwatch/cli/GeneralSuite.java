package io.grokwatch.cli;

import io.grokwatch.analysis.ModularAdditionAnalyzer;
import io.grokwatch.detect.Alert;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.detect.GeneralOnsetDetector;
import io.grokwatch.detect.GrokkingOnsetDetector;
import io.grokwatch.detect.Observation;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Network;
import io.grokwatch.probe.ModularAddition;
import io.grokwatch.probe.ModularOperation;
import io.grokwatch.probe.TrainSplit;
import io.grokwatch.run.SplitSignals;
import io.grokwatch.trainer.FullBatchTask;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.SparseParityTask;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The runs of {@code evaluate-detector --suite general}: tasks the family-free onset detector was not tuned on
 * (docs/science.md says which runs tuned it), each trained here and observed at every checkpoint with its train split.
 */
final class GeneralSuite {
    private GeneralSuite() {
    }

    /**
     * One run.
     *
     * @param task   an operation name of {@link ModularOperation}, {@code random} (random labels) or {@code parity}
     * @param p      modulus (modular tasks)
     * @param alpha  training fraction (modular tasks)
     * @param train  training samples (parity)
     * @param every  checkpoint interval in epochs
     * @param epochs epochs
     */
    record Spec(String task, int p, double alpha, int train, long seed, int every, int epochs) {
        /** A run read from a directory of checkpoints (e.g. written by a PyTorch trainer), named by the directory. */
        static Spec checkpoints(Path dir) {
            return new Spec("checkpoints:" + dir, 0, 0, 0, 0, 0, 0);
        }

        String label() {
            if (task.startsWith("checkpoints:")) {
                return "checkpoints " + task.substring("checkpoints:".length());
            }
            return switch (task) {
                case "parity" -> String.format("parity n=40 k=3 train=%d seed %d", train, seed);
                case "random" -> String.format("random labels p=%d alpha=%.1f seed %d", p, alpha, seed);
                default -> String.format("%s p=%d alpha=%.1f seed %d", ModularOperation.valueOf(task).label(), p,
                        alpha, seed);
            };
        }

        /** Held-out accuracy of a guess: the hit window is measured above it (0 on the mod-p tasks, as issued). */
        double chance() {
            return task.equals("parity") ? 0.5 : 0.0;
        }
    }

    /** What one run produced: the window's epochs, the first alert of each kind, -1 where none. */
    record Result(Spec spec, long test10, long test90, long general, long fourier, long generalization,
                  List<String> trace) {
        boolean generalises() {
            return test10 >= 0;
        }

        /** The general onset alert inside [test10 - 30, test90] (test90 unreached: the run's end). */
        boolean hit() {
            return generalises() && general >= 0 && general >= test10 - 30
                    && (test90 < 0 || general <= test90);
        }

        boolean falseAlarm() {
            return !generalises() && general >= 0;
        }

        boolean miss() {
            return generalises() && !hit();
        }

        String verdict() {
            if (hit()) {
                return "hit";
            }
            if (falseAlarm()) {
                return "FALSE ALARM";
            }
            if (!generalises()) {
                return "quiet (correct)";
            }
            return general < 0 ? "MISS (no alert)" : general < test10 - 30 ? "MISS (early)" : "MISS (late)";
        }
    }

    static List<Spec> runs(String suite) {
        return switch (suite) {
            case "general" -> List.of(
                    new Spec("ADD", 23, 0.7, 0, 1, 10, 500), new Spec("ADD", 31, 0.7, 0, 2, 10, 500),
                    new Spec("SUBTRACT", 29, 0.7, 0, 1, 10, 500), new Spec("SUBTRACT", 31, 0.7, 0, 0, 10, 500),
                    new Spec("MULTIPLY", 31, 0.7, 0, 1, 10, 500), new Spec("MULTIPLY", 23, 0.7, 0, 2, 10, 500),
                    new Spec("QUADRATIC", 29, 0.7, 0, 1, 10, 500), new Spec("QUADRATIC", 31, 0.7, 0, 0, 10, 500),
                    new Spec("parity", 0, 0, 2000, 0, 50, 2000), new Spec("parity", 0, 0, 1000, 0, 50, 2000),
                    new Spec("ADD", 31, 0.3, 0, 1, 10, 500), new Spec("ADD", 23, 0.2, 0, 2, 10, 500),
                    new Spec("MULTIPLY", 29, 0.3, 0, 1, 10, 500),
                    new Spec("random", 31, 0.7, 0, 1, 10, 500), new Spec("random", 23, 0.7, 0, 2, 10, 500));
            case "tuning" -> List.of(new Spec("ADD", 29, 0.7, 0, 0, 10, 300), new Spec("MULTIPLY", 29, 0.7, 0, 0, 10, 300),
                    new Spec("ADD", 29, 0.3, 0, 0, 10, 300), new Spec("random", 29, 0.7, 0, 0, 10, 300));
            case "general-smoke" -> List.of(new Spec("ADD", 29, 0.7, 0, 0, 10, 150),
                    new Spec("random", 23, 0.7, 0, 0, 10, 150));
            default -> throw new IllegalArgumentException("no general suite '" + suite + "'");
        };
    }

    static Result run(Spec r, DetectorSuite detectors) {
        FullBatchTask task;
        Matrix probes;
        boolean[] train;
        int[] probeLabels;
        int classes;
        if (r.task().equals("parity")) {
            SparseParityTask t = SparseParityTask.create(new SparseParityTask.Config(40, 3, r.train(), 1000, 128,
                    0.01, 0.1, r.epochs(), r.seed()));
            task = t;
            Matrix a = t.trainInputs();
            Matrix b = t.testInputs();
            probes = new Matrix(a.rows() + b.rows(), a.cols());
            System.arraycopy(a.data(), 0, probes.data(), 0, a.data().length);
            System.arraycopy(b.data(), 0, probes.data(), a.data().length, b.data().length);
            train = new boolean[probes.rows()];
            java.util.Arrays.fill(train, 0, a.rows(), true);
            probeLabels = new int[probes.rows()];
            System.arraycopy(t.trainLabels(), 0, probeLabels, 0, a.rows());
            classes = 2;
        } else {
            int[] labels = r.task().equals("random") ? ModularOperation.randomLabels(r.p(), r.seed())
                    : ModularOperation.valueOf(r.task()).labels(r.p());
            ModularAdditionTask t = ModularAdditionTask.create(new ModularAdditionTask.Config(r.p(), 512, r.alpha(),
                    0.05, 0.01, r.epochs(), r.seed()), labels);
            task = t;
            probes = ModularAddition.inputs(r.p());
            train = new boolean[probes.rows()];
            for (int i : t.trainIndices()) {
                train[i] = true;
            }
            probeLabels = labels;
            classes = r.p();
        }
        TrainSplit split = split(train, probeLabels);
        ModularAdditionAnalyzer spectra = r.task().equals("parity") ? null
                : new ModularAdditionAnalyzer(r.p(), 4 * (r.p() - 1) + 2, false);
        io.grokwatch.detect.DetectorStates[] state = {detectors.initialState()};
        List<String> trace = new java.util.ArrayList<>();
        trace.add("epoch,trainAccuracy,testAccuracy,heldOutConfidence,kernelConfidence,labelAlignment");
        long[] t = {-1, -1, -1, -1, -1};
        double chance = r.chance();
        task.run(r.every(), (epoch, step, params, m) -> {
            double above = (m.testAccuracy() - chance) / (1 - chance);
            if (t[0] < 0 && above >= 0.10) {
                t[0] = epoch;
            }
            if (t[1] < 0 && above >= 0.90) {
                t[1] = epoch;
            }
            Network net = new Network(task.description(), params);
            SplitSignals signals = SplitSignals.of(net, probes, split);
            trace.add(String.format(java.util.Locale.ROOT, "%d,%.4f,%.4f,%.5f,%.5f,%.5f", epoch, m.trainAccuracy(),
                    m.testAccuracy(), signals.heldOutConfidence(), signals.kernelConfidence(),
                    signals.labelAlignment()));
            Observation o;
            if (spectra != null) {
                ModularAdditionAnalyzer.Result res = spectra.analyze(net);
                o = new Observation(epoch, step, m.trainAccuracy(), m.trainLoss(), m.testAccuracy(),
                        res.all().eigenvalues(), res.all().overlaps(), res.all().gaps(), signals.heldOutConfidence(),
                        signals.kernelConfidence(), signals.labelAlignment());
            } else {
                o = new Observation(epoch, step, m.trainAccuracy(), m.trainLoss(), m.testAccuracy(), new double[0],
                        java.util.Map.of(), java.util.Map.of(), signals.heldOutConfidence(),
                        signals.kernelConfidence(), signals.labelAlignment());
            }
            DetectorSuite.Step s = detectors.observe(state[0], o);
            state[0] = s.state();
            record(s.alerts(), t);
            return true;
        });
        if (spectra != null) {
            spectra.close();
        }
        return new Result(r, t[0], t[1], t[2], t[3], t[4], List.copyOf(trace));
    }

    /**
     * A run from a directory the way the analyzer sees it: {@code model.json} (or {@code model.onnx}),
     * {@code probes.safetensors} with its train split, and {@code step-<n>.safetensors} checkpoints whose metadata
     * carry the accuracies; each analysed by {@link io.grokwatch.run.RunAnalyzer} (whole-model spectrum only).
     */
    static Result fromCheckpoints(Path dir, DetectorSuite detectors) throws java.io.IOException {
        Path model = Files.exists(dir.resolve("model.json")) ? dir.resolve("model.json") : dir.resolve("model.onnx");
        io.grokwatch.run.RunModel runModel = io.grokwatch.run.RunModel.read(model);
        EntkCommand.Probe probe = new EntkCommand.Probe();
        probe.file = dir.resolve("probes.safetensors");
        io.grokwatch.run.ProbeSource probes = EntkCommand.probeSource(probe, runModel, null, 0);
        if (probes.split().isEmpty()) {
            throw new IllegalArgumentException(probe.file + " carries no train split (tensors 'train' and 'labels'); "
                    + "the family-free detector needs one");
        }
        io.grokwatch.run.RunDescriptor descriptor = new io.grokwatch.run.RunDescriptor("evaluate", runModel, probes,
                new io.grokwatch.run.RunDescriptor.AnalysisSettings(io.grokwatch.entk.KernelKind.CLASS_MEAN, 120, false,
                        java.util.Optional.empty(), 1.0, 0), 1, java.util.Map.of("source", "evaluate-detector"));
        List<Path> files;
        java.util.regex.Pattern name = java.util.regex.Pattern.compile("step-(\\d+)\\.safetensors");
        try (java.util.stream.Stream<Path> st = Files.list(dir)) {
            files = st.filter(f -> name.matcher(f.getFileName().toString()).matches())
                    .sorted(java.util.Comparator.comparingLong(f -> {
                        java.util.regex.Matcher m = name.matcher(f.getFileName().toString());
                        return m.matches() ? Long.parseLong(m.group(1)) : -1;
                    })).toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(dir + " holds no step-<n>.safetensors checkpoints");
        }
        io.grokwatch.detect.DetectorStates state = detectors.initialState();
        long[] t = {-1, -1, -1, -1, -1};
        List<String> trace = new java.util.ArrayList<>();
        trace.add("epoch,trainAccuracy,testAccuracy,heldOutConfidence,kernelConfidence,labelAlignment");
        java.util.Map<String, Matrix> bases = java.util.Map.of();
        try (io.grokwatch.run.RunAnalyzer analyzer = new io.grokwatch.run.RunAnalyzer(descriptor)) {
            for (Path f : files) {
                io.grokwatch.safetensors.TensorFile weights = io.grokwatch.safetensors.Safetensors.read(f);
                io.grokwatch.run.CheckpointMetadata m = io.grokwatch.run.CheckpointMetadata.fromMap(weights.metadata());
                if (!Double.isFinite(m.testAccuracy())) {
                    throw new IllegalArgumentException(f + " reports no testAccuracy; the hit window needs it");
                }
                io.grokwatch.run.RunAnalyzer.Analysis a = analyzer.analyze(weights, bases);
                bases = a.bases();
                if (t[0] < 0 && m.testAccuracy() >= 0.10) {
                    t[0] = m.epoch();
                }
                if (t[1] < 0 && m.testAccuracy() >= 0.90) {
                    t[1] = m.epoch();
                }
                Observation o = a.observation(m);
                trace.add(String.format(java.util.Locale.ROOT, "%d,%.4f,%.4f,%.5f,%.5f,%.5f", m.epoch(),
                        m.trainAccuracy(), m.testAccuracy(), o.heldOutConfidence(), o.kernelConfidence(),
                        o.labelAlignment()));
                DetectorSuite.Step s = detectors.observe(state, o);
                state = s.state();
                record(s.alerts(), t);
            }
        }
        return new Result(Spec.checkpoints(dir), t[0], t[1], t[2], t[3], t[4], List.copyOf(trace));
    }

    private static void record(List<Alert> alerts, long[] t) {
        for (Alert a : alerts) {
            int slot = switch (a.type()) {
                case GeneralOnsetDetector.NAME -> 2;
                case GrokkingOnsetDetector.NAME -> 3;
                case "generalization" -> 4;
                default -> -1;
            };
            if (slot >= 0 && t[slot] < 0) {
                t[slot] = a.epoch();
            }
        }
    }

    /** The split with training rows ascending and their labels. */
    static TrainSplit split(boolean[] train, int[] probeLabels) {
        int count = 0;
        for (boolean b : train) {
            count += b ? 1 : 0;
        }
        int[] rows = new int[count];
        int[] labels = new int[count];
        int k = 0;
        for (int i = 0; i < train.length; i++) {
            if (train[i]) {
                rows[k] = i;
                labels[k++] = probeLabels[i];
            }
        }
        return new TrainSplit(rows, labels, train.length);
    }
}

package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.detect.Alert;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.features.Family;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunAnalyzer;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.run.RunModel;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.TensorFile;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code grokwatch experiment checkpoints}: a finished run's checkpoint directory (e.g. a PyTorch run's
 * step-&lt;n&gt;.safetensors) analysed offline in step order by the analyzer's own code, with its detectors.
 */
@Command(name = "checkpoints", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Analyse a run's checkpoint directory offline, in step order, as the streaming analyzer "
                + "would (the same per-checkpoint analysis and detectors), without Kafka: a table per checkpoint, the "
                + "alerts, and JSON with every spectrum.",
                "Example: grokwatch experiment checkpoints --model run/model.onnx --dir run/ "
                        + "--probe modular-addition:p=31,tokens --out run.json"})
final class CheckpointsExperiment implements Callable<Integer> {
    private static final Pattern NAME = Pattern.compile("step-(\\d+)\\.safetensors");

    @Option(names = "--model", required = true, description = "The model: ONNX or grokwatch.model/v1 JSON.")
    Path model;
    @Option(names = "--dir", required = true, description = "Directory of step-<n>.safetensors checkpoints.")
    Path dir;
    @ArgGroup(exclusive = true, multiplicity = "1")
    EntkCommand.Probe probe;
    @Option(names = "--probe-sample", description = "Analyse a uniform sample of this many probes.")
    Integer probeSample;
    @Option(names = "--seed", description = "Seed of --probe-sample. Default: ${DEFAULT-VALUE}.")
    long seed = 0;
    @Option(names = "--top-k", description = "Eigenvalues per spectrum. Default: ${DEFAULT-VALUE}.")
    int topK = 100;
    @Option(names = "--no-layers", description = "Only the whole model's spectrum, not each parameter group's.")
    boolean noLayers;
    @Option(names = "--family-profile", paramLabel = "W", description = "With Fourier families and an ONNX model: "
            + "also write each checkpoint's familyProfile, the share of each family captured by consecutive bands of "
            + "W eigenvectors of the whole model's top-k, to see where the families sit in this model's spectrum. "
            + "Off by default.")
    Integer familyProfile;
    @Mixin
    DetectorOptions detectorOptions;
    @Option(names = "--out", description = "JSON file with every spectrum and alert.")
    Path out;

    @Override
    public Integer call() throws Exception {
        DetectorSuite detectors = detectorOptions.suite();
        RunModel runModel = RunModel.read(model);
        ProbeSource probes = EntkCommand.probeSource(probe, runModel, probeSample, seed);
        RunDescriptor descriptor = new RunDescriptor("offline", runModel, probes,
                new RunDescriptor.AnalysisSettings(io.grokwatch.entk.KernelKind.CLASS_MEAN, topK, !noLayers,
                        Optional.empty(), 1.0, 0), 1, Map.of("source", "checkpoints"));
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(f -> NAME.matcher(f.getFileName().toString()).matches())
                    .sorted(Comparator.comparingLong(CheckpointsExperiment::stepOf)).toList();
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(dir + " holds no step-<n>.safetensors checkpoints");
        }
        ObjectNode root = JsonFiles.object();
        root.put("model", model.toString()).put("probes", probes.name());
        ArrayNode rows = root.putArray("checkpoints");
        ArrayNode alertsJson = root.putArray("alerts");
        Table t = new Table("epoch", "train acc", "test acc", "top eig", "sum/diff overlap", "gap", "seconds");
        io.grokwatch.detect.DetectorStates state = detectors.initialState();
        List<String> alerts = new ArrayList<>();
        Map<String, io.grokwatch.linalg.Matrix> bases = Map.of();
        if (familyProfile != null && familyProfile < 1) {
            throw new IllegalArgumentException("--family-profile must be >= 1, got " + familyProfile);
        }
        try (RunAnalyzer analyzer = new RunAnalyzer(descriptor, Runtime.getRuntime().availableProcessors(),
                familyProfile == null ? 0 : familyProfile); ProgressBar bar = new ProgressBar("analysing",
                files.size())) {
            for (int i = 0; i < files.size(); i++) {
                Path f = files.get(i);
                TensorFile weights = Safetensors.read(f);
                Map<String, String> meta = new java.util.HashMap<>(weights.metadata());
                meta.putIfAbsent(CheckpointMetadata.STEP, Long.toString(stepOf(f)));
                meta.putIfAbsent(CheckpointMetadata.EPOCH, meta.get(CheckpointMetadata.STEP));
                CheckpointMetadata m = CheckpointMetadata.fromMap(meta);
                RunAnalyzer.Analysis a = analyzer.analyze(weights, bases);
                bases = a.bases();
                DetectorSuite.Step st = detectors.observe(state, a.observation(m));
                state = st.state();
                ObjectNode row = rows.addObject();
                row.put("step", m.step()).put("epoch", m.epoch());
                JsonFiles.putFinite(row, "trainAccuracy", m.trainAccuracy());
                JsonFiles.putFinite(row, "testAccuracy", m.testAccuracy());
                row.setAll(JsonFiles.tree(a.spectrum()));
                if (!a.layers().isEmpty()) {
                    ObjectNode layers = row.putObject("layers");
                    a.layers().forEach((g, k) -> layers.set(g, JsonFiles.tree(k)));
                }
                row.set("computed", JsonFiles.tree(a.computed()));
                if (a.split() != io.grokwatch.run.SplitSignals.NONE) {
                    row.set("split", JsonFiles.tree(a.split().toRecord()));
                }
                row.put("seconds", a.seconds());
                Map<Family, Double> second = a.whole().overlaps().getOrDefault("secondCliff", Map.of());
                t.row(m.epoch(), m.trainAccuracy(), m.testAccuracy(), a.whole().eigenvalues()[0],
                        second.isEmpty() ? "-" : String.format("%.2f/%.2f", second.get(Family.SUM), second.get(Family.DIFF)),
                        a.whole().gaps().getOrDefault("endOfSecondCliff", Double.NaN), a.seconds());
                for (Alert alert : st.alerts()) {
                    alertsJson.add(JsonFiles.tree(alert));
                    alerts.add(String.format(">>> ALERT %s at epoch %d (confidence %.2f)", alert.type(), alert.epoch(),
                            alert.confidence()));
                }
                bar.update(i + 1, "epoch " + m.epoch());
            }
        }
        System.out.print(t.render());
        alerts.forEach(System.out::println);
        if (out != null) {
            JsonFiles.write(out, root);
            System.out.printf("wrote %s%n", out);
        }
        return 0;
    }

    private static long stepOf(Path f) {
        Matcher m = NAME.matcher(f.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }
}

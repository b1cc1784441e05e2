package io.grokwatch.cli;

import io.grokwatch.records.KernelSpectrum;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.entk.Entk;
import io.grokwatch.entk.KernelKind;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunAnalyzer;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.run.RunModel;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code grokwatch entk}: one-shot eNTK analysis of any checkpoint file, e.g. one written by PyTorch. */
@Command(name = "entk", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compute the eNTK spectrum of one checkpoint (safetensors, e.g. a PyTorch state_dict) "
                + "of a model given as ONNX (torch.onnx.export with do_constant_folding=False) or as a "
                + "grokwatch.model/v1 JSON file, for the whole model and each parameter group.",
                "Example: grokwatch entk --model model.onnx --checkpoint step-500.safetensors "
                        + "--probe modular-addition:p=29,tokens --out entk.json"})
final class EntkCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The model: an ONNX file (.onnx) or a "
            + "grokwatch.model/v1 JSON description.")
    Path model;
    @Option(names = "--checkpoint", required = true, description = "Weights as safetensors (state_dict names).")
    Path checkpoint;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Probe probe;

    static final class Probe {
        @Option(names = "--probe", description = "Probe generator, e.g. modular-addition:p=29.")
        String spec;
        @Option(names = "--probe-file", description = "Safetensors file with the probe tensor, named 'x' or as the "
                + "ONNX graph's input: N x inputs (float), or N x ... (float or int64 token ids).")
        Path file;
    }

    @Option(names = "--kernel", description = "class-mean, flattened or per-class. Default: ${DEFAULT-VALUE}.")
    String kernel = "class-mean";
    @Option(names = "--importance", description = "Flattened kernels: weigh output c by (I^c)^(tau/2). Unweighted if absent.")
    Double importance;
    @Option(names = "--tau", description = "Importance rescaling exponent. Default: ${DEFAULT-VALUE}.")
    double tau = 1.0;
    @Option(names = "--class", description = "Per-class kernels: the output class c of block (c, c). Default: ${DEFAULT-VALUE}.")
    int cls = 0;
    @Option(names = "--top-k", description = "Eigenvalues per kernel. Default: ${DEFAULT-VALUE}.")
    int topK = 50;
    @Option(names = "--precision", description = "Arithmetic of the dense eigendecompositions and of the kernel "
            + "products of iterative solves (kernels too large to form): float64 or float32. A float32 solve reports "
            + "the residual measured on the float64 kernel. Default: ${DEFAULT-VALUE}.")
    String precision = "float64";
    @Option(names = "--probe-sample", description = "Analyse a uniform sample of this many probes (exact kernel "
            + "on the sample) when the full probe set costs too much.")
    Integer probeSample;
    @Option(names = "--seed", description = "Seed of --probe-sample. Default: ${DEFAULT-VALUE}.")
    long seed = 0;
    @Option(names = "--out", required = true, description = "JSON file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        KernelKind kind = KernelKind.parse(kernel);
        Precision arithmetic = TaskOptions.parsePrecision(precision);
        RunModel runModel = RunModel.read(model);
        TensorFile weights = Safetensors.read(checkpoint);
        ProbeSource probes = probeSource(probe, runModel, probeSample, seed);
        // The analyzer's own per-checkpoint analysis: the same kernels and solvers as a streamed run, replay
        // and experiment (block Lanczos where the kernel is too large to decompose densely).
        RunDescriptor descriptor = new RunDescriptor("entk", runModel, probes,
                new RunDescriptor.AnalysisSettings(kind, topK, true, Optional.ofNullable(importance), tau, cls,
                        arithmetic), 1, Map.of("source", "entk"));
        long t0 = System.nanoTime();
        RunAnalyzer.Analysis a;
        try (RunAnalyzer analyzer = new RunAnalyzer(descriptor)) {
            a = analyzer.analyze(weights);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        ObjectNode root = JsonFiles.object();
        root.put("model", model.toString()).put("checkpoint", checkpoint.toString()).put("probe", probes.name())
                .put("probes", probes.inputs().rows()).put("kernel", kind.id()).put("precision", arithmetic.id());
        ObjectNode computed = root.putObject("computed");
        computed.setAll(JsonFiles.tree(a.computed()));
        computed.put("model", runModel.summary());
        probes.sample().ifPresent(sample -> {
            computed.put("probeSample", sample.size()).put("seed", sample.seed());
            JsonFiles.array(computed, "probeRows", sample.rows());
        });
        if (importance != null) {
            root.put("importance", importance).put("tau", tau);
        }
        if (kind == KernelKind.PER_CLASS) {
            root.put("class", cls);
        }
        ObjectNode kernels = root.putObject("kernels");
        Map<String, KernelSpectrum> spectra = new java.util.LinkedHashMap<>();
        spectra.put(Entk.ALL, a.spectrum());
        spectra.putAll(a.layers());
        Table t = new Table("kernel", "top eig", "2nd eig", "eff. rank", "cliffs");
        spectra.forEach((kernel, k) -> {
            kernels.set(kernel, JsonFiles.tree(k));
            double[] ev = k.eigenvalues();
            t.row(kernel, ev.length > 0 ? ev[0] : Double.NaN, ev.length > 1 ? ev[1] : Double.NaN, k.effectiveRank(),
                    k.cliffs().size());
        });
        root.put("seconds", seconds);
        JsonFiles.write(out, root);
        System.out.print(t.render());
        System.out.printf("%.1f s; wrote %s%n", seconds, out);
        return 0;
    }

    /**
     * The probes of {@code --probe SPEC} or {@code --probe-file FILE} (with the train split the file may carry in
     * tensors {@code train} and {@code labels}), sampled when {@code sample} is given.
     */
    static ProbeSource probeSource(Probe probe, RunModel runModel, Integer sample, long seed)
            throws java.io.IOException {
        if (probe.spec != null) {
            ProbeSource generated = ProbeSource.generator(probe.spec);
            return sample != null ? generated.withSample(sample, seed) : generated;
        }
        Matrix x = readProbeFile(probe.file, runModel instanceof RunModel.Onnx o ? o.graph().input().name() : "x");
        ProbeSource inline = ProbeSource.inline(x);
        java.util.Optional<io.grokwatch.probe.TrainSplit> split = ProbeSource.splitOf(Safetensors.read(probe.file),
                x.rows());
        if (split.isPresent() && sample != null) {
            throw new IllegalArgumentException(probe.file + " carries a train split ('train' and 'labels'), which "
                    + "--probe-sample cannot keep: analyse every probe, or write the file without the split");
        }
        if (sample != null) {
            return inline.withSample(sample, seed);
        }
        return split.map(inline::withSplit).orElse(inline);
    }

    static Matrix readProbeFile(Path file) throws java.io.IOException {
        return readProbeFile(file, "x");
    }

    /**
     * The probe tensor of a safetensors file: named as the graph input, or {@code x}; one probe per entry of
     * its first axis (N x inputs, or N x ... for a graph input of higher rank; float or int64).
     */
    static Matrix readProbeFile(Path file, String inputName) throws java.io.IOException {
        TensorFile f = Safetensors.read(file);
        Tensor t = f.find(inputName).or(() -> f.find("x")).orElseThrow(() -> new IllegalArgumentException(file
                + ": probe file must hold a tensor named '" + inputName + "'" + (inputName.equals("x") ? "" : " or 'x'")
                + " (N x inputs); it has " + f.names()));
        if (t.rank() < 2 || t.shape()[0] == 0) {
            throw new IllegalArgumentException(file + ": probe tensor '" + t.name() + "' must have a probe axis first "
                    + "(N x inputs), got shape " + java.util.Arrays.toString(t.shape()));
        }
        int n = (int) t.shape()[0];
        return new Matrix(n, t.size() / n, t.values().clone());
    }
}

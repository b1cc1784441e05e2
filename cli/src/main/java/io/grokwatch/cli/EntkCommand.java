package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.KernelSpectra;
import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.entk.Entk;
import io.grokwatch.entk.KernelKind;
import io.grokwatch.features.FourierFamilies;
import io.grokwatch.features.TmsHeatmap;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.entk.GraphEntk;
import io.grokwatch.entk.KernelSource;
import io.grokwatch.graph.GraphNetwork;
import io.grokwatch.model.Network;
import io.grokwatch.probe.ProbeSample;
import io.grokwatch.probe.ProbeSet;
import io.grokwatch.run.RunModel;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
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
        Matrix x;
        String probeName;
        Optional<FourierFamilies> families = Optional.empty();
        if (probe.spec != null) {
            ProbeSet ps = ProbeSet.parse(probe.spec);
            x = ps.inputs();
            probeName = ps.spec();
            if (probeName.startsWith("modular-addition:")) {
                int p = (int) Math.round(Math.sqrt(x.rows()));
                families = Optional.of(FourierFamilies.of(p));
            }
        } else {
            x = readProbeFile(probe.file, runModel instanceof RunModel.Onnx o ? o.graph().input().name() : "x");
            probeName = probe.file.toString();
        }
        int allProbes = x.rows();
        ProbeSample sample = null;
        if (probeSample != null) {
            sample = ProbeSample.of(probeSample, x.rows(), seed);
            x = sample.select(x);
            if (!sample.isAll()) {
                // Feature families live on the whole probe grid.
                families = Optional.empty();
            }
        }
        long t0 = System.nanoTime();
        KernelSource source;
        boolean autoencoder;
        if (runModel instanceof RunModel.Sequential seq) {
            Network net = Checkpoints.bind(seq.description(), weights);
            if (x.cols() != net.inputs()) {
                throw new IllegalArgumentException("probe inputs have width " + x.cols() + " but the model takes "
                        + net.inputs() + " inputs");
            }
            source = new Entk(net, x);
            autoencoder = net.inputs() == net.outputs();
        } else {
            GraphNetwork net = Checkpoints.bind(((RunModel.Onnx) runModel).graph(), weights);
            GraphEntk g = new GraphEntk(net, x);
            source = g;
            autoencoder = g.classes() == x.cols();
        }
        double jacobianSeconds = (System.nanoTime() - t0) / 1e9;
        double[] scale = importance == null ? null : Entk.importanceScale(importance, source.classes(), tau);
        Map<String, KernelSpectra.KernelResult> results = KernelSpectra.analyze(source, x, autoencoder, families,
                new KernelSpectra.Options(kind, topK, scale, cls, arithmetic), Map.of(), true);
        double seconds = (System.nanoTime() - t0) / 1e9;

        ObjectNode root = JsonFiles.object();
        root.put("model", model.toString()).put("checkpoint", checkpoint.toString()).put("probe", probeName)
                .put("probes", x.rows()).put("kernel", kind.id()).put("precision", arithmetic.id());
        ObjectNode computed = root.putObject("computed");
        computed.put("method", "exact").put("probes", x.rows()).put("ofProbes", allProbes)
                .put("outputs", source.classes()).put("parameters", source.parameterCount(Entk.ALL))
                .put("model", runModel.summary()).put("jacobianSeconds", jacobianSeconds);
        if (sample != null) {
            computed.put("probeSample", sample.size()).put("seed", seed);
            JsonFiles.array(computed, "probeRows", sample.rows());
        }
        if (importance != null) {
            root.put("importance", importance).put("tau", tau);
        }
        if (kind == KernelKind.PER_CLASS) {
            root.put("class", cls);
        }
        ObjectNode kernels = root.putObject("kernels");
        Table t = new Table("kernel", "parameters", "top eig", "2nd eig", "eff. rank", "cliffs", "seconds");
        for (var e : results.entrySet()) {
            ObjectNode k = e.getValue().spectrum().toJson();
            k.put("seconds", e.getValue().seconds());
            e.getValue().heatmap().ifPresent(h -> putHeatmap(k, h));
            kernels.set(e.getKey(), k);
            double[] ev = e.getValue().spectrum().eigenvalues();
            t.row(e.getKey(), source.parameterCount(e.getKey()), ev[0], ev.length > 1 ? ev[1] : Double.NaN,
                    e.getValue().spectrum().effectiveRank(), e.getValue().spectrum().cliffs().size(),
                    e.getValue().seconds());
        }
        root.put("seconds", seconds);
        JsonFiles.write(out, root);
        System.out.print(t.render());
        System.out.printf("wrote %s%n", out);
        return 0;
    }

    private static void putHeatmap(ObjectNode k, TmsHeatmap h) {
        k.put("recoveredFeatures", h.recoveredFeatures());
        JsonFiles.array(k, "heatmapArgmax", h.argmax());
        JsonFiles.array(k, "heatmapMax", h.max());
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

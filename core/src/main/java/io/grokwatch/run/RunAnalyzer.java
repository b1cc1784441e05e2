package io.grokwatch.run;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.KernelSpectra;
import io.grokwatch.analysis.ModularAdditionAnalyzer;
import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.entk.Entk;
import io.grokwatch.entk.KernelKind;
import io.grokwatch.features.TmsHeatmap;
import io.grokwatch.model.Network;
import io.grokwatch.safetensors.TensorFile;

import java.util.Map;
import java.util.Optional;

/**
 * Analyses the checkpoints of one run as its descriptor says: the modular-addition analysis (cliff overlaps
 * with the Fourier families, per-layer spectra) when the probes are that grid and the kernel is class-mean,
 * otherwise the generic per-group spectra of {@link KernelSpectra}. Output fields are those of
 * {@code grokwatch experiment} per checkpoint.
 */
public final class RunAnalyzer implements AutoCloseable {
    private final RunDescriptor descriptor;
    private final ModularAdditionAnalyzer modular;
    private final int threads;
    private final int familyBand;

    public RunAnalyzer(RunDescriptor descriptor) {
        this(descriptor, Runtime.getRuntime().availableProcessors());
    }

    public RunAnalyzer(RunDescriptor descriptor, int threads) {
        this(descriptor, threads, 0);
    }

    /**
     * @param familyBand with Fourier families on the generic path (ONNX models): also report the whole
     *                   model's {@link io.grokwatch.features.FamilyProfile} in bands of this many eigenvectors
     *                   as {@code familyProfile}; 0 for none
     */
    public RunAnalyzer(RunDescriptor descriptor, int threads, int familyBand) {
        if (familyBand < 0) {
            throw new IllegalArgumentException("family band must be >= 0, got " + familyBand);
        }
        this.descriptor = descriptor;
        this.threads = threads;
        this.familyBand = familyBand;
        Optional<Integer> p = descriptor.probe().modularAdditionP();
        this.modular = descriptor.model() instanceof RunModel.Sequential && p.isPresent()
                && descriptor.analysis().kernel() == KernelKind.CLASS_MEAN
                ? new ModularAdditionAnalyzer(p.get(), descriptor.analysis().topK(), descriptor.analysis().layers(),
                        threads, descriptor.analysis().precision())
                : null;
    }

    public RunDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Result of one checkpoint: the JSON fields, the whole-model spectrum summary the detectors read, and the
     * eigenbases the next checkpoint of the run starts from (empty when the analysis keeps none).
     */
    public record Analysis(ObjectNode json, io.grokwatch.analysis.SpectrumSummary whole,
                           Map<String, io.grokwatch.linalg.Matrix> bases, double seconds, SplitSignals split) {
        public Analysis(ObjectNode json, io.grokwatch.analysis.SpectrumSummary whole,
                        Map<String, io.grokwatch.linalg.Matrix> bases, double seconds) {
            this(json, whole, bases, seconds, SplitSignals.NONE);
        }

        public double[] eigenvalues() {
            return whole.eigenvalues();
        }

        /** What the detectors see of this analysis of a checkpoint with the given metadata. */
        public io.grokwatch.detect.Observation observation(CheckpointMetadata meta) {
            return new io.grokwatch.detect.Observation(meta.epoch(), meta.step(), meta.trainAccuracy(),
                    meta.trainLoss(), meta.testAccuracy(), whole.eigenvalues(), whole.overlaps(), whole.gaps(),
                    split.heldOutConfidence(), split.kernelConfidence(), split.labelAlignment());
        }
    }

    /**
     * Binds the weights to the run's model (missing tensors, shape mismatches and non-finite weights raise
     * {@link io.grokwatch.model.ModelFormatException}) and analyses them.
     */
    public Analysis analyze(TensorFile weights) {
        return analyze(weights, Map.of());
    }

    /**
     * As {@link #analyze(TensorFile)}, continuing from the previous checkpoint's {@link Analysis#bases()}
     * (warm starts and drift).
     */
    public Analysis analyze(TensorFile weights, Map<String, io.grokwatch.linalg.Matrix> previous) {
        long t0 = System.nanoTime();
        io.grokwatch.entk.KernelSource kernels;
        boolean autoencoder;
        Network net = null;
        io.grokwatch.linalg.Matrix probes = descriptor.probe().inputs();
        if (descriptor.model() instanceof RunModel.Sequential seq) {
            net = Checkpoints.bind(seq.description(), weights);
            if (net.inputs() != probes.cols()) {
                throw new io.grokwatch.model.ModelFormatException("the model takes " + net.inputs()
                        + " inputs but the run's probes have width " + probes.cols());
            }
            kernels = null;
            autoencoder = net.inputs() == net.outputs();
        } else {
            io.grokwatch.graph.GraphNetwork graph = Checkpoints.bind(((RunModel.Onnx) descriptor.model()).graph(), weights);
            io.grokwatch.entk.GraphEntk g = new io.grokwatch.entk.GraphEntk(graph, probes, threads,
                    io.grokwatch.entk.GraphEntk.DEFAULT_MAX_ENTRIES);
            kernels = g;
            autoencoder = g.classes() == probes.cols();
        }
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        io.grokwatch.analysis.SpectrumSummary whole;
        Map<String, io.grokwatch.linalg.Matrix> bases = Map.of();
        if (modular != null) {
            ModularAdditionAnalyzer.Result r = modular.analyze(net, previous);
            bases = r.bases();
            o.setAll(r.all().toJson());
            ObjectNode layers = o.putObject("layers");
            r.layers().forEach((g, s) -> layers.set(g, s.toJson()));
            whole = r.all();
        } else {
            RunDescriptor.AnalysisSettings a = descriptor.analysis();
            io.grokwatch.entk.KernelSource source = kernels != null ? kernels : new Entk(net, probes);
            double[] scale = a.importance().map(base -> Entk.importanceScale(base, source.classes(), a.tau()))
                    .orElse(null);
            Map<String, KernelSpectra.KernelResult> results = KernelSpectra.analyze(source, probes, autoencoder,
                    descriptor.probe().families(), new KernelSpectra.Options(a.kernel(), a.topK(), scale, a.cls(),
                            a.precision()).withFamilyBand(familyBand), previous, a.layers());
            Map<String, io.grokwatch.linalg.Matrix> kept = new java.util.LinkedHashMap<>();
            results.forEach((g, r) -> r.basis().ifPresent(b -> kept.put(g, b)));
            bases = kept;
            KernelSpectra.KernelResult all = results.get(Entk.ALL);
            o.setAll(all.spectrum().toJson());
            all.heatmap().ifPresent(h -> putHeatmap(o, h));
            all.familyProfile().ifPresent(fp -> putFamilyProfile(o, fp));
            whole = all.spectrum();
            if (a.layers()) {
                ObjectNode layers = o.putObject("layers");
                results.forEach((g, r) -> {
                    if (!g.equals(Entk.ALL)) {
                        ObjectNode l = r.spectrum().toJson();
                        r.heatmap().ifPresent(h -> putHeatmap(l, h));
                        layers.set(g, l);
                    }
                });
            }
        }
        ObjectNode computed = o.putObject("computed");
        computed.put("method", "exact").put("probes", probes.rows())
                .put("ofProbes", descriptor.probe().sample().map(io.grokwatch.probe.ProbeSample::of).orElse(probes.rows()))
                .put("outputs", kernels != null ? kernels.classes() : net.outputs())
                .put("parameters", kernels != null ? kernels.parameterCount(Entk.ALL) : parameterCount(net));
        if (kernels instanceof io.grokwatch.entk.GraphEntk g) {
            computed.put("passes", g.batched() ? "batched" : "per-probe");
        }
        SplitSignals split = SplitSignals.NONE;
        if (net != null && descriptor.probe().split().isPresent()) {
            split = SplitSignals.of(net, probes, descriptor.probe().split().get());
            o.putObject("split").put("heldOutConfidence", split.heldOutConfidence())
                    .put("kernelConfidence", split.kernelConfidence()).put("labelAlignment", split.labelAlignment());
        }
        return new Analysis(o, whole, bases, (System.nanoTime() - t0) / 1e9, split);
    }

    private static long parameterCount(Network net) {
        long total = 0;
        for (String q : net.parameters().names()) {
            total += net.parameters().get(q).data().length;
        }
        return total;
    }

    private static void putFamilyProfile(ObjectNode o, io.grokwatch.features.FamilyProfile fp) {
        ObjectNode profile = o.putObject("familyProfile");
        profile.put("bandWidth", fp.bandWidth());
        var bands = profile.putArray("bands");
        for (io.grokwatch.features.FamilyProfile.Band b : fp.bands()) {
            ObjectNode band = bands.addObject().put("from", b.from()).put("to", b.to());
            for (io.grokwatch.features.Family f : io.grokwatch.features.Family.values()) {
                band.put(f.label(), b.shares().get(f));
            }
        }
    }

    private static void putHeatmap(ObjectNode o, TmsHeatmap h) {
        o.put("recoveredFeatures", h.recoveredFeatures());
        var arg = o.putArray("heatmapArgmax");
        for (int v : h.argmax()) {
            arg.add(v);
        }
        var max = o.putArray("heatmapMax");
        for (double v : h.max()) {
            max.add(v);
        }
    }

    @Override
    public void close() {
        if (modular != null) {
            modular.close();
        }
    }
}

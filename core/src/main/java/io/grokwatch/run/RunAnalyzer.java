package io.grokwatch.run;

import io.grokwatch.records.KernelSpectrum;
import io.grokwatch.records.SpectrumRecord;

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
     * Result of one checkpoint: the spectra as the spectra topic carries them (the whole model's, the parameter
     * groups' and what was computed), the whole-model summary the detectors read, and the eigenbases the next
     * checkpoint of the run starts from (empty when the analysis keeps none).
     *
     * @param spectrum the whole-model kernel's spectrum
     * @param layers   the parameter groups' spectra, in order; empty when layer spectra are off
     */
    public record Analysis(KernelSpectrum spectrum, Map<String, KernelSpectrum> layers,
                           SpectrumRecord.Computed computed, io.grokwatch.analysis.SpectrumSummary whole,
                           Map<String, io.grokwatch.linalg.Matrix> bases, double seconds, SplitSignals split) {
        public Analysis {
            layers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layers));
            java.util.Objects.requireNonNull(split, "split");
        }

        /** An analysis of a run without a train split. */
        public Analysis(KernelSpectrum spectrum, Map<String, KernelSpectrum> layers, SpectrumRecord.Computed computed,
                        io.grokwatch.analysis.SpectrumSummary whole, Map<String, io.grokwatch.linalg.Matrix> bases,
                        double seconds) {
            this(spectrum, layers, computed, whole, bases, seconds, SplitSignals.NONE);
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

        /** The spectra topic's record of this analysis of a checkpoint of run {@code runId}. */
        public SpectrumRecord record(String runId, CheckpointMetadata meta, long checkpointTimestampMs) {
            SpectrumRecord r = SpectrumRecord.of(runId, meta.step(), meta.epoch(),
                    new SpectrumRecord.Reported(meta.trainLoss(), meta.testLoss(), meta.trainAccuracy(),
                            meta.testAccuracy()), spectrum, layers.isEmpty() ? null : layers, computed,
                    new SpectrumRecord.Timings(seconds, checkpointTimestampMs, null, null));
            return split == SplitSignals.NONE ? r : r.withSplit(split.toRecord());
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
        io.grokwatch.graph.GraphNetwork boundGraph = null;
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
            boundGraph = graph;
            io.grokwatch.entk.GraphEntk g = new io.grokwatch.entk.GraphEntk(graph, probes, threads,
                    io.grokwatch.entk.GraphEntk.DEFAULT_MAX_ENTRIES);
            kernels = g;
            autoencoder = g.classes() == probes.cols();
        }
        KernelSpectrum spectrum;
        Map<String, KernelSpectrum> layers = new java.util.LinkedHashMap<>();
        io.grokwatch.analysis.SpectrumSummary whole;
        Map<String, io.grokwatch.linalg.Matrix> bases = Map.of();
        if (modular != null) {
            ModularAdditionAnalyzer.Result r = modular.analyze(net, previous);
            bases = r.bases();
            spectrum = r.all().toRecord();
            r.layers().forEach((g, s) -> layers.put(g, s.toRecord()));
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
            spectrum = withExtras(all);
            whole = all.spectrum();
            if (a.layers()) {
                results.forEach((g, r) -> {
                    if (!g.equals(Entk.ALL)) {
                        layers.put(g, withExtras(r));
                    }
                });
            }
        }
        SpectrumRecord.Computed computed = new SpectrumRecord.Computed("exact", probes.rows(),
                descriptor.probe().sample().map(io.grokwatch.probe.ProbeSample::of).orElse(probes.rows()),
                kernels != null ? kernels.classes() : net.outputs(),
                kernels != null ? kernels.parameterCount(Entk.ALL) : parameterCount(net),
                kernels instanceof io.grokwatch.entk.GraphEntk g ? (g.batched() ? "batched" : "per-probe") : null);
        SplitSignals split = SplitSignals.NONE;
        if (descriptor.probe().split().isPresent()) {
            SplitSignals.Model m = net != null ? SplitSignals.Model.of(net)
                    : SplitSignals.Model.of(boundGraph, kernels.classes(), threads);
            split = SplitSignals.of(m, probes, descriptor.probe().split().get());
        }
        return new Analysis(spectrum, layers, computed, whole, bases, (System.nanoTime() - t0) / 1e9, split);
    }

    private static long parameterCount(Network net) {
        long total = 0;
        for (String q : net.parameters().names()) {
            total += net.parameters().get(q).data().length;
        }
        return total;
    }

    /** A kernel's spectrum with its TMS heatmap and family profile, when the analysis made them. */
    private static KernelSpectrum withExtras(KernelSpectra.KernelResult r) {
        KernelSpectrum k = r.spectrum().toRecord();
        if (r.heatmap().isPresent()) {
            TmsHeatmap h = r.heatmap().get();
            k = k.withHeatmap(h.recoveredFeatures(), h.argmax(), h.max());
        }
        if (r.familyProfile().isPresent()) {
            k = k.withFamilyProfile(familyProfile(r.familyProfile().get()));
        }
        return k;
    }

    private static KernelSpectrum.FamilyProfile familyProfile(io.grokwatch.features.FamilyProfile fp) {
        java.util.List<KernelSpectrum.FamilyProfile.Band> bands = new java.util.ArrayList<>();
        for (io.grokwatch.features.FamilyProfile.Band b : fp.bands()) {
            Map<io.grokwatch.features.Family, Double> sh = b.shares();
            bands.add(new KernelSpectrum.FamilyProfile.Band(b.from(), b.to(), sh.get(io.grokwatch.features.Family.N),
                    sh.get(io.grokwatch.features.Family.M), sh.get(io.grokwatch.features.Family.SUM),
                    sh.get(io.grokwatch.features.Family.DIFF)));
        }
        return new KernelSpectrum.FamilyProfile(fp.bandWidth(), bands);
    }

    @Override
    public void close() {
        if (modular != null) {
            modular.close();
        }
    }
}

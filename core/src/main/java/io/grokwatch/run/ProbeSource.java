package io.grokwatch.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.features.FourierFamilies;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.probe.ProbeSet;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.SafetensorsFormatException;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;

import java.util.Base64;
import java.util.Optional;

/**
 * Where a run's probe inputs come from: a named generator ({@code modular-addition:p=29}), or the inputs
 * themselves, inline, as a base64 safetensors file with one tensor {@code x} (N x inputs) — for external runs
 * whose probes grokwatch cannot generate.
 */
public final class ProbeSource {
    private final String generator;
    private final byte[] inline;
    private final ProbeSet probes;
    /** A uniform sample of the probes, or null for all of them. */
    private final io.grokwatch.probe.ProbeSample sample;
    private final Matrix inputs;
    /** The run's training rows and their labels, or null when the descriptor declares none. */
    private final io.grokwatch.probe.TrainSplit split;

    private ProbeSource(String generator, byte[] inline, ProbeSet probes) {
        this(generator, inline, probes, null, null);
    }

    private ProbeSource(String generator, byte[] inline, ProbeSet probes, io.grokwatch.probe.ProbeSample sample,
                        io.grokwatch.probe.TrainSplit split) {
        this.generator = generator;
        this.inline = inline;
        this.probes = probes;
        this.sample = sample;
        this.split = split;
        this.inputs = sample == null ? probes.inputs() : sample.select(probes.inputs());
    }

    /**
     * These probes with the run's training rows and their labels ({@code "probe": {..., "train": [rows],
     * "labels": [classes]}}); not with a sample, whose rows are not the run's.
     */
    public ProbeSource withSplit(io.grokwatch.probe.TrainSplit s) {
        if (sample != null) {
            throw new RunFormatException("\"probe.train\" cannot be combined with \"probe.sample\"");
        }
        if (s.probes() != inputs.rows()) {
            throw new RunFormatException("\"probe.train\" was made for " + s.probes() + " probes, the run has "
                    + inputs.rows());
        }
        return new ProbeSource(generator, inline, probes, null, s);
    }

    private boolean splitInFile() {
        return inline != null && split != null && split.equals(splitFromTensors(Safetensors.read(inline),
                inputs.rows()));
    }

    /** The run's training rows and labels, when the descriptor declares them. */
    public Optional<io.grokwatch.probe.TrainSplit> split() {
        return Optional.ofNullable(split);
    }

    /**
     * These probes reduced to a uniform sample of {@code n} (seeded), for models whose exact kernel over every
     * probe costs too much; feature families, which live on the whole probe set, no longer apply.
     */
    public ProbeSource withSample(int n, long seed) {
        if (n < 1) {
            throw new RunFormatException("\"probe.sample\" must be >= 1, got " + n);
        }
        if (n >= probes.size()) {
            return new ProbeSource(generator, inline, probes, null, split);
        }
        if (split != null) {
            throw new RunFormatException("\"probe.train\" cannot be combined with \"probe.sample\"");
        }
        return new ProbeSource(generator, inline, probes, io.grokwatch.probe.ProbeSample.of(n, probes.size(), seed),
                null);
    }

    public static ProbeSource generator(String spec) {
        try {
            ProbeSet p = ProbeSet.parse(spec);
            return new ProbeSource(p.spec(), null, p);
        } catch (IllegalArgumentException e) {
            throw new RunFormatException("\"probe.generator\": " + e.getMessage(), e);
        }
    }

    /**
     * Probe inputs given as safetensors bytes holding tensor {@code x} of shape N x inputs (float, or int64
     * token ids for a model with an embedding).
     */
    public static ProbeSource inline(byte[] safetensors) {
        TensorFile f;
        try {
            f = Safetensors.read(safetensors);
        } catch (SafetensorsFormatException e) {
            throw new RunFormatException("\"probe.inline\": " + e.getMessage(), e);
        }
        Tensor x = f.find("x").orElseThrow(() -> new RunFormatException(
                "\"probe.inline\" must hold a tensor named 'x' (N x inputs); it has " + f.names()));
        if (x.rank() < 2 || x.shape()[0] == 0 || x.size() == 0) {
            throw new RunFormatException("\"probe.inline\" tensor 'x' must be non-empty with a probe axis first "
                    + "(N x inputs, or N x ... for a graph input of higher rank), got shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        int n = (int) x.shape()[0];
        // One probe per row; a graph input of higher rank takes each row back in its own shape.
        ProbeSet set = new ProbeSet("inline", new Matrix(n, x.size() / n, x.values().clone()));
        return new ProbeSource(null, safetensors.clone(), set, null, splitFromTensors(f, n));
    }

    /**
     * The optional train split of a probe file: tensor {@code train} (one 0/1 flag per probe) and tensor
     * {@code labels} (one class per probe; entries of held-out probes are not read and may be -1), both or neither.
     */
    public static Optional<io.grokwatch.probe.TrainSplit> splitOf(TensorFile f, int n) {
        return Optional.ofNullable(splitFromTensors(f, n));
    }

    private static io.grokwatch.probe.TrainSplit splitFromTensors(TensorFile f, int n) {
        Optional<Tensor> train = f.find("train");
        Optional<Tensor> labels = f.find("labels");
        if (train.isEmpty() && labels.isEmpty()) {
            return null;
        }
        if (train.isEmpty() || labels.isEmpty()) {
            throw new RunFormatException("\"probe.inline\" tensors 'train' and 'labels' go together: a 0/1 flag "
                    + "and a class per probe");
        }
        if (train.get().size() != n || labels.get().size() != n) {
            throw new RunFormatException("\"probe.inline\" tensors 'train' and 'labels' need one entry per probe ("
                    + n + "), got " + train.get().size() + " and " + labels.get().size());
        }
        double[] flags = train.get().values();
        double[] classes = labels.get().values();
        int count = 0;
        for (double v : flags) {
            if (v != 0.0 && v != 1.0) {
                throw new RunFormatException("\"probe.inline\" tensor 'train' must hold 0 or 1, got " + v);
            }
            count += v == 1.0 ? 1 : 0;
        }
        int[] rows = new int[count];
        int[] y = new int[count];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (flags[i] == 1.0) {
                double c = classes[i];
                if (c != Math.rint(c) || c < 0 || c > Integer.MAX_VALUE) {
                    throw new RunFormatException("\"probe.inline\" tensor 'labels' must hold a class index >= 0 "
                            + "for every training probe, got " + c + " at probe " + i);
                }
                rows[k] = i;
                y[k++] = (int) c;
            }
        }
        try {
            return new io.grokwatch.probe.TrainSplit(rows, y, n);
        } catch (IllegalArgumentException e) {
            throw new RunFormatException("\"probe.inline\": " + e.getMessage(), e);
        }
    }

    public static ProbeSource inline(Matrix x) {
        byte[] bytes = Safetensors.write(TensorFile.of(Tensor.f64("x", new long[] {x.rows(), x.cols()},
                x.data().clone())));
        return inline(bytes);
    }

    static ProbeSource fromJson(JsonNode p) {
        if (p == null || !p.isObject()) {
            throw new RunFormatException("\"probe\" must be {\"generator\": SPEC} or {\"inline\": BASE64}");
        }
        if (p.hasNonNull("generator") == p.hasNonNull("inline")) {
            throw new RunFormatException("\"probe\" needs exactly one of \"generator\" and \"inline\"");
        }
        ProbeSource source;
        if (p.hasNonNull("generator")) {
            source = generator(p.get("generator").asText());
        } else {
            try {
                source = inline(Base64.getDecoder().decode(p.get("inline").asText()));
            } catch (IllegalArgumentException e) {
                throw new RunFormatException("\"probe.inline\" is not valid base64: " + e.getMessage());
            }
        }
        if (p.has("sample")) {
            JsonNode n = p.get("sample");
            JsonNode seed = p.path("seed");
            if (!n.canConvertToExactIntegral() || !n.canConvertToInt() || n.asInt() < 1) {
                throw new RunFormatException("\"probe.sample\" must be an integer >= 1, got " + n);
            }
            if (!seed.isMissingNode() && (!seed.canConvertToExactIntegral() || !seed.canConvertToLong())) {
                throw new RunFormatException("\"probe.seed\" must be a 64-bit integer, got " + seed);
            }
            source = source.withSample(n.asInt(), seed.asLong(0));
        }
        if (p.has("train") || p.has("labels")) {
            if (source.split != null) {
                throw new RunFormatException("the train split is given twice: in \"probe.train\"/\"probe.labels\" "
                        + "and in the probe file's 'train'/'labels' tensors");
            }
            source = source.withSplit(splitFromJson(p, source.inputs().rows()));
        }
        return source;
    }

    private static io.grokwatch.probe.TrainSplit splitFromJson(JsonNode p, int probes) {
        if (!p.has("train") || !p.has("labels")) {
            throw new RunFormatException("\"probe.train\" and \"probe.labels\" go together: the training rows and "
                    + "one label per training row");
        }
        try {
            return new io.grokwatch.probe.TrainSplit(integers(p.get("train"), "probe.train"),
                    integers(p.get("labels"), "probe.labels"), probes);
        } catch (IllegalArgumentException e) {
            throw new RunFormatException(e.getMessage(), e);
        }
    }

    private static int[] integers(JsonNode a, String key) {
        if (a == null || !a.isArray()) {
            throw new RunFormatException("\"" + key + "\" must be an array of integers");
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = a.get(i);
            if (!v.canConvertToExactIntegral() || !v.canConvertToInt()) {
                throw new RunFormatException("\"" + key + "\"[" + i + "] must be an integer, got " + v);
            }
            out[i] = v.asInt();
        }
        return out;
    }

    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (generator != null) {
            o.put("generator", generator);
        } else {
            o.put("inline", Base64.getEncoder().encodeToString(inline));
        }
        if (sample != null) {
            o.put("sample", sample.size()).put("seed", sample.seed());
        }
        if (split != null && !splitInFile()) {
            var train = o.putArray("train");
            for (int r : split.train()) {
                train.add(r);
            }
            var labels = o.putArray("labels");
            for (int y : split.labels()) {
                labels.add(y);
            }
        }
        return o;
    }

    /** The probe inputs, the sample's rows when sampled (shared, do not modify). */
    public Matrix inputs() {
        return inputs;
    }

    /** A short name: the generator spec or {@code inline}, and the sample. */
    public String name() {
        return sample == null ? probes.spec() : probes.spec() + " (sample of " + sample.size() + " of "
                + sample.of() + ", seed " + sample.seed() + ")";
    }

    /** The sample the inputs are, if any. */
    public Optional<io.grokwatch.probe.ProbeSample> sample() {
        return Optional.ofNullable(sample);
    }

    /** Feature families known for these probes (the Fourier families of the modular-addition grid). */
    public Optional<FourierFamilies> families() {
        if (generator != null && generator.startsWith("modular-addition:") && sample == null) {
            return Optional.of(FourierFamilies.of((int) Math.round(Math.sqrt(probes.size()))));
        }
        return Optional.empty();
    }

    /** The modulus when the probes are the modular-addition grid. */
    public Optional<Integer> modularAdditionP() {
        return families().map(FourierFamilies::p);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ProbeSource other && toJson().equals(other.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "ProbeSource[" + name() + "]";
    }
}

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

    private ProbeSource(String generator, byte[] inline, ProbeSet probes) {
        this.generator = generator;
        this.inline = inline;
        this.probes = probes;
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
        return new ProbeSource(null, safetensors.clone(),
                new ProbeSet("inline", new Matrix(n, x.size() / n, x.values().clone())));
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
        if (p.hasNonNull("generator")) {
            return generator(p.get("generator").asText());
        }
        try {
            return inline(Base64.getDecoder().decode(p.get("inline").asText()));
        } catch (IllegalArgumentException e) {
            throw new RunFormatException("\"probe.inline\" is not valid base64: " + e.getMessage());
        }
    }

    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (generator != null) {
            o.put("generator", generator);
        } else {
            o.put("inline", Base64.getEncoder().encodeToString(inline));
        }
        return o;
    }

    /** The probe inputs (shared, do not modify). */
    public Matrix inputs() {
        return probes.inputs();
    }

    /** A short name: the generator spec or {@code inline}. */
    public String name() {
        return probes.spec();
    }

    /** Feature families known for these probes (the Fourier families of the modular-addition grid). */
    public Optional<FourierFamilies> families() {
        if (generator != null && generator.startsWith("modular-addition:")) {
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

package io.grokwatch.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.entk.KernelKind;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.probe.ProbeSet;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * What one run may cost the analyzer, checked before any of it is spent: a descriptor when it arrives (and in
 * {@code publish} and {@code train} before it is sent), each checkpoint's parameters before its analysis, and the
 * eigenbasis state an analysis leaves before it is stored. Without these a single descriptor (a modulus of 300, say)
 * took gigabytes per attempt or ran the heap out, and its state record outgrew what the producer may send.
 *
 * @param maxProbes        probes (rows of the probe set, after sampling)
 * @param maxParameters    parameters of the model, counted in each checkpoint
 * @param maxKernelEntries entries of the analysed kernel: N^2 for class-mean and per-class kernels, (N C)^2 for the
 *                         flattened one (C outputs)
 * @param maxStateBytes    bytes of the eigenbasis record a run keeps in the analyzer's store (and its changelog)
 */
public record RunLimits(long maxProbes, long maxParameters, long maxKernelEntries, long maxStateBytes) {
    public static final String PROBES = "max-probes";
    public static final String PARAMETERS = "max-parameters";
    public static final String KERNEL_ENTRIES = "max-kernel-entries";
    public static final String STATE_BYTES = "max-state-bytes";
    /**
     * p = 128 fits (16,384 probes; the paper's p = 113 has 12,769), and its class-mean eigenbases, about 450 vectors
     * per kernel as stored, stay under {@link #DEFAULT_MAX_STATE_BYTES}.
     */
    public static final long DEFAULT_MAX_PROBES = 16_384;
    public static final long DEFAULT_MAX_PARAMETERS = 10_000_000;
    /** The flattened kernel of the default TMS run is 25,000^2 = 6.25e8 entries; p = 128 class-mean is 2.7e8. */
    public static final long DEFAULT_MAX_KERNEL_ENTRIES = 1_000_000_000L;
    /** 96 MiB: under the 128 MiB a state record may be ({@code ClientConfigs.MAX_STATE_RECORD_BYTES}). */
    public static final long DEFAULT_MAX_STATE_BYTES = 96L * 1024 * 1024;
    public static final RunLimits DEFAULTS = new RunLimits(DEFAULT_MAX_PROBES, DEFAULT_MAX_PARAMETERS,
            DEFAULT_MAX_KERNEL_ENTRIES, DEFAULT_MAX_STATE_BYTES);
    private static final ObjectMapper JSON = new ObjectMapper();

    public RunLimits {
        requirePositive(PROBES, maxProbes);
        requirePositive(PARAMETERS, maxParameters);
        requirePositive(KERNEL_ENTRIES, maxKernelEntries);
        requirePositive(STATE_BYTES, maxStateBytes);
    }

    private static void requirePositive(String name, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }

    /**
     * Parses a descriptor within these limits. A generated probe set is sized from its spec before it is generated
     * (p = 1000 would be a million probes); inline probes are bounded by the record that carries them.
     *
     * @throws RunLimitException  when the run would cost more than these limits allow
     * @throws RunFormatException when the descriptor is invalid, or its probes do not fit its model
     */
    public RunDescriptor parse(byte[] json) {
        checkGeneratedProbes(json);
        RunDescriptor d = RunDescriptor.parse(json);
        check(d);
        return d;
    }

    private void checkGeneratedProbes(byte[] json) {
        JsonNode probe;
        try {
            probe = JSON.readTree(json).path("probe");
        } catch (IOException | RuntimeException e) {
            return; // RunDescriptor.parse says what is wrong with it
        }
        JsonNode generator = probe.path("generator");
        if (!generator.isTextual()) {
            return;
        }
        long rows;
        try {
            rows = ProbeSet.shape(generator.asText())[0];
        } catch (IllegalArgumentException e) {
            return;
        }
        JsonNode sample = probe.path("sample");
        if (sample.canConvertToExactIntegral() && sample.canConvertToInt() && sample.asInt() >= 1) {
            rows = Math.min(rows, sample.asLong());
        }
        checkProbes(rows, generator.asText());
    }

    /**
     * Checks the probe count of a generator spec before its probes are generated (a trainer's or {@code publish}'s
     * own probes, or an analysis sample of them when {@code sample} is given).
     *
     * @throws RunLimitException        over {@link #maxProbes()}
     * @throws IllegalArgumentException when the spec is not a generator grokwatch knows
     */
    public void checkGenerator(String spec, Integer sample) {
        long rows = ProbeSet.shape(spec)[0];
        checkProbes(sample == null ? rows : Math.min(rows, sample), spec);
    }

    private void checkProbes(long rows, String what) {
        if (rows > maxProbes) {
            throw new RunLimitException("the probe set " + what + " has " + rows + " probes, over the limit of "
                    + maxProbes + " (" + PROBES + "; a probe sample, \"probe.sample\", analyses fewer)");
        }
    }

    /**
     * Checks a parsed descriptor: its probes fit its model's input, and its probe count, kernel and eigenbasis
     * state (estimated from below, as the outputs are known only from a checkpoint) are within the limits.
     */
    public void check(RunDescriptor d) {
        long rows = d.probe().inputs().rows();
        checkProbes(rows, d.probe().name());
        if (d.model() instanceof RunModel.Sequential seq && seq.description().inputs() != d.probe().inputs().cols()) {
            throw new RunFormatException("the probes have width " + d.probe().inputs().cols() + " but the model takes "
                    + seq.description().inputs() + " inputs: probes " + d.probe().name() + " cannot be fed to it");
        }
        checkKernel(d, rows, 1);
    }

    /**
     * Checks a checkpoint of the run before it is analysed: its parameter count, and the kernel and eigenbasis
     * state now that the model's output width is known.
     */
    public void checkCheckpoint(RunDescriptor d, TensorFile weights) {
        if (!(d.model() instanceof RunModel.Sequential seq)) {
            return; // a graph's parameters and outputs are bounded by GraphEntk's own memory limit
        }
        ModelDescription m = seq.description();
        Map<String, long[]> shapes = new HashMap<>();
        long parameters = 0;
        for (String name : m.parameterNames()) {
            Tensor t = weights.find(name).orElse(null);
            if (t == null) {
                return; // the binding names what is missing
            }
            shapes.put(name, t.shape());
            parameters += t.size();
        }
        if (parameters > maxParameters) {
            throw new RunLimitException("the model has " + parameters + " parameters, over the limit of "
                    + maxParameters + " (" + PARAMETERS + ")");
        }
        int[] widths = m.widths(shapes);
        checkKernel(d, d.probe().inputs().rows(), widths[widths.length - 1]);
    }

    private void checkKernel(RunDescriptor d, long probes, long outputs) {
        long kernelRows = d.analysis().kernel() == KernelKind.FLATTENED ? saturatedProduct(probes, outputs) : probes;
        long entries = saturatedProduct(kernelRows, kernelRows);
        if (entries > maxKernelEntries) {
            throw new RunLimitException("the " + d.analysis().kernel().id() + " kernel has " + kernelRows + "^2 = "
                    + entries + " entries, over the limit of " + maxKernelEntries + " (" + KERNEL_ENTRIES + ")");
        }
        long kernels = 1;
        if (d.analysis().layers() && d.model() instanceof RunModel.Sequential seq) {
            kernels += seq.description().groups().size();
        }
        long bytes = saturatedProduct(saturatedProduct(Float.BYTES, kernelRows),
                saturatedProduct(Math.min(kernelRows, d.analysis().topK()), kernels));
        if (bytes > maxStateBytes) {
            throw new RunLimitException("the run's eigenbases would take at least " + bytes + " bytes (" + kernels
                    + " kernels of " + kernelRows + " x " + Math.min(kernelRows, d.analysis().topK())
                    + " floats), over the limit of " + maxStateBytes + " (" + STATE_BYTES + ")");
        }
    }

    /** Checks the encoded eigenbasis record an analysis left, before it is stored. */
    public void checkState(String runId, int encodedBytes) {
        if (encodedBytes > maxStateBytes) {
            throw new RunLimitException("the eigenbases of run '" + runId + "' take " + encodedBytes
                    + " bytes, over the limit of " + maxStateBytes + " (" + STATE_BYTES + ")");
        }
    }

    private static long saturatedProduct(long a, long b) {
        long high = Math.multiplyHigh(a, b);
        long low = a * b;
        return high != 0 || low < 0 ? Long.MAX_VALUE : low;
    }
}

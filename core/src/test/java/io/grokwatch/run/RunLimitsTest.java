package io.grokwatch.run;

import io.grokwatch.entk.KernelKind;
import io.grokwatch.model.ModelDescription;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static io.grokwatch.run.RunFormatsTest.modularAdditionRun;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** What one run may cost, checked before it is spent, with messages that name the limit. */
class RunLimitsTest {
    private static String json(RunDescriptor d) {
        return new String(d.toBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void theDefaultsAcceptThePapersRunsAndRefuseAMillionProbesUnbuilt() {
        assertDoesNotThrow(() -> RunLimits.DEFAULTS.parse(modularAdditionRun("a").toBytes()));
        byte[] big = json(modularAdditionRun("a")).replace("modular-addition:p=29", "modular-addition:p=1000")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        RunLimitException e = assertThrows(RunLimitException.class, () -> RunLimits.DEFAULTS.parse(big));
        assertEquals("the probe set modular-addition:p=1000 has 1000000 probes, over the limit of 16384 (max-probes; "
                + "a probe sample, \"probe.sample\", analyses fewer)", e.getMessage());
    }

    @Test
    void aProbeSampleBringsARunWithinTheProbeLimit() {
        String sampled = json(modularAdditionRun("a")).replace("\"generator\":\"modular-addition:p=29\"",
                "\"generator\":\"modular-addition:p=29\",\"sample\":100");
        RunLimits few = new RunLimits(500, RunLimits.DEFAULT_MAX_PARAMETERS, RunLimits.DEFAULT_MAX_KERNEL_ENTRIES,
                RunLimits.DEFAULT_MAX_STATE_BYTES);
        assertThrows(RunLimitException.class, () -> few.parse(modularAdditionRun("a").toBytes()));
        // The model takes 58 inputs, so the sampled probes still fit it.
        assertEquals(100, few.parse(sampled.getBytes(java.nio.charset.StandardCharsets.UTF_8)).probe().inputs().rows());
    }

    @Test
    void theFlattenedKernelCountsOutputsOnceACheckpointTellsThem() {
        RunDescriptor flattened = new RunDescriptor("f", ModelDescription.modularAddition(29, 512),
                ProbeSource.generator("modular-addition:p=29"), new RunDescriptor.AnalysisSettings(KernelKind.FLATTENED,
                10, false, Optional.empty(), 1.0, 0), 1, Map.of());
        RunLimits limits = new RunLimits(RunLimits.DEFAULT_MAX_PROBES, RunLimits.DEFAULT_MAX_PARAMETERS,
                500_000_000L, RunLimits.DEFAULT_MAX_STATE_BYTES);
        assertDoesNotThrow(() -> limits.check(flattened)); // 841^2 entries before the outputs are known
        var weights = io.grokwatch.safetensors.TensorFile.of(
                io.grokwatch.safetensors.Tensor.f32("net.0.weight", new long[] {512, 58}, new double[512 * 58]),
                io.grokwatch.safetensors.Tensor.f32("net.3.weight", new long[] {29, 512}, new double[29 * 512]));
        RunLimitException e = assertThrows(RunLimitException.class, () -> limits.checkCheckpoint(flattened, weights));
        assertEquals("the flattened kernel has 24389^2 = 594823321 entries, over the limit of 500000000 "
                + "(max-kernel-entries)", e.getMessage());
    }

    @Test
    void inlineProbesAreCountedToo() {
        RunDescriptor inline = new RunDescriptor("i", ModelDescription.modularAddition(29, 512),
                ProbeSource.inline(new io.grokwatch.linalg.Matrix(20_000, 58)),
                RunDescriptor.AnalysisSettings.classMean(10), 1, Map.of());
        RunLimitException e = assertThrows(RunLimitException.class, () -> RunLimits.DEFAULTS.parse(inline.toBytes()));
        assertEquals("the probe set inline has 20000 probes, over the limit of 16384 (max-probes; a probe sample, "
                + "\"probe.sample\", analyses fewer)", e.getMessage());
    }

    @Test
    void aLimitBelowOneIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RunLimits(1, 1, 1, 0));
        assertEquals("max-state-bytes must be >= 1, got 0", e.getMessage());
    }

    @Test
    void numbersPastTheirRangeAreErrorsNotWrapped() {
        String ok = json(modularAdditionRun("a"));
        assertEquals("\"analysis.topK\" is out of range, got 4294967297", assertThrows(RunFormatException.class,
                () -> RunDescriptor.parse(ok.replace("\"topK\":200", "\"topK\":4294967297"))).getMessage());
        assertEquals("\"checkpointEvery\" must be an integer in 1.." + Integer.MAX_VALUE + ", got 4294967306",
                assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("\"checkpointEvery\":10",
                        "\"checkpointEvery\":4294967306"))).getMessage());
        assertEquals("\"probe.sample\" must be an integer >= 1, got 18446744073709551621",
                assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace(
                        "\"generator\":\"modular-addition:p=29\"",
                        "\"generator\":\"modular-addition:p=29\",\"sample\":18446744073709551621"))).getMessage());
    }
}

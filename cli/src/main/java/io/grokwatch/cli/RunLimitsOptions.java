package io.grokwatch.cli;

import io.grokwatch.run.RunLimits;
import picocli.CommandLine.Option;

/**
 * {@code --max-probes}, {@code --max-parameters}, {@code --max-kernel-entries}, {@code --max-state-bytes}: what one run
 * may cost the analyzer. The analyzer refuses a run over them (dead letter {@code over-limit}); {@code train} and
 * {@code publish} refuse it before sending anything, so give them the analyzer's values if it was started with others.
 */
final class RunLimitsOptions {
    @Option(names = "--" + RunLimits.PROBES, paramLabel = "N", description = "Most probes a run may have (after "
            + "--probe-sample). Default: ${DEFAULT-VALUE} (modular addition up to p = 128).")
    long maxProbes = RunLimits.DEFAULT_MAX_PROBES;
    @Option(names = "--" + RunLimits.PARAMETERS, paramLabel = "N", description = "Most parameters a run's model may "
            + "have (counted in each checkpoint). Default: ${DEFAULT-VALUE}.")
    long maxParameters = RunLimits.DEFAULT_MAX_PARAMETERS;
    @Option(names = "--" + RunLimits.KERNEL_ENTRIES, paramLabel = "N", description = "Most entries of a run's kernel: "
            + "N^2 for class-mean and per-class, (N x outputs)^2 for flattened. Default: ${DEFAULT-VALUE}.")
    long maxKernelEntries = RunLimits.DEFAULT_MAX_KERNEL_ENTRIES;
    @Option(names = "--" + RunLimits.STATE_BYTES, paramLabel = "BYTES", description = "Most bytes of the eigenbases "
            + "a run keeps in the analyzer's state store (at most 127 MiB, what one state record may be). "
            + "Default: ${DEFAULT-VALUE} (96 MiB).")
    long maxStateBytes = RunLimits.DEFAULT_MAX_STATE_BYTES;

    /** The limits, or an error naming the option and its allowed values. */
    RunLimits limits() {
        try {
            return new RunLimits(maxProbes, maxParameters, maxKernelEntries, maxStateBytes);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + e.getMessage(), e);
        }
    }
}

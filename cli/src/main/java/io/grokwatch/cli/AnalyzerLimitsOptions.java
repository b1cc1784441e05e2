package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerLimits;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The analyzer's bounds on one record ({@link AnalyzerLimits}) as options of {@code analyze}. */
final class AnalyzerLimitsOptions {
    @Mixin
    RunLimitsOptions run;
    @Option(names = "--" + AnalyzerLimits.DEAD_LETTER_ORIGINAL_BYTES, paramLabel = "BYTES", description = "A dead "
            + "letter carries the refused record's bytes (base64) up to this size; a larger record is referred to by "
            + "its topic, partition, offset and SHA-256. At most " + AnalyzerLimits.MAX_DEAD_LETTER_ORIGINAL_BYTES
            + " (what fits the dead-letter topic). Default: ${DEFAULT-VALUE}.")
    int deadLetterOriginalBytes = AnalyzerLimits.DEFAULT_DEAD_LETTER_ORIGINAL_BYTES;
    @Option(names = "--" + AnalyzerLimits.MAX_STEP_JUMP, paramLabel = "STEPS", description = "A checkpoint's step may "
            + "be at most this far beyond its run's last accepted step (beyond 0 for the first); one further is "
            + "dead-lettered (step-jump), so that a wild step cannot make the run's later checkpoints stale. "
            + "Default: ${DEFAULT-VALUE}.")
    long maxStepJump = AnalyzerLimits.DEFAULT_MAX_STEP_JUMP;
    @Option(names = "--" + AnalyzerLimits.MAX_RECORD_RETRIES, paramLabel = "N", description = "How often the "
            + "analyzer replaces a stream thread that failed the same way (a failure that is not the record's: a "
            + "record's own failures are dead-lettered) before it gives up: Kafka Streams goes to ERROR, /healthz "
            + "fails and, with --exit-on-error, the process exits. Default: ${DEFAULT-VALUE}.")
    int maxRecordRetries = AnalyzerLimits.DEFAULT_MAX_RECORD_RETRIES;

    /** The limits, or an error naming the option and its allowed values. */
    AnalyzerLimits limits() {
        try {
            return new AnalyzerLimits(run.limits(), deadLetterOriginalBytes, maxStepJump, maxRecordRetries);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("--") ? e.getMessage()
                    : "--" + e.getMessage(), e);
        }
    }
}

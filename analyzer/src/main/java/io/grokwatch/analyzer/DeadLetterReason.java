package io.grokwatch.analyzer;

/** Why a record went to the dead-letter topic: a bounded set, so it can label a metric. */
public enum DeadLetterReason {
    /** Checkpoint bytes are not valid safetensors. */
    CORRUPT_CHECKPOINT("corrupt-checkpoint"),
    /** The checkpoint's metadata lacks a valid step/epoch or has non-numeric metrics. */
    BAD_METADATA("bad-metadata"),
    /** Tensors missing or of the wrong shape for the run's model. */
    MODEL_MISMATCH("model-mismatch"),
    /** Weights that hold NaN or infinity: the run has blown up (the run also gets a {@code non-finite} alert). */
    NON_FINITE_WEIGHTS("non-finite-weights"),
    /** A checkpoint whose run has no (valid) descriptor. */
    UNKNOWN_RUN("unknown-run"),
    /** A run descriptor that does not parse or validate. */
    MALFORMED_DESCRIPTOR("malformed-descriptor"),
    /** A step at or before the last analysed step of the run (duplicate or out of order). */
    STALE_STEP("stale-step"),
    /** A step further beyond the run's last accepted step than {@link AnalyzerLimits#maxStepJump()} allows. */
    STEP_JUMP("step-jump"),
    /** A descriptor or checkpoint whose analysis would cost more than {@link io.grokwatch.run.RunLimits} allow. */
    OVER_LIMIT("over-limit"),
    /**
     * Analysing the record failed in any other way (a numerical failure, a bug, the heap running out); the message
     * names the exception's class and says what it said.
     */
    ANALYSIS_FAILED("analysis-failed");

    private final String label;

    DeadLetterReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}

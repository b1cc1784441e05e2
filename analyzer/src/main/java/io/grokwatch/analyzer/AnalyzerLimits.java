package io.grokwatch.analyzer;

import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.run.RunLimits;

import java.util.Objects;

/**
 * The analyzer's bounds on what one record may cost or produce: a run's cost ({@link RunLimits}), how much of a
 * refused record its dead letter carries, and how far a checkpoint's step may jump ahead of its run.
 *
 * @param run                      what one run may cost
 * @param deadLetterOriginalBytes  a dead letter carries the original record's bytes up to this size; a larger one
 *                                 is referred to by its source topic, partition, offset and SHA-256 digest
 * @param maxStepJump              a checkpoint's step may be at most this far beyond the run's last accepted step (or
 *                                 beyond 0 for its first): a step of 2^63-1 would otherwise make every later one stale
 * @param maxRecordRetries         how often a stream thread that failed the same way (the same input: a failure that is
 *                                 not the record's, say a dead letter the broker refuses) is replaced before the
 *                                 analyzer gives up: Kafka Streams goes to ERROR and {@code /healthz} fails
 */
public record AnalyzerLimits(RunLimits run, int deadLetterOriginalBytes, long maxStepJump, int maxRecordRetries) {
    public static final String DEAD_LETTER_ORIGINAL_BYTES = "dead-letter-original-bytes";
    public static final String MAX_STEP_JUMP = "max-step-jump";
    public static final String MAX_RECORD_RETRIES = "max-record-retries";
    public static final int DEFAULT_MAX_RECORD_RETRIES = 3;
    /** Room in a dead letter for everything but the original: reason, message, source, key. */
    static final int DEAD_LETTER_ENVELOPE_BYTES = 64 * 1024;
    /**
     * Largest original a dead letter may carry: in base64 (4 bytes per 3) with its envelope it must stay under the
     * dead-letter topic's {@code max.message.bytes}. Carrying a 12 MB checkpoint failed the send, and the task.
     */
    public static final int MAX_DEAD_LETTER_ORIGINAL_BYTES =
            (TopicAdmin.MAX_CHECKPOINT_BYTES - DEAD_LETTER_ENVELOPE_BYTES) / 4 * 3;
    public static final int DEFAULT_DEAD_LETTER_ORIGINAL_BYTES = 1024 * 1024;
    /** Far more steps than any run takes between two checkpoints. */
    public static final long DEFAULT_MAX_STEP_JUMP = 10_000_000L;
    /** Room in a state record for its key and framing next to the eigenbases. */
    static final long STATE_RECORD_MARGIN_BYTES = 1024 * 1024;
    public static final AnalyzerLimits DEFAULTS = new AnalyzerLimits(RunLimits.DEFAULTS,
            DEFAULT_DEAD_LETTER_ORIGINAL_BYTES, DEFAULT_MAX_STEP_JUMP, DEFAULT_MAX_RECORD_RETRIES);

    public AnalyzerLimits {
        Objects.requireNonNull(run, "run");
        if (deadLetterOriginalBytes < 0 || deadLetterOriginalBytes > MAX_DEAD_LETTER_ORIGINAL_BYTES) {
            throw new IllegalArgumentException(DEAD_LETTER_ORIGINAL_BYTES + " must be in 0.."
                    + MAX_DEAD_LETTER_ORIGINAL_BYTES + " (the dead-letter topic's limit), got " + deadLetterOriginalBytes);
        }
        if (maxStepJump < 1) {
            throw new IllegalArgumentException(MAX_STEP_JUMP + " must be >= 1, got " + maxStepJump);
        }
        if (maxRecordRetries < 0) {
            throw new IllegalArgumentException(MAX_RECORD_RETRIES + " must be >= 0, got " + maxRecordRetries);
        }
        long maxState = ClientConfigs.MAX_STATE_RECORD_BYTES - STATE_RECORD_MARGIN_BYTES;
        if (run.maxStateBytes() > maxState) {
            throw new IllegalArgumentException(RunLimits.STATE_BYTES + " must be at most " + maxState
                    + " (what the analyzer's producer may send in one record), got " + run.maxStateBytes());
        }
    }
}

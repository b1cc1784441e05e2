package io.grokwatch.detect;

import io.grokwatch.records.Evidence;

/**
 * An alert raised for a checkpoint.
 *
 * @param type       the detector's name ({@code grokking-onset}, {@code generalization}, {@code spectral-gap},
 *                   {@code diverging}, {@code collapse}) or {@code non-finite}
 * @param confidence in [0, 1]
 * @param evidence   the signal, and the values and trends that made it fire
 */
public record Alert(String type, long epoch, long step, double confidence, Evidence evidence) {
    public Alert {
        java.util.Objects.requireNonNull(type, "type");
        java.util.Objects.requireNonNull(evidence, "evidence");
        if (!(confidence >= 0 && confidence <= 1)) {
            throw new IllegalArgumentException("confidence must be in [0, 1], got " + confidence);
        }
    }
}

package io.grokwatch.model;

/**
 * A checkpoint whose weights hold NaN or infinity: the model fits it, but the run that wrote it has blown up.
 * Kept apart from other format errors so the analyzer can raise the run's {@code non-finite} alert.
 */
public final class NonFiniteWeightsException extends ModelFormatException {
    private static final long serialVersionUID = 1L;

    public NonFiniteWeightsException(String tensor) {
        super("checkpoint has non-finite weights: " + tensor);
    }
}

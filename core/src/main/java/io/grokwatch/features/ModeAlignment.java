package io.grokwatch.features;

/**
 * How strongly a vector is the frequency-{@code k} mode of a family: {@code || [cos_k, sin_k]^T u ||} for a unit
 * vector {@code u}, 1 when {@code u} lies in the mode's cos/sin plane, whatever its phase.
 */
public record ModeAlignment(Family family, int frequency, double alignment) {
    public ModeAlignment {
        if (family == null) {
            throw new IllegalArgumentException("family must not be null");
        }
        if (frequency < 1) {
            throw new IllegalArgumentException("frequency must be >= 1, got " + frequency);
        }
    }

    /** {@code "sum k=3"}: the mode's name in reports. */
    public String mode() {
        return family.label() + " k=" + frequency;
    }
}

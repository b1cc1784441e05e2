package io.grokwatch.cli;

/** Range checks of numeric options at start-up, with messages that name the option and the allowed values. */
final class OptionChecks {
    private OptionChecks() {
    }

    /** Throws unless {@code min <= value <= max}, naming {@code option}. */
    static void requireRange(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(option + " must be in " + min + ".." + max + ", got " + value);
        }
    }
}

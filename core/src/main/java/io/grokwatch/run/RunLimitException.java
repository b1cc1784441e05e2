package io.grokwatch.run;

/** A run (or one of its checkpoints) that would cost more than {@link RunLimits} allow; the message names the limit. */
public class RunLimitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RunLimitException(String message) {
        super(message);
    }
}

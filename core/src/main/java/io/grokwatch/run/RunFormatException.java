package io.grokwatch.run;

/** A run descriptor or checkpoint record that cannot be used; the message names the field and what is wrong. */
public class RunFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RunFormatException(String message) {
        super(message);
    }

    public RunFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.grokwatch.safetensors;

/**
 * A safetensors file (or byte array) is malformed: bad header length, header that is not the expected JSON,
 * unknown dtype, shape that does not match its byte range, overlapping or out-of-range data offsets.
 *
 * <p>Unchecked because the caller can rarely recover from a corrupt checkpoint other than by skipping it.
 * The message is always a single line that names the offending tensor or field, so it can go straight into
 * a log line or a dead-letter record.
 */
public class SafetensorsFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SafetensorsFormatException(String message) {
        super(oneLine(message));
    }

    public SafetensorsFormatException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Last line of defence: messages are built one-line already, but never let a line break through. */
    private static String oneLine(String message) {
        return message == null ? null : message.replaceAll("[\\r\\n\\u0085\\u2028\\u2029]+", " ");
    }
}

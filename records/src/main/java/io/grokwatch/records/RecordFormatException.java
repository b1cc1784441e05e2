package io.grokwatch.records;

/** Bytes that are not the record they should be: unreadable JSON, a missing field, or a newer schema. */
public final class RecordFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RecordFormatException(String message) {
        super(message);
    }

    public RecordFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

package io.grokwatch.kafka;

/**
 * A checkpoint too big to publish. Thrown by {@link #check(int)} before anything is handed to a
 * producer, so the caller gets a plain message naming both sizes instead of a
 * {@code RecordTooLargeException} from a send future (or, worse, a broker rejection after the bytes
 * crossed the network).
 */
public final class CheckpointTooLargeException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * Room left in a Kafka message for everything that is not the checkpoint: the key (a run id and
     * step), headers, and record/batch framing (under 100 bytes). Generous on purpose.
     */
    public static final int RECORD_OVERHEAD_ALLOWANCE_BYTES = 64 * 1024;

    /**
     * The largest checkpoint payload accepted: the 16 MiB message limit that the producer
     * ({@code max.request.size}) and the topic ({@code max.message.bytes}) enforce, less
     * {@link #RECORD_OVERHEAD_ALLOWANCE_BYTES}. A payload that passes {@link #check} fits through both
     * even when it does not compress at all.
     */
    public static final int MAX_PAYLOAD_BYTES =
            TopicAdmin.MAX_CHECKPOINT_BYTES - RECORD_OVERHEAD_ALLOWANCE_BYTES;

    private final long bytes;
    private final int limit;

    public CheckpointTooLargeException(long bytes, int limit) {
        super("checkpoint of " + bytes + " bytes (" + mib(bytes) + ") exceeds the limit of " + limit
                + " bytes (" + mib(limit) + "; the " + mib(TopicAdmin.MAX_CHECKPOINT_BYTES)
                + " Kafka message limit less " + RECORD_OVERHEAD_ALLOWANCE_BYTES / 1024
                + " KiB for key, headers and framing)");
        this.bytes = bytes;
        this.limit = limit;
    }

    /**
     * Call with the serialized checkpoint size before producing it.
     *
     * @return {@code bytes}, for chaining
     * @throws CheckpointTooLargeException if {@code bytes > }{@link #MAX_PAYLOAD_BYTES}
     * @throws IllegalArgumentException if {@code bytes} is negative
     */
    public static int check(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("checkpoint size must be >= 0, got " + bytes);
        }
        if (bytes > MAX_PAYLOAD_BYTES) {
            throw new CheckpointTooLargeException(bytes, MAX_PAYLOAD_BYTES);
        }
        return bytes;
    }

    /** The rejected size in bytes. */
    public long bytes() {
        return bytes;
    }

    /** The limit it exceeded, in bytes. */
    public int limit() {
        return limit;
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024.0));
    }
}

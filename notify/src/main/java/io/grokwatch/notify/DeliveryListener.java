package io.grokwatch.notify;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.RecordFormatException;

/**
 * Told about every alert a receiver is done with, on that receiver's delivery thread (keep it quick). For
 * narration and tests; the metrics are kept by the dispatcher itself.
 */
public interface DeliveryListener {
    /** Nothing to tell. */
    DeliveryListener NONE = new DeliveryListener() {
    };

    /** {@code alert} reached {@code receiver} (a 2xx answer) after {@code attempts} attempts. */
    default void delivered(String receiver, AlertRecord alert, int attempts) {
    }

    /**
     * The receiver will not get this record: {@code reason} is {@code rejected} (a 4xx answer other than 408/429),
     * {@code expired} (older than the configured max age) or {@code malformed} ({@code alert} is then null).
     */
    default void dropped(String receiver, AlertRecord alert, String reason, String detail) {
    }
}

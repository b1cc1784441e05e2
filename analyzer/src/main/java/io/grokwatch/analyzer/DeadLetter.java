package io.grokwatch.analyzer;

import io.grokwatch.records.DeadLetterRecord;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The dead letter of a record, sized to fit its topic whatever it refers to: the original record's bytes in base64 up
 * to {@link AnalyzerLimits#deadLetterOriginalBytes()}, otherwise its SHA-256 and size (its source topic, partition
 * and offset say where it is). The message and the key are cut to a few kilobytes.
 */
final class DeadLetter {
    /** Longest message and key kept (characters); an exception's message can be arbitrarily long. */
    static final int MAX_TEXT_CHARS = 4096;

    private DeadLetter() {
    }

    static DeadLetterRecord of(ReceivedRecord record, DeadLetterReason reason, String message, int maxOriginalBytes) {
        boolean fromTopic = !record.topic().isEmpty();
        byte[] value = record.value();
        boolean kept = value.length <= maxOriginalBytes;
        return new DeadLetterRecord(DeadLetterRecord.SCHEMA_VERSION, reason.label(), cut(message),
                fromTopic ? record.topic() : null, fromTopic ? record.partition() : null,
                fromTopic ? record.offset() : null, record.key() == null ? null : cut(record.key()),
                record.timestampMs(), kept ? Base64.getEncoder().encodeToString(value) : null,
                kept ? null : value.length, kept ? null : sha256(value));
    }

    private static String cut(String s) {
        if (s == null || s.length() <= MAX_TEXT_CHARS) {
            return s;
        }
        return s.substring(0, MAX_TEXT_CHARS) + "... (" + (s.length() - MAX_TEXT_CHARS) + " more characters)";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}

package io.grokwatch.analyzer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The JSON of a dead letter, sized to fit its topic whatever it refers to: the original record's bytes in base64 up
 * to {@link AnalyzerLimits#deadLetterOriginalBytes()}, otherwise its SHA-256 and size (its source topic, partition
 * and offset say where it is). The message and the key are cut to a few kilobytes.
 */
final class DeadLetter {
    /** Longest message and key kept (characters); an exception's message can be arbitrarily long. */
    static final int MAX_TEXT_CHARS = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();

    private DeadLetter() {
    }

    static byte[] encode(ReceivedRecord record, DeadLetterReason reason, String message, int maxOriginalBytes) {
        ObjectNode o = JSON.createObjectNode();
        o.put("reason", reason.label()).put("message", cut(message));
        if (!record.topic().isEmpty()) {
            o.put("sourceTopic", record.topic()).put("partition", record.partition()).put("offset", record.offset());
        }
        o.put("key", record.key() == null ? null : cut(record.key())).put("timestampMs", record.timestampMs());
        byte[] value = record.value();
        if (value.length <= maxOriginalBytes) {
            o.put("originalBase64", Base64.getEncoder().encodeToString(value));
        } else {
            o.put("originalBytes", value.length).put("originalSha256", sha256(value));
        }
        try {
            return JSON.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
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

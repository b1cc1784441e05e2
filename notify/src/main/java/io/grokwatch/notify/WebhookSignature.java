package io.grokwatch.notify;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhook signatures in the Standard Webhooks form. Each request carries {@value #ID_HEADER} (the alert's
 * idempotency key, the same on every retry), {@value #TIMESTAMP_HEADER} (Unix seconds of this attempt) and
 * {@value #SIGNATURE_HEADER}: space-separated {@code v1,<base64 HMAC-SHA256>} entries, one per secret, of the bytes
 * {@code <id>.<timestamp>.<body>}. Signing the id and the time means a captured request can neither be replayed under
 * a new id nor, once older than the receiver's tolerance, at all.
 *
 * <p>A secret written {@code whsec_<base64>} is the base64-decoded key (the form other Standard Webhooks tools
 * generate); any other secret is keyed with its UTF-8 bytes. Several secrets sign side by side so that a receiver can
 * move from the old one to the new one without losing alerts.
 */
public final class WebhookSignature {
    public static final String ID_HEADER = "webhook-id";
    public static final String TIMESTAMP_HEADER = "webhook-timestamp";
    public static final String SIGNATURE_HEADER = "webhook-signature";
    /** How far a request's timestamp may be from the receiver's clock, either way. */
    public static final Duration DEFAULT_TOLERANCE = Duration.ofMinutes(5);
    private static final String VERSION = "v1";
    private static final String KEY_PREFIX = "whsec_";
    private static final String ALGORITHM = "HmacSHA256";

    /** What a receiver makes of a request's headers. */
    public enum Verdict {
        VALID,
        /** One of the three headers is missing or the timestamp is not a number. */
        MISSING_HEADERS,
        /** The timestamp is outside the tolerance: a replay, or a clock far off. */
        STALE_TIMESTAMP,
        /** No {@code v1} signature matches any of the receiver's secrets. */
        BAD_SIGNATURE
    }

    private WebhookSignature() {
    }

    /** The {@value #SIGNATURE_HEADER} value: one {@code v1,<base64>} per secret, space-separated. */
    public static String sign(List<String> secrets, String id, long timestampSeconds, byte[] body) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(body, "body");
        if (secrets == null || secrets.isEmpty()) {
            throw new IllegalArgumentException("at least one secret is needed to sign");
        }
        List<String> signatures = new ArrayList<>();
        for (String secret : secrets) {
            signatures.add(VERSION + "," + Base64.getEncoder().encodeToString(mac(secret, id, timestampSeconds,
                    body)));
        }
        return String.join(" ", signatures);
    }

    /**
     * Checks a request: headers present, timestamp within {@code tolerance} of {@code now}, and some {@code v1}
     * signature made with one of {@code secrets} (compared in constant time).
     */
    public static Verdict verify(List<String> secrets, String id, String timestamp, byte[] body, String signatures,
            Instant now, Duration tolerance) {
        if (id == null || id.isBlank() || timestamp == null || signatures == null) {
            return Verdict.MISSING_HEADERS;
        }
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.strip());
        } catch (NumberFormatException e) {
            return Verdict.MISSING_HEADERS;
        }
        if (Math.abs(now.getEpochSecond() - seconds) > tolerance.toSeconds()) {
            return Verdict.STALE_TIMESTAMP;
        }
        for (String secret : secrets) {
            byte[] expected = mac(secret, id, seconds, body);
            for (String entry : signatures.strip().split(" +")) {
                int comma = entry.indexOf(',');
                if (comma < 0 || !entry.substring(0, comma).equals(VERSION)) {
                    continue; // another scheme's signature, or garbage: not ours to judge
                }
                byte[] given;
                try {
                    given = Base64.getDecoder().decode(entry.substring(comma + 1));
                } catch (IllegalArgumentException e) {
                    continue;
                }
                if (MessageDigest.isEqual(expected, given)) {
                    return Verdict.VALID;
                }
            }
        }
        return Verdict.BAD_SIGNATURE;
    }

    /** The key bytes of a secret: base64-decoded after {@code whsec_}, else its UTF-8 bytes. */
    static byte[] key(String secret) {
        Objects.requireNonNull(secret, "secret");
        if (secret.isEmpty()) {
            throw new IllegalArgumentException("empty secret");
        }
        if (secret.startsWith(KEY_PREFIX)) {
            try {
                return Base64.getDecoder().decode(secret.substring(KEY_PREFIX.length()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a secret starting with " + KEY_PREFIX + " must continue in "
                        + "base64", e);
            }
        }
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] mac(String secret, String id, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key(secret), ALGORITHM));
            mac.update((id + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            // Every Java platform must provide HmacSHA256; a non-empty key is always valid.
            throw new IllegalStateException("HMAC-SHA256 unavailable: " + e.getMessage(), e);
        }
    }
}

package io.grokwatch.notify;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WebhookSignatureTest {
    private static final byte[] BODY = "{\"version\":\"4\"}".getBytes(StandardCharsets.UTF_8);
    private static final Duration FIVE_MINUTES = Duration.ofMinutes(5);

    private static String hmacBase64(byte[] key, String content) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return Base64.getEncoder().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void signsIdTimestampAndBodyWithEverySecret() throws Exception {
        String header = WebhookSignature.sign(List.of("s3cret", "next"), "gw-1", 1_700_000_000L, BODY);
        String content = "gw-1.1700000000.{\"version\":\"4\"}";
        assertEquals("v1," + hmacBase64("s3cret".getBytes(StandardCharsets.UTF_8), content) + " v1,"
                + hmacBase64("next".getBytes(StandardCharsets.UTF_8), content), header);
    }

    @Test
    void aWhsecSecretIsItsBase64DecodedKeyAsInTheSpecsExample() {
        // The example of the Standard Webhooks specification.
        assertEquals("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", WebhookSignature.sign(
                List.of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330L,
                "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void verifiesTheSignatureOfAnySecretWithinTheTolerance() {
        Instant now = Instant.ofEpochSecond(1_700_000_000L);
        String both = WebhookSignature.sign(List.of("old", "new"), "gw-1", now.getEpochSecond(), BODY);
        String oldOnly = WebhookSignature.sign(List.of("old"), "gw-1", now.getEpochSecond(), BODY);
        String ts = Long.toString(now.getEpochSecond());
        assertEquals(WebhookSignature.Verdict.VALID,
                WebhookSignature.verify(List.of("new"), "gw-1", ts, BODY, both, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.VALID,
                WebhookSignature.verify(List.of("new", "old"), "gw-1", ts, BODY, oldOnly, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.BAD_SIGNATURE,
                WebhookSignature.verify(List.of("new"), "gw-1", ts, BODY, oldOnly, now, FIVE_MINUTES));
    }

    @Test
    void aCapturedRequestUnderANewIdOrTimestampOrBodyFails() {
        Instant now = Instant.ofEpochSecond(1_700_000_000L);
        String ts = Long.toString(now.getEpochSecond());
        String sig = WebhookSignature.sign(List.of("k"), "gw-1", now.getEpochSecond(), BODY);
        assertEquals(WebhookSignature.Verdict.BAD_SIGNATURE,
                WebhookSignature.verify(List.of("k"), "gw-2", ts, BODY, sig, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.BAD_SIGNATURE, WebhookSignature.verify(List.of("k"), "gw-1",
                Long.toString(now.getEpochSecond() + 1), BODY, sig, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.BAD_SIGNATURE, WebhookSignature.verify(List.of("k"), "gw-1", ts,
                "{\"version\":\"5\"}".getBytes(StandardCharsets.UTF_8), sig, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.BAD_SIGNATURE, WebhookSignature.verify(List.of("k"), "gw-1", ts, BODY,
                "v2," + sig.substring(3) + " garbage v1,!!", now, FIVE_MINUTES));
    }

    @Test
    void staleOrFutureTimestampsAndMissingHeadersAreRefused() {
        Instant now = Instant.ofEpochSecond(1_700_000_000L);
        long old = now.getEpochSecond() - 301;
        String sig = WebhookSignature.sign(List.of("k"), "gw-1", old, BODY);
        assertEquals(WebhookSignature.Verdict.STALE_TIMESTAMP, WebhookSignature.verify(List.of("k"), "gw-1",
                Long.toString(old), BODY, sig, now, FIVE_MINUTES));
        long future = now.getEpochSecond() + 301;
        assertEquals(WebhookSignature.Verdict.STALE_TIMESTAMP, WebhookSignature.verify(List.of("k"), "gw-1",
                Long.toString(future), BODY, WebhookSignature.sign(List.of("k"), "gw-1", future, BODY), now,
                FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.VALID, WebhookSignature.verify(List.of("k"), "gw-1",
                Long.toString(now.getEpochSecond() - 300), BODY, WebhookSignature.sign(List.of("k"), "gw-1",
                        now.getEpochSecond() - 300, BODY), now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.MISSING_HEADERS,
                WebhookSignature.verify(List.of("k"), null, "1", BODY, sig, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.MISSING_HEADERS,
                WebhookSignature.verify(List.of("k"), "gw-1", "yesterday", BODY, sig, now, FIVE_MINUTES));
        assertEquals(WebhookSignature.Verdict.MISSING_HEADERS,
                WebhookSignature.verify(List.of("k"), "gw-1", "1", BODY, null, now, FIVE_MINUTES));
    }

    @Test
    void unusableSecretsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> WebhookSignature.key(""));
        assertThrows(IllegalArgumentException.class, () -> WebhookSignature.key("whsec_not base64!"));
        assertThrows(IllegalArgumentException.class, () -> WebhookSignature.sign(List.of(), "id", 1, BODY));
    }
}

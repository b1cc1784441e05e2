package io.grokwatch.notify;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebhookSignatureTest {
    @Test
    void isTheHmacSha256OfTheBodyInLowercaseHex() throws Exception {
        byte[] body = "{\"version\":\"4\"}".getBytes(StandardCharsets.UTF_8);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        StringBuilder hex = new StringBuilder("sha256=");
        for (byte b : mac.doFinal(body)) {
            hex.append(String.format("%02x", b & 0xff));
        }
        assertEquals(hex.toString(), WebhookSignature.sign("s3cret", body));
    }

    @Test
    void matchesRfc4231TestCase2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assertEquals("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                WebhookSignature.sign("Jefe", "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void verifiesOnlyTheExactBodyAndSecret() {
        byte[] body = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        String sig = WebhookSignature.sign("k", body);
        assertTrue(WebhookSignature.verify("k", body, sig));
        assertTrue(WebhookSignature.verify("k", body, sig.toUpperCase().replace("SHA256=", "sha256=")));
        assertFalse(WebhookSignature.verify("k", "{\"a\":2}".getBytes(StandardCharsets.UTF_8), sig));
        assertFalse(WebhookSignature.verify("other", body, sig));
        assertFalse(WebhookSignature.verify("k", body, null));
        assertFalse(WebhookSignature.verify("k", body, sig.substring(7)));
    }
}

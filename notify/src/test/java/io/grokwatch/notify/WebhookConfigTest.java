package io.grokwatch.notify;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebhookConfigTest {
    private static String error(Map<String, String> config) {
        return assertThrows(IllegalArgumentException.class, () -> WebhookConfig.fromMap(config)).getMessage();
    }

    @Test
    void defaults() {
        WebhookConfig c = WebhookConfig.fromMap(Map.of("webhook.urls", "http://a:9000/hook, https://b/x",
                "other.key", "ignored"));
        assertEquals(List.of(URI.create("http://a:9000/hook"), URI.create("https://b/x")), c.urls());
        assertNull(c.secret());
        assertEquals(Duration.ofMillis(500), c.backoffBase());
        assertEquals(Duration.ofSeconds(60), c.backoffCap());
        assertEquals(Duration.ofSeconds(10), c.requestTimeout());
        assertEquals(Duration.ZERO, c.maxAge());
        assertEquals(WebhookConfig.StartFrom.LATEST, c.startFrom());
        assertEquals("grokwatch-webhook", c.groupPrefix());
        assertEquals("", c.externalUrl());
        assertEquals(c, WebhookConfig.of(c.urls(), null));
    }

    @Test
    void everyKeyIsRead() {
        WebhookConfig c = WebhookConfig.fromMap(Map.of("webhook.urls", "http://a/", "webhook.secret", "s",
                "webhook.backoff-base-ms", "50", "webhook.backoff-cap-ms", "800", "webhook.request-timeout-ms", "300",
                "webhook.max-age-ms", "86400000", "webhook.start-from", "earliest", "webhook.group-prefix", "gw-hooks",
                "webhook.external-url", "http://x:9464/"));
        assertEquals("s", c.secret());
        assertEquals(List.of("s"), c.secrets());
        assertEquals(Duration.ofMillis(50), c.backoffBase());
        assertEquals(Duration.ofMillis(800), c.backoffCap());
        assertEquals(Duration.ofMillis(300), c.requestTimeout());
        assertEquals(Duration.ofDays(1), c.maxAge());
        assertEquals(WebhookConfig.StartFrom.EARLIEST, c.startFrom());
        assertEquals("gw-hooks", c.groupPrefix());
        assertEquals("http://x:9464/", c.externalUrl());
    }

    @Test
    void errorsNameTheKeyAndWhatIsAllowed() {
        assertEquals("webhook.urls: no receiver given; allowed: one or more http:// or https:// URLs with a host",
                error(Map.of()));
        assertEquals("webhook.urls: a URL with scheme 'ftp'; allowed: http:// or https:// URLs with a host",
                error(Map.of("webhook.urls", "ftp://host/x")));
        assertEquals("webhook.urls: a URL without a scheme; allowed: http:// or https:// URLs with a host",
                error(Map.of("webhook.urls", "/relative/path")));
        assertTrue(error(Map.of("webhook.urls", "http:///nohost")).startsWith("webhook.urls: a http URL without a host"));
        assertTrue(error(Map.of("webhook.urls", "http://a b/")).startsWith("webhook.urls: 'http://a b/' is not a URL"));
        assertEquals("webhook.urls: http://a:1/... is listed twice", error(Map.of("webhook.urls", "http://a:1/x,http://a:1/x")));
        assertEquals("webhook.secret: empty; allowed: one or more non-empty secrets separated by spaces, or no key at "
                + "all to send unsigned",
                error(Map.of("webhook.urls", "http://a/", "webhook.secret", "")));
        assertEquals("webhook.backoff-base-ms: 0 is not allowed; allowed: 1..3600000 ms",
                error(Map.of("webhook.urls", "http://a/", "webhook.backoff-base-ms", "0")));
        assertEquals("webhook.backoff-base-ms: 'fast' is not a whole number of milliseconds",
                error(Map.of("webhook.urls", "http://a/", "webhook.backoff-base-ms", "fast")));
        assertEquals("webhook.backoff-cap-ms: 100 is below webhook.backoff-base-ms (500); allowed: >= the base",
                error(Map.of("webhook.urls", "http://a/", "webhook.backoff-cap-ms", "100")));
        assertEquals("webhook.request-timeout-ms: 600000 is not allowed; allowed: 1..120000 ms",
                error(Map.of("webhook.urls", "http://a/", "webhook.request-timeout-ms", "600000")));
        assertEquals("webhook.max-age-ms: -1 is not allowed; allowed: 0..9223372036854775807 ms",
                error(Map.of("webhook.urls", "http://a/", "webhook.max-age-ms", "-1")));
        assertEquals("webhook.start-from: 'newest' is not allowed; allowed: latest, earliest",
                error(Map.of("webhook.urls", "http://a/", "webhook.start-from", "newest")));
        assertTrue(error(Map.of("webhook.urls", "http://a/", "webhook.group-prefix", "a b"))
                .startsWith("webhook.group-prefix: 'a b' is not allowed; allowed: 1..100 of ASCII letters"));
        assertTrue(error(Map.of("webhook.url", "http://a/")).startsWith("unknown webhook key 'webhook.url'; known keys: "
                + "webhook.urls, webhook.secret"));
    }

    @Test
    void neitherErrorsNorToStringShowTokensInTheUrlOrTheSecret() {
        String withToken = "http://hooks.example:8080/T0KEN?key=s3cr3t";
        String msg = error(Map.of("webhook.urls", withToken + "," + withToken));
        assertFalse(msg.contains("T0KEN") || msg.contains("s3cr3t"), msg);
        String shown = WebhookConfig.of(List.of(URI.create(withToken)), "hunter2").toString();
        assertFalse(shown.contains("T0KEN") || shown.contains("s3cr3t") || shown.contains("hunter2"), shown);
    }

    @Test
    void receiverNamesAreHostAndPortAndGroupsHashTheUrl() {
        List<URI> urls = List.of(URI.create("http://Hooks.example/a?token=x"), URI.create("https://hooks.example/b"),
                URI.create("http://hooks.example:80/c"), URI.create("http://127.0.0.1:9000/"));
        assertEquals(List.of("hooks.example:80", "hooks.example:443", "hooks.example:80#2", "127.0.0.1:9000"),
                WebhookDispatcher.receiverNames(urls));
        String g = WebhookDispatcher.groupId("grokwatch-webhook", urls.get(0));
        assertTrue(g.matches("grokwatch-webhook-[0-9a-f]{16}"), g);
        assertEquals(g, WebhookDispatcher.groupId("grokwatch-webhook", URI.create("http://Hooks.example/a?token=x")));
        assertFalse(g.equals(WebhookDispatcher.groupId("grokwatch-webhook", urls.get(2))));
    }

    @Test
    void severalSecretsSignDuringARotationAndUnusableOnesAreNamed() {
        assertEquals(List.of("old", "new"), WebhookConfig.fromMap(Map.of("webhook.urls", "http://a/",
                "webhook.secret", " old  new ")).secrets());
        assertEquals(List.of(), WebhookConfig.of(List.of(URI.create("http://a/")), null).secrets());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> WebhookConfig.fromMap(Map.of("webhook.urls", "http://a/", "webhook.secret", "whsec_!!")));
        assertTrue(e.getMessage().startsWith("webhook.secret: ") && e.getMessage().contains("allowed"),
                e.getMessage());
    }

    @Test
    void statusCodesAreClassifiedAndRefusalsKept() {
        assertTrue(ReceiverWorker.Attempt.classify(200, null).delivered());
        assertTrue(ReceiverWorker.Attempt.classify(204, null).delivered());
        for (int code : new int[] {400, 401, 403, 404, 410, 422, 301}) {
            ReceiverWorker.Attempt a = ReceiverWorker.Attempt.classify(code, null);
            assertTrue(!a.delivered() && a.refused(), "HTTP " + code);
        }
        for (int code : new int[] {408, 429, 500, 502, 503, 504}) {
            ReceiverWorker.Attempt a = ReceiverWorker.Attempt.classify(code, null);
            assertTrue(!a.delivered() && !a.refused(), "HTTP " + code);
        }
        assertEquals(Duration.ofSeconds(7), ReceiverWorker.Attempt.classify(429, "7").retryAfter());
        assertNull(ReceiverWorker.Attempt.classify(503, "Wed, 21 Oct 2015 07:28:00 GMT").retryAfter());
    }
}

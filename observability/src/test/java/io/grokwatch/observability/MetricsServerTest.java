package io.grokwatch.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The endpoint over real HTTP: the registry in Prometheus text format, health, readiness. */
class MetricsServerTest {
    static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesTheRegistryHealthAndReadiness() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Counter.builder("grokwatch.test.events").tag("kind", "a").register(registry).increment(3);
        AtomicBoolean ready = new AtomicBoolean(false);
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, registry::scrape, ready::get)) {
            HttpResponse<String> r = get(server.port(), "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            assertTrue(r.body().contains("grokwatch_test_events_total{kind=\"a\"} 3.0"), r.body());
            assertEquals(200, get(server.port(), "/healthz").statusCode());
            assertEquals(503, get(server.port(), "/readyz").statusCode());
            ready.set(true);
            assertEquals(200, get(server.port(), "/readyz").statusCode());
        }
    }

    @Test
    void aBusyPortIsAnErrorNamingIt() {
        try (MetricsServer first = MetricsServer.start("127.0.0.1", 0, () -> "", () -> true)) {
            var e = assertThrows(java.io.UncheckedIOException.class,
                    () -> MetricsServer.start("127.0.0.1", first.port(), () -> "", () -> true));
            assertTrue(e.getMessage().contains(":" + first.port()), e.getMessage());
        }
    }

    private static java.net.Socket halfSent(int port) throws Exception {
        java.net.Socket s = new java.net.Socket("127.0.0.1", port);
        s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    @Test
    void aHalfSentRequestDoesNotBlockHealth() throws Exception {
        // A read timeout far longer than the client's: served one at a time, /healthz would wait for it.
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, () -> "", () -> Health.ok("ok"),
                () -> Health.ok("ready"), java.time.Duration.ofSeconds(60));
             java.net.Socket halfOpen = halfSent(server.port())) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + server.port() + "/healthz")).timeout(java.time.Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("ok\n", r.body());
            assertEquals(0, halfOpen.getInputStream().available(), "the half-sent request is still waiting");
        }
    }

    @Test
    void manyHalfSentRequestsDoNotBlockHealthEither() throws Exception {
        java.util.List<java.net.Socket> stalled = new java.util.ArrayList<>();
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, () -> "", () -> Health.ok("ok"),
                () -> Health.ok("ready"), java.time.Duration.ofSeconds(60))) {
            for (int i = 0; i < MetricsServer.MAX_CONNECTIONS / 2; i++) {
                stalled.add(halfSent(server.port()));
            }
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + server.port() + "/healthz")).timeout(java.time.Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
        } finally {
            for (java.net.Socket s : stalled) {
                s.close();
            }
        }
    }

    @Test
    void aHalfSentRequestGets408AfterTheReadTimeout() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, () -> "", () -> Health.ok("ok"),
                () -> Health.ok("ready"), java.time.Duration.ofMillis(300));
             java.net.Socket halfOpen = halfSent(server.port())) {
            halfOpen.setSoTimeout(10_000);
            String answer = new String(halfOpen.getInputStream().readAllBytes(),
                    java.nio.charset.StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 408 "), answer);
        }
    }

    @Test
    void unhealthyAndNotReadyAnswer503WithTheReason() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, () -> "", () -> Health.failing(
                "Kafka Streams is in ERROR"), () -> Health.failing("broker unreachable"), MetricsServer.DEFAULT_READ_TIMEOUT)) {
            HttpResponse<String> live = get(server.port(), "/healthz");
            assertEquals(503, live.statusCode());
            assertEquals("Kafka Streams is in ERROR\n", live.body());
            HttpResponse<String> ready = get(server.port(), "/readyz");
            assertEquals(503, ready.statusCode());
            assertEquals("broker unreachable\n", ready.body());
            assertEquals(404, get(server.port(), "/other").statusCode());
        }
    }

    @Test
    void manyConcurrentClientsAreAllServed() throws Exception {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, () -> "x 1\n", () -> true)) {
            var client = HttpClient.newHttpClient();
            java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> all = new java.util.ArrayList<>();
            for (int i = 0; i < 40; i++) {
                all.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()));
            }
            for (var f : all) {
                assertEquals("x 1\n", f.get().body());
            }
        }
    }

    @Test
    void listensOnTheGivenHostOnly() {
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, () -> "", () -> true)) {
            assertEquals("127.0.0.1", server.host());
        }
    }

    @Test
    void aNonPositiveReadTimeoutIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> MetricsServer.start("127.0.0.1", 0, () -> "",
                () -> Health.ok("ok"), () -> Health.ok("ok"), java.time.Duration.ZERO));
        assertTrue(e.getMessage().startsWith("read timeout must be positive"), e.getMessage());
    }
}

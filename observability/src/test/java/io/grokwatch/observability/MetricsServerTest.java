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
}

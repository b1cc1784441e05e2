package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.grokwatch.detect.Alert;
import io.grokwatch.detect.Observation;
import io.grokwatch.features.Family;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The metrics endpoint over real HTTP: Prometheus names, labels and values, health and readiness. */
class MetricsServerTest {
    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void exposesServiceAndPerRunMetricsInPrometheusFormat() throws Exception {
        PrometheusAnalyzerMetrics m = new PrometheusAnalyzerMetrics();
        m.analysed("run-a", 0.12, 0.3);
        m.deadLettered(DeadLetterReason.CORRUPT_CHECKPOINT);
        m.spectrum("run-a", new Observation(90, 90, 1.0, 0.01, 0.84, new double[] {0.6, 0.02, 0.01}, Map.of(
                "secondCliff", Map.of(Family.N, 0.01, Family.M, 0.02, Family.SUM, 0.82, Family.DIFF, 0.80)),
                Map.of("endOfSecondCliff", 1.07)));
        m.alert("run-a", new Alert("grokking-onset", 60, 60, 0.5, JsonNodeFactory.instance.objectNode()));
        AtomicBoolean ready = new AtomicBoolean(false);
        try (MetricsServer server = MetricsServer.start("127.0.0.1", 0, m::scrape, ready::get)) {
            HttpResponse<String> r = get(server.port(), "/metrics");
            assertEquals(200, r.statusCode());
            String body = r.body();
            for (String expected : new String[] {
                "grokwatch_dead_letters_total{reason=\"corrupt-checkpoint\"} 1.0",
                "grokwatch_dead_letters_total{reason=\"model-mismatch\"} 0.0",
                "grokwatch_checkpoint_analysis_seconds_count 1",
                "grokwatch_checkpoint_lag_seconds_bucket",
                "grokwatch_eigenvalue{rank=\"1\",run=\"run-a\"} 0.6",
                "grokwatch_cliff_overlap{cliff=\"secondCliff\",family=\"sum\",run=\"run-a\"} 0.82",
                "grokwatch_gap_ratio{gap=\"endOfSecondCliff\",run=\"run-a\"} 1.07",
                "grokwatch_test_accuracy{run=\"run-a\"} 0.84",
                "grokwatch_epoch{run=\"run-a\"} 90.0",
                "grokwatch_phase{run=\"run-a\"} 1.0",
                "grokwatch_alerts_total{run=\"run-a\",type=\"grokking-onset\"} 1.0"}) {
                assertTrue(body.contains(expected), "missing: " + expected + "\n" + body);
            }
            assertEquals(200, get(server.port(), "/healthz").statusCode());
            assertEquals(503, get(server.port(), "/readyz").statusCode());
            ready.set(true);
            assertEquals(200, get(server.port(), "/readyz").statusCode());
        }
    }
}

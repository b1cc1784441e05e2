package io.grokwatch.cli;

import io.grokwatch.observability.MetricsServer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the endpoint listens: this machine only unless {@code --metrics-host} widens it. */
class MetricsOptionsTest {
    /** The options as a command line parses them. */
    private static MetricsOptions parse(String... args) {
        @CommandLine.Command(name = "x")
        class Holder {
            @CommandLine.Mixin
            MetricsOptions options;
        }
        Holder h = new Holder();
        new CommandLine(h).parseArgs(args);
        return h.options;
    }

    private static MetricsServer start(MetricsOptions o) {
        return o.startTrainer(MetricsOptions.trainerRegistry(), o.trainerMetrics(MetricsOptions.trainerRegistry()),
                () -> true);
    }

    @Test
    void listensOnLoopbackByDefault() throws Exception {
        try (MetricsServer server = start(parse("--metrics-port", "0"))) {
            assertEquals("127.0.0.1", server.host());
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + server.port() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
        }
    }

    @Test
    void metricsHostWidensIt() {
        try (MetricsServer server = start(parse("--metrics-port", "0", "--metrics-host", "0.0.0.0"))) {
            assertEquals("0.0.0.0", server.host());
        }
    }

    @Test
    void aPortOutOfRangeIsAnErrorNamingTheOption() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> start(parse("--metrics-port", "70000")));
        assertTrue(e.getMessage().startsWith("--metrics-port must be in -1..65535, got 70000"), e.getMessage());
    }
}

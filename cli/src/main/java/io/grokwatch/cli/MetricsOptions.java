package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.analyzer.MetricsServer;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Option;

/** {@code --metrics-port}: where a service serves {@code /metrics}, {@code /healthz} and {@code /readyz}. */
final class MetricsOptions {
    @Option(names = "--metrics-port", description = "Port of GET /metrics, /healthz, /readyz (0 = any free port, -1 = "
            + "none). Default: ${DEFAULT-VALUE}.")
    int port = 9464;

    /** The endpoint for the analyzer (ready while its streams run), or null with {@code --metrics-port -1}. */
    MetricsServer start(PrometheusAnalyzerMetrics metrics, AnalyzerService analyzer) {
        if (port < 0) {
            return null;
        }
        MetricsServer server = MetricsServer.start("0.0.0.0", port, metrics::scrape,
                () -> analyzer.state() == KafkaStreams.State.RUNNING);
        System.out.println("metrics (Prometheus) at http://localhost:" + server.port() + "/metrics, health at "
                + "/healthz and /readyz");
        return server;
    }
}

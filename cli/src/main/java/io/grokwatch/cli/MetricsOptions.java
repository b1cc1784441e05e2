package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import io.grokwatch.observability.MetricsServer;
import io.grokwatch.observability.RunMeters;
import io.grokwatch.trainer.TrainerMetrics;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code --metrics-port}: where a service serves {@code /metrics}, {@code /healthz} and {@code /readyz};
 * {@code --metrics-retention}: how long a run's series outlive its last checkpoint.
 */
final class MetricsOptions {
    static final int ANALYZER_PORT = 9464;
    static final int TRAINER_PORT = 9465;

    @Option(names = "--metrics-port", description = "Port of GET /metrics, /healthz, /readyz (0 = any free port, -1 = "
            + "none). Default: " + ANALYZER_PORT + " for analyze and demo, " + TRAINER_PORT + " for train.")
    Integer port;
    @Option(names = RunMeters.RETENTION_OPTION, paramLabel = "DURATION", description = "Remove a run's series from "
            + "/metrics once it has had no checkpoint for this long (e.g. 30m, 2h, PT90M). Default: ${DEFAULT-VALUE}.")
    String retention = "30m";

    Duration retention() {
        return RunMeters.parseRetention(retention);
    }

    /** The analyzer's meters in a registry of their own, with this retention. */
    PrometheusAnalyzerMetrics analyzerMetrics() {
        return new PrometheusAnalyzerMetrics(retention());
    }

    /** The trainer's meters in {@code registry}, with this retention. */
    TrainerMetrics trainerMetrics(PrometheusMeterRegistry registry) {
        return new TrainerMetrics(registry, retention(), Clock.SYSTEM);
    }

    /** A registry for a trainer process. */
    static PrometheusMeterRegistry trainerRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /** The endpoint for the analyzer (ready while its streams run), or null with {@code --metrics-port -1}. */
    MetricsServer start(PrometheusAnalyzerMetrics metrics, AnalyzerService analyzer) {
        return start(ANALYZER_PORT, metrics::scrape, () -> analyzer.state() == KafkaStreams.State.RUNNING);
    }

    /**
     * The endpoint for the trainer (ready once {@code ready} says so), or null with {@code --metrics-port -1}.
     * A scrape also removes the series of runs past their retention.
     */
    MetricsServer startTrainer(PrometheusMeterRegistry registry, TrainerMetrics metrics, BooleanSupplier ready) {
        return start(TRAINER_PORT, () -> {
            metrics.expire();
            return registry.scrape();
        }, ready);
    }

    private MetricsServer start(int defaultPort, Supplier<String> scrape, BooleanSupplier ready) {
        int p = port == null ? defaultPort : port;
        if (p < 0) {
            return null;
        }
        MetricsServer server = MetricsServer.start("0.0.0.0", p, scrape, ready);
        System.out.println("metrics (Prometheus) at http://localhost:" + server.port() + "/metrics, health at "
                + "/healthz and /readyz");
        return server;
    }
}

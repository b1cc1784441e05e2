package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import io.grokwatch.observability.Health;
import io.grokwatch.observability.MetricsServer;
import io.grokwatch.observability.RunMeters;
import io.grokwatch.observability.ServiceMeters;
import io.grokwatch.trainer.TrainerMetrics;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code --metrics-host} and {@code --metrics-port}: where a service serves {@code /metrics}, {@code /healthz} and {@code /readyz};
 * {@code --metrics-retention}: how long a run's series outlive its last checkpoint.
 */
final class MetricsOptions {
    static final int ANALYZER_PORT = 9464;
    static final int TRAINER_PORT = 9465;

    /** Only this machine by default; containers give 0.0.0.0 so that Prometheus and the probes reach it. */
    static final String DEFAULT_HOST = "127.0.0.1";

    @Option(names = "--metrics-host", paramLabel = "ADDRESS", description = "Address /metrics, /healthz and /readyz "
            + "listen on: 127.0.0.1 for this machine only, 0.0.0.0 for every interface (as the container images "
            + "set). Default: ${DEFAULT-VALUE}.")
    String host = DEFAULT_HOST;
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

    /**
     * A registry for a trainer process, with the process meters and build info. They are never unbound: the
     * registry is the train command's for the life of the process.
     */
    static PrometheusMeterRegistry trainerRegistry() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServiceMeters.bind(registry);
        return registry;
    }

    /** JVM and process meters and {@code grokwatch_build_info} in {@code registry}, until closed. */
    static ServiceMeters processMeters(PrometheusAnalyzerMetrics metrics) {
        return ServiceMeters.bind(metrics.registry());
    }

    /**
     * The endpoint for the analyzer, or null with {@code --metrics-port -1}: healthy unless its streams failed
     * ({@link AnalyzerService#liveness()}), ready while they run and the broker answers.
     */
    MetricsServer start(PrometheusAnalyzerMetrics metrics, AnalyzerService analyzer) {
        return start(ANALYZER_PORT, metrics::scrape, analyzer::liveness, analyzer::readiness);
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
        return start(defaultPort, scrape, () -> Health.ok("ok"),
                () -> ready.getAsBoolean() ? Health.ok("ready") : Health.failing("not ready"));
    }

    private MetricsServer start(int defaultPort, Supplier<String> scrape, Supplier<Health> live,
                                Supplier<Health> ready) {
        int p = port == null ? defaultPort : port;
        if (p < 0) {
            return null;
        }
        if (p > 65535) {
            throw new IllegalArgumentException("--metrics-port must be in -1..65535, got " + p);
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("--metrics-host must be an address such as 127.0.0.1 or 0.0.0.0");
        }
        MetricsServer server = MetricsServer.start(host, p, scrape, live, ready, MetricsServer.DEFAULT_READ_TIMEOUT);
        String shown = host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host.contains(":") ? "[" + host
                + "]" : host;
        System.out.println("metrics (Prometheus) at http://" + shown + ":" + server.port() + "/metrics, health at "
                + "/healthz and /readyz (listening on " + host + ")");
        return server;
    }
}

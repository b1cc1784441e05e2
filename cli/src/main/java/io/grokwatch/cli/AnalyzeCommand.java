package io.grokwatch.cli;

import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.kafka.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code grokwatch analyze}: the analyzer service, until interrupted. */
@Command(name = "analyze", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the analyzer: a Kafka Streams application that turns every checkpoint into its eNTK "
                + "spectrum (grokwatch.spectra) and dead-letters bad input (grokwatch.dead-letter). Alerts go to "
                + "grokwatch.alerts and, with --webhook-url, to webhook receivers. Start more "
                + "instances with the same --application-id to spread runs across them.",
                "Example: grokwatch analyze --bootstrap-servers localhost:9092"})
final class AnalyzeCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers, HOST:PORT[,...].")
    String bootstrapServers;
    @Option(names = "--application-id", description = "Streams application id. Default: ${DEFAULT-VALUE}.")
    String applicationId = AnalyzerService.Config.DEFAULT_APPLICATION_ID;
    @Option(names = "--state-dir", description = "Local state directory. Default: ${DEFAULT-VALUE}.")
    Path stateDir = Path.of(".grokwatch", "analyzer-state");
    @Option(names = "--partitions", description = "Partitions of topics created here. Default: ${DEFAULT-VALUE}.")
    int partitions = 4;
    @Option(names = "--single-broker", description = "Replication factor 1 for every topic (a one-broker cluster).")
    boolean singleBroker;
    @picocli.CommandLine.Mixin
    MetricsOptions metricsOptions;
    @picocli.CommandLine.Mixin
    UiOptions ui;
    @picocli.CommandLine.Mixin
    DetectorOptions detectors;
    @picocli.CommandLine.Mixin
    WebhookOptions webhooks;
    @Option(names = "--out", paramLabel = "FILE", description = "Also write every spectrum, alert and dead letter "
            + "committed from now on to this file, one JSON object per line with \"kind\": spectrum, alert or "
            + "deadLetter (as demo --out; grokwatch report reads it).")
    java.nio.file.Path out;
    @Option(names = "--analysis-threads", description = "Threads per checkpoint analysis. Default: ${DEFAULT-VALUE}.")
    int analysisThreads = Runtime.getRuntime().availableProcessors();
    @Option(names = "--backlog", paramLabel = "all|latest", converter = BacklogConverter.class,
            description = "Checkpoints of a run arriving faster than they can be analysed: 'all' analyses every one "
                    + "in order (the lag grows meanwhile), 'latest' analyses the newest and skips those it superseded "
                    + "(the lag stays within about two analyses; grokwatch replay analyses every one). Each "
                    + "spectrum's pace field (and grokwatch_analysis_load) says whether the analyzer keeps up with its "
                    + "run, and how many epochs between checkpoints would. Default: ${DEFAULT-VALUE}.")
    io.grokwatch.analyzer.Backlog backlog = io.grokwatch.analyzer.Backlog.ALL;
    @picocli.CommandLine.Mixin
    AnalyzerLimitsOptions limits;
    @Option(names = "--exit-on-error", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Exit with status " + FAILED + " once the analyzer has failed for good (Kafka Streams in "
                    + "ERROR: its threads gone, or the same failure repeated past --max-record-retries), so that a "
                    + "supervisor restarts it; with --no-exit-on-error it stays up with /healthz failing. "
                    + "Default: ${DEFAULT-VALUE}.")
    boolean exitOnError = true;

    /** Exit status of an analyzer that failed for good. */
    static final int FAILED = 3;

    /** Parses {@code --backlog}, naming the allowed values when it cannot. */
    static final class BacklogConverter implements picocli.CommandLine.ITypeConverter<io.grokwatch.analyzer.Backlog> {
        @Override
        public io.grokwatch.analyzer.Backlog convert(String value) {
            try {
                return io.grokwatch.analyzer.Backlog.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Override
    public Integer call() throws InterruptedException, java.io.IOException {
        CountDownLatch closed = new CountDownLatch(1);
        webhooks.config(); // a bad --webhook-url fails before anything starts
        if (out != null && java.nio.file.Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out: " + out + " is a directory; give a file");
        }
        OptionChecks.requireRange("--partitions", partitions, 1, 100_000);
        OptionChecks.requireRange("--analysis-threads", analysisThreads, 1, 4096);
        io.grokwatch.analyzer.AnalyzerLimits recordLimits = limits.limits(); // named errors before anything starts
        io.grokwatch.analyzer.PrometheusAnalyzerMetrics metrics = metricsOptions.analyzerMetrics();
        io.grokwatch.detect.DetectorSuite suite = detectors.suite();
        metrics.onsetThreshold(detectors.onsetThreshold());
        AnalyzerService service = AnalyzerService.start(new AnalyzerService.Config(bootstrapServers, applicationId,
                stateDir, Topics.defaults(), partitions, singleBroker, analysisThreads, backlog, recordLimits), metrics,
                suite);
        io.grokwatch.observability.ServiceMeters process = MetricsOptions.processMeters(metrics);
        io.grokwatch.observability.MetricsServer server = metricsOptions.start(metrics, service);
        io.grokwatch.notify.WebhookDispatcher hooks = webhooks.start(bootstrapServers, Topics.defaults(),
                metrics.registry(), null);
        io.grokwatch.ui.LiveUi page = ui.start(bootstrapServers, Topics.defaults(), metricsOptions.port);
        RecordTap tap = out == null ? null : new RecordTap(bootstrapServers, Topics.defaults(), out);
        java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable stop = () -> {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            if (hooks != null) {
                hooks.close();
            }
            if (page != null) {
                page.close();
            }
            if (tap != null) {
                try {
                    tap.close();
                } catch (java.io.IOException e) {
                    System.err.println("analyze --out: " + e.getMessage());
                }
            }
            service.close();
            if (server != null) {
                server.close();
            }
            process.close();
            closed.countDown();
        };
        // The hook closes the streams cleanly (committing state) before the JVM exits.
        Thread hook = new Thread(stop, "analyzer-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("analyzer running against " + bootstrapServers + "; Ctrl-C stops it");
        if (exitOnError) {
            service.failure().thenAccept(why -> closed.countDown());
        }
        closed.await();
        if (service.failure().isDone() && !stopped.get()) {
            System.err.println("analyzer failed: " + service.failure().join() + "; exiting with status " + FAILED);
            stop.run();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
            return FAILED;
        }
        return 0;
    }
}

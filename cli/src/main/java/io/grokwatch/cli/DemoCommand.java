package io.grokwatch.cli;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.DeadLetterRecord;
import io.grokwatch.records.Evidence;
import io.grokwatch.records.KernelSpectrum;
import io.grokwatch.records.SpectrumRecord;
import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.InProcessBroker;
import io.grokwatch.kafka.Topics;
import io.grokwatch.trainer.RunPublisher;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code grokwatch demo}: everything in one process — a real single-node Kafka broker (KRaft, data in a
 * local directory), the analyzer, the trainer — narrated on the console.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Start a real Kafka broker (in-process, KRaft), the analyzer and a trainer (modular addition "
                + "p=29 by default) in one process, and narrate each analysed checkpoint and alert as it arrives "
                + "(and, with --webhook-url, where each alert was delivered).",
                "Example: grokwatch demo --exit-when-done"})
final class DemoCommand implements Callable<Integer> {
    @Mixin
    TaskOptions task;
    @Option(names = "--bootstrap-servers", description = "Use this Kafka cluster instead of the embedded broker.")
    String bootstrapServers;
    @Option(names = "--data-dir", description = "Broker data and analyzer state. Default: ${DEFAULT-VALUE}.")
    Path dataDir = Path.of(".grokwatch", "demo");
    @Option(names = "--run-id", description = "Run id. Default: generated from the task and the time.")
    String runId;
    @Mixin
    MetricsOptions metricsOptions;
    @Mixin
    UiOptions ui;
    @Mixin
    DetectorOptions detectors;
    @Mixin
    WebhookOptions webhooks;
    @Option(names = "--exit-when-done", description = "Stop once the trainer's run has been fully analysed.")
    boolean exitWhenDone;
    @Option(names = "--backlog", paramLabel = "all|latest", converter = AnalyzeCommand.BacklogConverter.class,
            description = "Checkpoints arriving faster than they can be analysed (e.g. --checkpoint-every 1): "
                    + "'latest' analyses the newest and skips those it superseded, so the spectra stay live; 'all' "
                    + "analyses every one and falls behind. The summary says whether the analyzer kept up. "
                    + "Default: ${DEFAULT-VALUE}.")
    io.grokwatch.analyzer.Backlog backlog = io.grokwatch.analyzer.Backlog.LATEST;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--out", paramLabel = "FILE", description = "Also write the run's spectra, alerts and dead "
            + "letters to this file as they arrive, one JSON object per line with \"kind\": spectrum, alert or "
            + "deadLetter (for a notebook, or python3 docs/plot_latency.py).")
    Path out;

    /** Epochs of the trainer's warm-up (well under a second at p = 29 on two cores; docs/benchmarks.md). */
    static final int TRAINER_WARM_UP_EPOCHS = 60;

    @Override
    @SuppressWarnings("try") // the broker and the analyzer are held open for the demo's lifetime, not used by name
    public Integer call() throws Exception {
        String id = runId != null ? runId : task.defaultRunId();
        webhooks.config(); // a bad --webhook-url fails before the broker starts
        // So does a classpath without the broker (the service images'): only the launcher's and the tests' carry one.
        InProcessBroker.Factory brokers = bootstrapServers != null ? null : InProcessBroker.factory().orElseThrow(
                () -> new IllegalStateException("no in-process Kafka broker on this classpath (the service images "
                        + "carry Kafka's clients only): run the demo with ./grokwatch, or against a cluster with "
                        + "--bootstrap-servers"));
        RecordLog log; // and so does an --out that cannot be written
        try {
            log = RecordLog.open(out);
        } catch (java.io.IOException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--out: cannot write " + out + " ("
                    + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
        TrainingPublication publication = new TrainingPublication(task, id);
        // The trainer shares this JVM (and its cores) with the broker and the analyzer: it compiles its training
        // step while they start rather than next to the first checkpoints' analyses.
        Thread trainerWarmUp = new Thread(() -> {
            try {
                publication.warmUpTrainer(TRAINER_WARM_UP_EPOCHS);
            } catch (RuntimeException e) {
                // The real trainer meets the same failure and reports it.
            }
        }, "demo-trainer-warm-up");
        trainerWarmUp.setDaemon(true);
        trainerWarmUp.start();
        Topics topics = Topics.defaults();
        long started = System.nanoTime();
        InProcessBroker broker = null;
        String bootstrap = bootstrapServers;
        if (bootstrap == null) {
            System.out.println("starting an embedded Kafka broker (KRaft) with data in " + dataDir.resolve("kafka"));
            broker = brokers.start(dataDir.resolve("kafka"));
            bootstrap = broker.bootstrapServers();
        }
        Narrator narrator = new Narrator(publication.checkpoints());
        io.grokwatch.analyzer.PrometheusAnalyzerMetrics metrics = metricsOptions.analyzerMetrics();
        metrics.onsetThreshold(detectors.onsetThreshold());
        // One endpoint for both services: the trainer's meters go into the analyzer's registry.
        io.grokwatch.trainer.TrainerMetrics trainerMetrics = metricsOptions.trainerMetrics(metrics.registry());
        WebhookOptions.Narration deliveries = new WebhookOptions.Narration();
        AtomicBoolean stopping = new AtomicBoolean();
        try (RecordLog records = log;
             InProcessBroker ownedBroker = broker;
             AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(bootstrap,
                     AnalyzerService.Config.DEFAULT_APPLICATION_ID, dataDir.resolve("analyzer-state"), topics,
                     broker != null ? 1 : 4, broker != null, Runtime.getRuntime().availableProcessors(), backlog),
                     metrics, detectors.suite());
             KafkaConsumer<String, byte[]> consumer = spectraConsumer(bootstrap, id, topics);
             io.grokwatch.observability.ServiceMeters process = MetricsOptions.processMeters(metrics);
             io.grokwatch.observability.MetricsServer server = metricsOptions.start(metrics, analyzer);
             io.grokwatch.ui.LiveUi page = ui.start(bootstrap, topics, metricsOptions.port);
             io.grokwatch.notify.WebhookDispatcher hooks = webhooks.start(bootstrap, topics, metrics.registry(),
                     deliveries)) {
            System.out.printf("broker %s, analyzer running (%.1f s); training run %s: %s, %d checkpoints%n", bootstrap,
                    (System.nanoTime() - started) / 1e9, id, publication.descriptor().task(), publication.checkpoints());
            if (!exitWhenDone) {
                System.out.println("spectra go to " + topics.spectra() + "; Ctrl-C stops the demo");
            }
            String bs = bootstrap;
            Thread trainer = new Thread(() -> {
                try (RunPublisher publisher = new RunPublisher(bs, topics, id)) {
                    publication.run(publisher, (epoch, step, m) -> { }, stopping::get, task.epochMillis(40),
                            trainerMetrics);
                } catch (RuntimeException e) {
                    narrator.fail("trainer failed: " + e.getMessage());
                }
            }, "demo-trainer");
            trainer.setDaemon(true);
            trainerWarmUp.join();
            trainer.start();
            CountDownLatch interrupted = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stopping.set(true);
                interrupted.countDown();
            });
            Runtime.getRuntime().addShutdownHook(hook);
            while (!(exitWhenDone && narrator.done()) && interrupted.getCount() > 0 && !narrator.failed()) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (!id.equals(r.key())) {
                        continue;
                    }
                    if (r.topic().equals(topics.alerts())) {
                        AlertRecord alert = AlertRecord.read(r.value());
                        narrator.alert(alert);
                        records.write("alert", alert);
                    } else if (r.topic().equals(topics.spectra())) {
                        SpectrumRecord spectrum = SpectrumRecord.read(r.value());
                        narrator.spectrum(spectrum);
                        records.write("spectrum", spectrum);
                    } else {
                        DeadLetterRecord dead = DeadLetterRecord.read(r.value());
                        narrator.deadLetter(dead);
                        records.write("deadLetter", dead);
                    }
                }
                records.flush();
            }
            stopping.set(true);
            trainer.join(10_000);
            if (hooks != null && exitWhenDone && !narrator.failed()
                    && !deliveries.await(id, narrator.alerts, hooks.receivers().size(), java.time.Duration.ofSeconds(30))) {
                System.out.println(">>> webhook: not every alert delivered within 30 s; the rest wait in Kafka for "
                        + "the next start");
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Already exiting: the hook has run.
            }
        }
        narrator.summary();
        return narrator.failed() ? 1 : 0;
    }

    /** {@code --out}: the records the demo narrates, as JSON lines; does nothing without a file. */
    static final class RecordLog implements AutoCloseable {
        private final java.io.BufferedWriter writer;

        private RecordLog(java.io.BufferedWriter writer) {
            this.writer = writer;
        }

        static RecordLog open(Path file) throws java.io.IOException {
            if (file == null) {
                return new RecordLog(null);
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                java.nio.file.Files.createDirectories(parent);
            }
            return new RecordLog(java.nio.file.Files.newBufferedWriter(file));
        }

        void write(String kind, Object record) throws java.io.IOException {
            if (writer == null) {
                return;
            }
            com.fasterxml.jackson.databind.node.ObjectNode line = JsonFiles.MAPPER.createObjectNode();
            line.put("kind", kind);
            line.setAll(JsonFiles.tree(record));
            writer.write(JsonFiles.MAPPER.writeValueAsString(line));
            writer.newLine();
        }

        void flush() throws java.io.IOException {
            if (writer != null) {
                writer.flush();
            }
        }

        @Override
        public void close() throws java.io.IOException {
            if (writer != null) {
                writer.close();
            }
        }
    }

    private static KafkaConsumer<String, byte[]> spectraConsumer(String bootstrap, String runId, Topics topics) {
        Properties p = ClientConfigs.consumer(bootstrap, "grokwatch-demo-" + runId);
        p.put("auto.offset.reset", "earliest");
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of(topics.spectra(), topics.alerts(), topics.deadLetter()));
        return c;
    }

    /** The summary's line on whether the analyzer kept up, from a spectrum's {@code pace} field. */
    static String paceLine(SpectrumRecord.Pace pace) {
        int others = pace.runsSharingTheAnalyzer() - 1;
        double interval = pace.checkpointIntervalSeconds();
        double total = pace.analyzerLoad();
        String line = String.format("pace (recent checkpoints): the analyzer spent %.2f s per checkpoint, the trainer "
                        + "produced one every %.2f s (load %.2f%s)", pace.serviceSeconds(), interval,
                pace.load(), others <= 0 ? "" : String.format("; with the other run%s it serves, %.2f",
                        others == 1 ? "" : "s", total));
        if (pace.keepingUp()) {
            return line + ": the analyzer kept up";
        }
        line += String.format(": the analyzer fell behind by %.2f s per checkpoint",
                pace.lagGrowthSecondsPerCheckpoint());
        if (pace.epochsPerCheckpointToKeepUp() == null || pace.epochsPerCheckpoint() == null) {
            return line;
        }
        // The epoch time at which this run's checkpoints, at their spacing, would bring the total load to 1.
        // Rounded before the ceiling, so that an exact figure is not pushed up by rounding error.
        double epochMs = Math.ceil(Math.round(1e9 * interval * total / pace.epochsPerCheckpoint()) / 1e6);
        return line + String.format("; it keeps up with a checkpoint every %d epochs or more (--checkpoint-every), or "
                        + "with --epoch-ms %.0f at this checkpoint spacing%s",
                pace.epochsPerCheckpointToKeepUp(), epochMs,
                others <= 0 ? "" : others == 1 ? ", if the other run slows as much" : ", if the other runs slow as much");
    }

    /** Console narration: one line per analysed checkpoint, the moments that matter, the latency at the end. */
    private static final class Narrator {
        private final int expected;
        private final List<Double> latencies = new ArrayList<>();
        private int seen;
        private int superseded;
        private long onsetEpoch = -1;
        private int alerts;
        private String failure;
        /** The latest spectrum's pace: whether the analyzer kept up with the trainer. */
        private SpectrumRecord.Pace pace;

        Narrator(int expected) {
            this.expected = expected;
        }

        void deadLetter(DeadLetterRecord d) {
            seen++;
            System.out.printf("dead letter (%s): %s%n", d.reason(), d.message());
        }

        void spectrum(SpectrumRecord n) {
            seen++;
            SpectrumRecord.Timings timings = n.timings();
            double lag = SpectrumRecord.orNaN(timings.producedToResultSeconds());
            latencies.add(lag);
            if (n.pace() != null) {
                pace = n.pace();
            }
            long skipped = n.supersededCheckpoints();
            if (skipped > 0) {
                seen += skipped;
                superseded += skipped;
                System.out.printf("(%d checkpoint%s superseded while the analyzer was busy; the next line is the "
                        + "newest)%n", skipped, skipped == 1 ? "" : "s");
            }
            KernelSpectrum whole = n.whole();
            double[] eig = whole.eigenvalues();
            System.out.printf("epoch %4d  train acc %.2f  test acc %.2f  top eig %.3e  sum/diff overlap %.2f/%.2f  "
                            + "gap %.3f  (picked up after %.0f ms, analysed in %.0f ms, %.0f ms after the checkpoint)%n",
                    n.epoch(), SpectrumRecord.orNaN(n.trainAccuracy()), SpectrumRecord.orNaN(n.testAccuracy()),
                    eig.length > 0 ? eig[0] : Double.NaN, whole.overlap("secondCliff", "sum"),
                    whole.overlap("secondCliff", "diff"), whole.gap("endOfSecondCliff"),
                    SpectrumRecord.orNaN(timings.queuedSeconds()) * 1e3, timings.analysisSeconds() * 1e3, lag * 1e3);
        }

        void alert(AlertRecord a) {
            if (a.resolved()) {
                System.out.printf("resolved: %s (%s)%n", a.type(), a.evidence().signal());
                return;
            }
            alerts++;
            String type = a.type();
            Evidence ev = a.evidence();
            String detail = switch (type) {
                case "grokking-onset" -> String.format("second-cliff sum/diff overlap %.2f (from %.2f), train acc %.2f "
                        + "- from the spectrum alone, no test labels", ev.number("secondCliffSumDiff"),
                        ev.number("lowestSoFar"), ev.number("trainAccuracy"));
                case "generalization" -> String.format("test accuracy %.2f (the conventional signal)",
                        ev.number("testAccuracy"));
                case "spectral-gap" -> String.format("gap lambda_%d/lambda_%d = %.3f", (long) ev.number("position"),
                        (long) ev.number("position") + 1, ev.number("ratio"));
                default -> ev.signal();
            };
            System.out.printf(">>> ALERT %s at epoch %d (confidence %.2f): %s%n", type, a.epoch(), a.confidence(),
                    detail);
            if (type.equals("grokking-onset")) {
                onsetEpoch = a.epoch();
            } else if (type.equals("generalization") && onsetEpoch >= 0) {
                System.out.printf(">>> the spectrum said it %d epochs before the test accuracy did%n",
                        a.epoch() - onsetEpoch);
            }
        }

        boolean done() {
            return seen >= expected;
        }

        void fail(String message) {
            failure = message;
        }

        boolean failed() {
            return failure != null;
        }

        void summary() {
            if (failure != null) {
                System.out.println("demo failed: " + failure);
            }
            double[] l = latencies.stream().mapToDouble(Double::doubleValue).filter(Double::isFinite).sorted().toArray();
            if (l.length > 0) {
                System.out.printf("%d of %d checkpoints analysed%s; checkpoint-to-spectrum latency median %.0f ms, "
                                + "p99 %.0f ms, max %.0f ms%n", latencies.size(), expected, superseded == 0 ? ""
                                : " (" + superseded + " superseded by newer ones while the analyzer was busy; "
                                + "grokwatch replay analyses every one)", l[l.length / 2] * 1e3,
                        l[Math.min(l.length - 1, (int) Math.ceil(0.99 * l.length) - 1)] * 1e3, l[l.length - 1] * 1e3);
            }
            if (pace != null) {
                System.out.println(paceLine(pace));
            }
        }
    }
}

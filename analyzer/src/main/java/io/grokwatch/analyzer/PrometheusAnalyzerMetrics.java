package io.grokwatch.analyzer;

import io.grokwatch.detect.Alert;
import io.grokwatch.detect.Observation;
import io.grokwatch.features.Family;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The analyzer's metrics in a Prometheus registry: service meters created once, per-run gauges created on
 * a run's first checkpoint with bounded labels (rank 1..{@value #RANKS}, the two cliffs, the four families).
 */
public final class PrometheusAnalyzerMetrics implements AnalyzerMetrics {
    /** Leading eigenvalues exported per run (the rank label). */
    public static final int RANKS = 8;

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer analysis;
    private final Timer lag;
    private final Map<DeadLetterReason, Counter> deadLetters = new EnumMap<>(DeadLetterReason.class);
    private final Map<String, RunGauges> runs = new ConcurrentHashMap<>();

    public PrometheusAnalyzerMetrics() {
        analysis = Timer.builder("grokwatch.checkpoint.analysis").description("Time to analyse one checkpoint")
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
        lag = Timer.builder("grokwatch.checkpoint.lag")
                .description("From the checkpoint being produced to its spectrum being produced")
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(600)).register(registry);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            deadLetters.put(r, Counter.builder("grokwatch.dead.letters").description("Records sent to the dead-letter topic")
                    .tag("reason", r.label()).register(registry));
        }
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void analysed(String runId, double seconds, double lagSeconds) {
        analysis.record(Duration.ofNanos((long) (seconds * 1e9)));
        lag.record(Duration.ofNanos((long) (lagSeconds * 1e9)));
    }

    @Override
    public void deadLettered(DeadLetterReason reason) {
        deadLetters.get(reason).increment();
    }

    @Override
    public void spectrum(String runId, Observation o) {
        runs.computeIfAbsent(runId, RunGauges::new).update(o);
    }

    @Override
    public void alert(String runId, Alert alert) {
        Counter.builder("grokwatch.alerts").description("Alerts raised").tags("run", runId, "type", alert.type())
                .register(registry).increment();
        RunGauges g = runs.computeIfAbsent(runId, RunGauges::new);
        if (alert.type().equals("grokking-onset")) {
            g.phase.set(1);
        }
    }

    /** One run's gauges, backed by fields the latest checkpoint overwrites. */
    private final class RunGauges {
        private final double[] eigenvalues = new double[RANKS];
        private final Map<String, double[]> overlaps = new ConcurrentHashMap<>();
        private final double[] gap = {Double.NaN};
        private final double[] epoch = {Double.NaN};
        private final double[] trainAccuracy = {Double.NaN};
        private final double[] testAccuracy = {Double.NaN};
        private final double[] trainLoss = {Double.NaN};
        private final AtomicLong phase = new AtomicLong();

        RunGauges(String runId) {
            java.util.Arrays.fill(eigenvalues, Double.NaN);
            for (int r = 0; r < RANKS; r++) {
                int rank = r;
                Gauge.builder("grokwatch.eigenvalue", eigenvalues, e -> e[rank])
                        .description("Leading eigenvalues of the whole-model eNTK")
                        .tags(Tags.of("run", runId, "rank", Integer.toString(rank + 1))).register(registry);
            }
            for (String cliff : new String[] {"firstCliff", "secondCliff"}) {
                double[] values = new double[Family.values().length];
                java.util.Arrays.fill(values, Double.NaN);
                overlaps.put(cliff, values);
                for (Family f : Family.values()) {
                    Gauge.builder("grokwatch.cliff.overlap", values, v -> v[f.ordinal()])
                            .description("Overlap of a cliff's eigenspace with a Fourier family")
                            .tags(Tags.of("run", runId, "cliff", cliff, "family", f.label())).register(registry);
                }
            }
            Gauge.builder("grokwatch.gap.ratio", gap, v -> v[0]).description("lambda_4(p-1) / lambda_4(p-1)+1")
                    .tags(Tags.of("run", runId, "gap", "endOfSecondCliff")).register(registry);
            Gauge.builder("grokwatch.epoch", epoch, v -> v[0]).tags("run", runId).register(registry);
            Gauge.builder("grokwatch.train.accuracy", trainAccuracy, v -> v[0]).tags("run", runId).register(registry);
            Gauge.builder("grokwatch.test.accuracy", testAccuracy, v -> v[0]).tags("run", runId).register(registry);
            Gauge.builder("grokwatch.train.loss", trainLoss, v -> v[0]).tags("run", runId).register(registry);
            Gauge.builder("grokwatch.phase", phase, AtomicLong::doubleValue)
                    .description("0 = no transition detected, 1 = grokking onset detected").tags("run", runId)
                    .register(registry);
        }

        void update(Observation o) {
            for (int r = 0; r < RANKS; r++) {
                eigenvalues[r] = r < o.eigenvalues().length ? o.eigenvalues()[r] : Double.NaN;
            }
            o.overlaps().forEach((cliff, fam) -> {
                double[] v = overlaps.get(cliff);
                if (v != null) {
                    fam.forEach((f, x) -> v[f.ordinal()] = x);
                }
            });
            gap[0] = o.gaps().getOrDefault("endOfSecondCliff", Double.NaN);
            epoch[0] = o.epoch();
            trainAccuracy[0] = o.trainAccuracy();
            testAccuracy[0] = o.testAccuracy();
            trainLoss[0] = o.trainLoss();
        }
    }
}

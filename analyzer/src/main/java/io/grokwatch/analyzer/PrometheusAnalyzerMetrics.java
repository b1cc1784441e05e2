package io.grokwatch.analyzer;

import io.grokwatch.detect.Alert;
import io.grokwatch.detect.GeneralizationDetector;
import io.grokwatch.detect.GrokkingOnsetDetector;
import io.grokwatch.detect.SpectralGapDetector;
import io.grokwatch.observability.RunMeters;
import io.grokwatch.records.KernelSpectrum;
import io.grokwatch.records.SpectrumRecord;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The analyzer's metrics in a Prometheus registry.
 *
 * <p>Service meters are created once: {@code grokwatch_checkpoint_analysis_seconds} and
 * {@code grokwatch_checkpoint_lag_seconds} (histograms), {@code grokwatch_dead_letters_total{reason}},
 * {@code grokwatch_checkpoints_superseded_total} (checkpoints skipped for a newer one under {@link Backlog#LATEST}),
 * {@code grokwatch_eigen_solves_total{start}}, {@code grokwatch_eigen_warm_fallbacks_total},
 * {@code grokwatch_runs_active}, {@code grokwatch_analyzer_load} (see {@link AnalyzerLoad}) and
 * {@code grokwatch_onset_overlap_threshold}.
 *
 * <p>Per-run meters (label {@code run}) are created on a run's first spectrum and removed by {@link RunMeters}
 * once the run has had no checkpoint for the retention period: {@code grokwatch_eigenvalue{layer,rank}},
 * {@code grokwatch_effective_rank{layer}}, {@code grokwatch_eigenspace_drift{layer}} (layer {@code all} = the
 * whole-model kernel, else a parameter group), {@code grokwatch_cliff_overlap{cliff,family}},
 * {@code grokwatch_gap_ratio{gap}}, {@code grokwatch_epoch}, {@code grokwatch_step},
 * {@code grokwatch_last_checkpoint_timestamp_seconds}, the reported losses and
 * accuracies, {@code grokwatch_phase}, {@code grokwatch_alerts_total{type}},
 * {@code grokwatch_alert_epoch{type}}, {@code grokwatch_run_ended}, {@code grokwatch_analysis_load},
 * {@code grokwatch_analyzer_load_for_run} and {@code grokwatch_checkpoint_interval_seconds} (see {@link RunPace}). Every label takes values from a bounded set: ranks 1..{@value #RANKS},
 * the model's parameter groups, the analysis' cliffs, families and gaps, the three detectors.
 */
public final class PrometheusAnalyzerMetrics implements AnalyzerMetrics {
    /** Leading eigenvalues exported per run and kernel (the rank label). */
    public static final int RANKS = 8;
    /** The {@code layer} label of the whole-model kernel. */
    public static final String WHOLE_MODEL = "all";
    /** {@code grokwatch_phase}: no transition detected yet. */
    public static final int PHASE_NONE = 0;
    /** {@code grokwatch_phase}: the label-free grokking-onset detector fired (from the spectrum alone). */
    public static final int PHASE_ONSET = 1;
    /** {@code grokwatch_phase}: the generalization detector fired (test accuracy jumped after memorisation). */
    public static final int PHASE_GENERALIZED = 2;
    /** Values of {@code solve.start} registered up front, so rates over them exist before the first solve. */
    public static final List<String> SOLVE_STARTS = List.of("warm", "cold", "dense");
    /** Alert types registered at 0 on a run's first spectrum, so the first alert is an increase. */
    public static final List<String> ALERT_TYPES = List.of(GrokkingOnsetDetector.NAME, GeneralizationDetector.NAME,
            SpectralGapDetector.NAME, io.grokwatch.detect.DivergingDetector.NAME,
            io.grokwatch.detect.CollapseDetector.NAME, CheckpointProcessor.NON_FINITE,
            io.grokwatch.detect.StalledRule.NAME);

    private final PrometheusMeterRegistry registry;
    private final RunMeters runs;
    private final Timer analysis;
    private final Timer lag;
    private final Counter superseded;
    private final Map<DeadLetterReason, Counter> deadLetters = new EnumMap<>(DeadLetterReason.class);
    private final Map<String, Counter> solves = new ConcurrentHashMap<>();
    private final Counter warmFallbacks;
    /** The latest spectrum's {@code pace.analyzerLoad} and until when it holds (null before any). */
    private final java.util.concurrent.atomic.AtomicReference<LoadReading> analyzerLoad =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final Clock clock;
    /** The onset detector's overlap threshold, drawn on the training-run dashboard. */
    private final java.util.concurrent.atomic.AtomicReference<Double> onsetThreshold =
            new java.util.concurrent.atomic.AtomicReference<>(
                    io.grokwatch.detect.GrokkingOnsetDetector.Config.DEFAULT.overlapThreshold());

    /**
     * A summed load, valid while its runs are active: as long as {@link AnalyzerLoad} keeps a run in the sum after
     * its last checkpoint. Past that the analyzer has had nothing to do and its load reads 0.
     */
    private record LoadReading(double load, long validUntilMs) {
        static LoadReading of(SpectrumRecord.Pace pace, long nowMs) {
            return new LoadReading(pace.analyzerLoad(),
                    nowMs + AnalyzerLoad.activeForMs(pace.checkpointIntervalSeconds()));
        }

        double at(long nowMs) {
            return nowMs <= validUntilMs ? load : 0.0;
        }
    }

    /** A registry of its own, the default retention, the system clock. */
    public PrometheusAnalyzerMetrics() {
        this(RunMeters.DEFAULT_RETENTION);
    }

    /** A registry of its own and the system clock; runs idle for {@code retention} lose their series. */
    public PrometheusAnalyzerMetrics(Duration retention) {
        this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), retention, Clock.SYSTEM);
    }

    /**
     * @param registry  where the meters go (shared with other components, e.g. the trainer in the demo)
     * @param retention how long a run may go without a checkpoint before its series are removed
     * @param clock     time source of the retention
     */
    public PrometheusAnalyzerMetrics(PrometheusMeterRegistry registry, Duration retention, Clock clock) {
        this.registry = registry;
        this.runs = new RunMeters(registry, retention, clock);
        this.clock = clock;
        analysis = Timer.builder("grokwatch.checkpoint.analysis")
                .description("Time to analyse one checkpoint (kernels, eigen-solves, overlaps)")
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
        lag = Timer.builder("grokwatch.checkpoint.lag")
                .description("From the checkpoint being produced to its spectrum being produced")
                .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(600)).register(registry);
        for (DeadLetterReason r : DeadLetterReason.values()) {
            deadLetters.put(r, Counter.builder("grokwatch.dead.letters").description("Records sent to the dead-letter topic")
                    .tag("reason", r.label()).register(registry));
        }
        superseded = Counter.builder("grokwatch.checkpoints.superseded").description("Checkpoints not analysed because "
                + "a newer one of the same run arrived while they waited (backlog=latest)").register(registry);
        SOLVE_STARTS.forEach(this::solveCounter);
        warmFallbacks = Counter.builder("grokwatch.eigen.warm.fallbacks").description("Warm starts offered but "
                + "abandoned (poorer than random directions, of another size, or not finite): those solves ran cold")
                .register(registry);
        Gauge.builder("grokwatch.runs.active", runs, RunMeters::runs)
                .description("Runs with a checkpoint within the metrics retention period").register(registry);
        Gauge.builder("grokwatch.analyzer.load", analyzerLoad, r -> r.get() == null ? Double.NaN
                        : r.get().at(clock.wallTime()))
                .description("The analysis loads of the runs this analyzer serves, summed (0 once none is active): "
                        + "above 1 they produce checkpoints faster than it analyses them").register(registry);
        Gauge.builder("grokwatch.onset.overlap.threshold", onsetThreshold,
                        java.util.concurrent.atomic.AtomicReference::get)
                .description("The onset detector fires once the mean of the second cliff's sum and diff overlaps "
                        + "reaches this (onset.overlap-threshold)").register(registry);
    }

    /** The onset detector's {@code onset.overlap-threshold} this analyzer runs with (default 0.5). */
    public void onsetThreshold(double threshold) {
        onsetThreshold.set(threshold);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Kafka's own metrics of {@code streams} and its clients ({@code kafka_stream_*}, {@code kafka_consumer_*},
     * {@code kafka_producer_*}, {@code kafka_admin_client_*}): poll and process rates, commit latency, consumer lag,
     * thread and task state, through Micrometer's binder, which follows threads and clients as Streams replaces them.
     */
    @Override
    public Binding streams(org.apache.kafka.streams.KafkaStreams streams) {
        io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics bound =
                new io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics(streams);
        bound.bindTo(registry);
        return bound::close;
    }

    /** The Prometheus text exposition of every meter, after removing the series of runs past their retention. */
    public String scrape() {
        runs.expire();
        return registry.scrape();
    }

    /** Removes the series of runs idle for the retention period; returns their ids. */
    public List<String> expire() {
        return runs.expire();
    }

    @Override
    public void analysed(String runId, double seconds, double lagSeconds) {
        analysis.record(Duration.ofNanos((long) (seconds * 1e9)));
        lag.record(Duration.ofNanos((long) (lagSeconds * 1e9)));
    }

    @Override
    public void superseded(String runId) {
        superseded.increment();
    }

    @Override
    public void deadLettered(DeadLetterReason reason) {
        deadLetters.get(reason).increment();
    }

    @Override
    public void spectrum(String runId, SpectrumRecord s) {
        runs.touch(runId);
        set(runId, "grokwatch.epoch", "Epoch of the run's latest analysed checkpoint", s.epoch());
        set(runId, "grokwatch.step", "Optimizer step of the run's latest analysed checkpoint", s.step());
        if (s.timings() != null && s.timings().checkpointTimestampMs() > 0) {
            lastCheckpoint(runId).set(s.timings().checkpointTimestampMs() / 1000.0);
        }
        set(runId, "grokwatch.train.loss", "Training loss the trainer reported with the checkpoint",
                SpectrumRecord.orNaN(s.trainLoss()));
        set(runId, "grokwatch.test.loss", "Test loss the trainer reported with the checkpoint",
                SpectrumRecord.orNaN(s.testLoss()));
        set(runId, "grokwatch.train.accuracy", "Training accuracy the trainer reported with the checkpoint",
                SpectrumRecord.orNaN(s.trainAccuracy()));
        set(runId, "grokwatch.test.accuracy", "Test accuracy the trainer reported with the checkpoint",
                SpectrumRecord.orNaN(s.testAccuracy()));
        KernelSpectrum whole = s.whole();
        kernel(runId, WHOLE_MODEL, whole);
        if (whole.overlaps() != null) {
            whole.overlaps().forEach((cliff, families) -> families.forEach((family, value) ->
                    set(runId, "grokwatch.cliff.overlap", "Share of a Fourier family spanned by a cliff's eigenvectors "
                            + "(whole-model kernel), 0..1", value, "cliff", cliff, "family", family)));
        }
        if (whole.gaps() != null) {
            whole.gaps().forEach((gap, value) -> set(runId, "grokwatch.gap.ratio", "Named eigenvalue ratio "
                    + "lambda_i / lambda_i+1 of the whole-model kernel at the end of each cliff (endOfFirstCliff: below "
                    + "the n/m modes; endOfSecondCliff: below the sum/diff modes, the gap grokking opens)",
                    value, "gap", gap));
        }
        SpectrumRecord.Pace pace = s.pace();
        set(runId, "grokwatch.analysis.load", "Time the analyzer spends per checkpoint of the run over the time "
                + "between its checkpoints (moving averages; the runs one analyzer serves add up, see "
                + "grokwatch_analyzer_load; NaN on the run's first checkpoint)", pace == null ? Double.NaN : pace.load());
        set(runId, "grokwatch.analyzer.load.for.run", "The summed load of the analyzer serving the run, as of the "
                + "run's latest spectrum: above 1 its spectra fall behind (NaN on the run's first checkpoint)",
                pace == null ? Double.NaN : pace.analyzerLoad());
        if (pace != null) {
            analyzerLoad.set(LoadReading.of(pace, clock.wallTime()));
        }
        set(runId, "grokwatch.checkpoint.interval.seconds", "Moving average of the time between two produced "
                + "checkpoints of the run, from their timestamps (NaN on its first checkpoint)",
                pace == null ? Double.NaN : pace.checkpointIntervalSeconds());
        countSolve(whole.solve());
        if (s.layers() != null) {
            s.layers().forEach((layer, k) -> {
                kernel(runId, layer, k);
                countSolve(k.solve());
            });
        }
        for (String type : ALERT_TYPES) {
            alertCounter(runId, type);
        }
        RunMeters.Value phase = phase(runId);
        if (Double.isNaN(phase.get())) {
            phase.set(PHASE_NONE);
        }
        // A checkpoint after the run's end opens it again.
        ended(runId).set(0);
        runs.expire();
    }

    @Override
    public void ended(String runId, String status) {
        runs.touch(runId);
        ended(runId).set(1);
    }

    /**
     * Sets the phase, the alert epochs and (to at least 1) the alert counters of the detectors that fired, from the
     * run's stored state: the state, not the alerts this process happened to see, is what the series report.
     */
    @Override
    public void verdict(String runId, RunVerdict v) {
        apply(runId, v, false);
    }

    /** @param restoring whether no {@link #alert} call follows for alerts of the run's last step */
    private void apply(String runId, RunVerdict v, boolean restoring) {
        for (String type : ALERT_TYPES) {
            alertCounter(runId, type);
        }
        v.alerts().forEach((type, mark) -> {
            Counter fired = alertCounter(runId, type);
            // An alert of the checkpoint just analysed is counted by alert(), which follows.
            if (fired.count() < 1 && (restoring || mark.step() != v.lastStep())) {
                fired.increment();
            }
            if (mark.epoch() >= 0) {
                alertEpoch(runId, type).set(mark.epoch());
            }
        });
        phase(runId).set(v.phase());
        ended(runId).set(v.ended() ? 1 : 0);
        if (v.lastCheckpointMs() > 0) {
            lastCheckpoint(runId).set(v.lastCheckpointMs() / 1000.0);
        }
    }

    /**
     * {@link #verdict} for a run whose last checkpoint is within the retention period, dated back to that checkpoint
     * so it expires when it would have in the process that saw it; a run finished longer ago stays without series.
     */
    @Override
    public void restored(String runId, RunVerdict v) {
        long last = v.lastCheckpointMs();
        if (last > 0 && clock.wallTime() - last >= runs.retention().toMillis()) {
            return;
        }
        apply(runId, v, true);
        if (last > 0) {
            runs.seenAt(runId, last);
        }
    }

    @Override
    public void released(String runId) {
        runs.remove(runId);
    }

    @Override
    public void alert(String runId, Alert alert) {
        alertCounter(runId, alert.type()).increment();
        alertEpoch(runId, alert.type()).set(alert.epoch());
        int reached = alert.type().equals(GrokkingOnsetDetector.NAME) ? PHASE_ONSET
                : alert.type().equals(GeneralizationDetector.NAME) ? PHASE_GENERALIZED : PHASE_NONE;
        RunMeters.Value phase = phase(runId);
        double now = Double.isNaN(phase.get()) ? PHASE_NONE : phase.get();
        phase.set(Math.max(now, reached));
    }

    /** Eigenvalues, effective rank and eigenspace drift of one kernel (the whole model or a parameter group). */
    private void kernel(String runId, String layer, KernelSpectrum k) {
        double[] eig = k.eigenvalues();
        for (int r = 0; r < RANKS; r++) {
            set(runId, "grokwatch.eigenvalue", "Leading eigenvalues of the eNTK (layer all = whole model, else one "
                    + "parameter group's kernel)", r < eig.length ? eig[r] : Double.NaN, "layer", layer, "rank",
                    Integer.toString(r + 1));
        }
        set(runId, "grokwatch.effective.rank", "exp(entropy) of the normalised top-k eigenvalues: how many "
                + "directions the kernel spreads over", k.effectiveRank(), "layer", layer);
        set(runId, "grokwatch.eigenspace.drift", "How far the top eigenspace moved since the previous checkpoint, 0..1 "
                + "(NaN on a run's first checkpoint)", k.driftOrNaN(), "layer", layer);
    }

    private void set(String runId, String name, String description, double value, String... tags) {
        runs.gauge(runId, name, description, tags).set(value);
    }

    private RunMeters.Value phase(String runId) {
        return runs.gauge(runId, "grokwatch.phase", "0 = no transition detected, 1 = grokking onset detected (from the "
                + "spectrum), 2 = generalization detected (test accuracy)");
    }

    private RunMeters.Value ended(String runId) {
        return runs.gauge(runId, "grokwatch.run.ended", "1 once the run has said it ended (completed, stopped or "
                + "failed; its alerts are then resolved and it is not expected to checkpoint), else 0");
    }

    /** Orders runs by recency: the training-run dashboard opens on the run with the newest checkpoint. */
    private RunMeters.Value lastCheckpoint(String runId) {
        return runs.gauge(runId, "grokwatch.last.checkpoint.timestamp.seconds", "When the run's latest analysed "
                + "checkpoint was produced, Unix seconds (from the checkpoint record's timestamp)");
    }

    private RunMeters.Value alertEpoch(String runId, String type) {
        return runs.gauge(runId, "grokwatch.alert.epoch", "Epoch of the run's latest alert of this type", "type", type);
    }

    private Counter alertCounter(String runId, String type) {
        return runs.counter(runId, "grokwatch.alerts", "Alerts raised by the detectors", "type", type);
    }

    private void countSolve(KernelSpectrum.Solve solve) {
        if (solve == null) {
            return;
        }
        if (solve.start() != null) {
            solveCounter(solve.start()).increment();
        }
        if (solve.fellBack()) {
            warmFallbacks.increment();
        }
    }

    private Counter solveCounter(String start) {
        return solves.computeIfAbsent(start, s -> Counter.builder("grokwatch.eigen.solves")
                .description("Eigen-solves of the whole-model and per-layer kernels by how they started: warm (from "
                        + "the previous checkpoint's eigenvectors), cold (random start), dense (full decomposition) or "
                        + "low-rank (from a layer's low-rank factor)").tag("start", s).register(registry));
    }
}

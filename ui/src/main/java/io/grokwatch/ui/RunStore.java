package io.grokwatch.ui;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.KernelSpectrum;
import io.grokwatch.records.SpectrumRecord;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the page and the report know about every run: a bounded series per run (one point per analysed checkpoint,
 * thinned to {@value #MAX_POINTS}), its alerts and its task. Filled from the topics ({@link TopicFeed}) or from
 * files ({@link RecordFiles}); read by any number of threads. Every change bumps the store's version and the run's,
 * so a page asks for a run's figures again only when they changed.
 */
public final class RunStore {
    /** Points kept per run; past it every other older point is dropped (the newest always stays). */
    public static final int MAX_POINTS = 300;
    /** Runs kept; past it the run updated longest ago is dropped. */
    public static final int MAX_RUNS = 1000;
    /** Whole-model eigenvalues kept per checkpoint (the spectrum figure). */
    public static final int SPECTRUM_VALUES = 256;
    /** Eigenvalues kept per layer per checkpoint (the eigenvalues-over-training figures). */
    public static final int TOP_EIGENVALUES = 5;

    /** Phases, from the alerts: none yet, grokking onset (from the spectrum), generalization (test accuracy). */
    public static final String PHASE_NONE = "-";
    public static final String PHASE_ONSET = "grokking onset";
    public static final String PHASE_GENERALIZED = "generalized";

    /** The task parameters the run list shows. */
    static final List<String> SHORT_PARAMS = List.of("p", "features", "hidden");

    private final Map<String, Run> runs = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();
    private final AtomicLong sequence = new AtomicLong();

    /** An alert as the figures mark it. */
    public record AlertMark(String type, long epoch, long step, double confidence) {
    }

    /** A row of the run list. */
    public record RunRow(String runId, String task, long epoch, String phase, String lastAlert, Double lagSeconds,
                         int checkpoints, long version) {
    }

    /**
     * A consistent copy of one run.
     *
     * @param task       the task's name ({@code modular-addition}, {@code tms}, ...) or "" when unknown
     * @param taskParams the task's parameters (e.g. {@code p}, {@code features})
     */
    public record RunSnapshot(String runId, String task, Map<String, String> taskParams, List<Checkpoint> checkpoints,
                              List<AlertMark> alerts, long version) {
        /** The task and its parameters, e.g. {@code modular-addition p=29}. */
        public String taskLabel() {
            StringBuilder s = new StringBuilder(task);
            taskParams.forEach((k, v) -> s.append(s.length() == 0 ? "" : " ").append(k).append('=').append(v));
            return s.toString();
        }

        /** The task and the parameters that tell runs apart at a glance, e.g. {@code tms features=50 hidden=10}. */
        public String shortTaskLabel() {
            StringBuilder s = new StringBuilder(task);
            for (String k : SHORT_PARAMS) {
                if (taskParams.containsKey(k)) {
                    s.append(s.length() == 0 ? "" : " ").append(k).append('=').append(taskParams.get(k));
                }
            }
            return s.toString();
        }

        /** The prime of a modular-addition run, when its task says. */
        public Optional<Integer> modularP() {
            try {
                return task.equals("modular-addition") && taskParams.containsKey("p")
                        ? Optional.of(Integer.parseInt(taskParams.get("p"))) : Optional.empty();
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }

        public Optional<Checkpoint> last() {
            return checkpoints.isEmpty() ? Optional.empty() : Optional.of(checkpoints.get(checkpoints.size() - 1));
        }

        /** The checkpoint at {@code step}, else the last at or before it, else the first. */
        public Optional<Checkpoint> at(long step) {
            Checkpoint best = null;
            for (Checkpoint c : checkpoints) {
                if (c.step() <= step || best == null) {
                    best = c;
                }
            }
            return Optional.ofNullable(best);
        }
    }

    public long version() {
        return version.get();
    }

    public int size() {
        return runs.size();
    }

    /** Adds or replaces (same step) an analysed checkpoint. */
    public void spectrum(SpectrumRecord s) {
        Checkpoint c = toCheckpoint(s);
        entry(s.runId()).add(c, version.incrementAndGet());
        evict();
    }

    public void alert(AlertRecord a) {
        entry(a.runId()).alert(new AlertMark(a.type(), a.epoch(), a.step(), a.confidence()), version.incrementAndGet());
        evict();
    }

    public void descriptor(Records.Descriptor d) {
        if (d.runId() == null || d.task() == null) {
            return;
        }
        entry(d.runId()).task(d.task(), version.incrementAndGet());
        evict();
    }

    /** The run list, in the order the runs were first seen. */
    public List<RunRow> rows() {
        List<Run> all = new ArrayList<>(runs.values());
        all.sort(Comparator.comparingLong(r -> r.sequence));
        List<RunRow> rows = new ArrayList<>(all.size());
        for (Run r : all) {
            rows.add(r.row());
        }
        return rows;
    }

    public Optional<RunSnapshot> run(String runId) {
        Run r = runId == null ? null : runs.get(runId);
        return r == null ? Optional.empty() : Optional.of(r.snapshot());
    }

    /** Every run, in the order first seen. */
    public List<RunSnapshot> snapshots() {
        List<Run> all = new ArrayList<>(runs.values());
        all.sort(Comparator.comparingLong(r -> r.sequence));
        return all.stream().map(Run::snapshot).toList();
    }

    private Run entry(String id) {
        return runs.computeIfAbsent(id, k -> new Run(k, sequence.incrementAndGet()));
    }

    private void evict() {
        while (runs.size() > MAX_RUNS) {
            runs.values().stream().min(Comparator.comparingLong(r -> r.updated)).ifPresent(r -> runs.remove(r.id));
        }
    }

    static Checkpoint toCheckpoint(SpectrumRecord s) {
        Map<String, Checkpoint.KernelPoint> kernels = new LinkedHashMap<>();
        kernels.put(Checkpoint.ALL, kernel(s.whole(), SPECTRUM_VALUES));
        if (s.layers() != null) {
            s.layers().forEach((g, k) -> {
                if (k != null && !g.equals(Checkpoint.ALL)) {
                    kernels.put(g, kernel(k, TOP_EIGENVALUES));
                }
            });
        }
        double lag = s.timings() == null ? Double.NaN : num(s.timings().producedToResultSeconds());
        return new Checkpoint(s.step(), s.epoch(), num(s.trainAccuracy()), num(s.testAccuracy()), num(s.trainLoss()),
                num(s.testLoss()), lag, Collections.unmodifiableMap(kernels));
    }

    private static Checkpoint.KernelPoint kernel(KernelSpectrum k, int keep) {
        double[] ev = k.eigenvalues() == null ? new double[0] : k.eigenvalues();
        float[] kept = new float[Math.min(keep, ev.length)];
        for (int i = 0; i < kept.length; i++) {
            kept[i] = (float) ev[i];
        }
        int[] cliffs = k.cliffs().stream().mapToInt(KernelSpectrum.Cliff::position).toArray();
        float[] hmax = null;
        if (k.heatmapMax() != null) {
            hmax = new float[k.heatmapMax().length];
            for (int i = 0; i < hmax.length; i++) {
                hmax[i] = (float) k.heatmapMax()[i];
            }
        }
        return new Checkpoint.KernelPoint(kept, k.overlaps() == null ? Map.of() : k.overlaps(),
                k.gaps() == null ? Map.of() : k.gaps(), cliffs, k.effectiveRank(), k.driftOrNaN(),
                k.heatmapArgmax(), hmax);
    }

    private static double num(Double d) {
        return d == null ? Double.NaN : d;
    }

    /** One run; every method holds its lock. */
    private static final class Run {
        final String id;
        final long sequence;
        volatile long updated = System.nanoTime();
        private final TreeMap<Long, Checkpoint> points = new TreeMap<>();
        private final List<AlertMark> alerts = new ArrayList<>();
        private String task = "";
        private Map<String, String> params = Map.of();
        private long version;

        Run(String id, long sequence) {
            this.id = id;
            this.sequence = sequence;
        }

        synchronized void add(Checkpoint c, long v) {
            points.put(c.step(), c);
            if (points.size() > MAX_POINTS) {
                Long last = points.lastKey();
                int i = 0;
                for (Iterator<Long> it = points.keySet().iterator(); it.hasNext(); i++) {
                    Long step = it.next();
                    if (i % 2 == 1 && !step.equals(last)) {
                        it.remove();
                    }
                }
            }
            if (task.isEmpty()) { // no descriptor (yet): say what the spectrum shows
                Checkpoint.KernelPoint w = c.whole();
                if (w.overlaps().containsKey("secondCliff")) {
                    task = "modular-addition";
                } else if (w.heatmapArgmax() != null) {
                    task = "tms";
                }
            }
            touch(v);
        }

        synchronized void alert(AlertMark a, long v) {
            if (alerts.stream().noneMatch(x -> x.type().equals(a.type()) && x.step() == a.step())) {
                alerts.add(a);
                alerts.sort(Comparator.comparingLong(AlertMark::step));
            }
            touch(v);
        }

        synchronized void task(Map<String, String> t, long v) {
            Map<String, String> rest = new LinkedHashMap<>(t);
            String name = rest.remove("name");
            task = name == null ? task : name;
            params = Collections.unmodifiableMap(rest);
            touch(v);
        }

        private void touch(long v) {
            version = v;
            updated = System.nanoTime();
        }

        synchronized RunRow row() {
            Checkpoint last = points.isEmpty() ? null : points.lastEntry().getValue();
            AlertMark lastAlert = alerts.isEmpty() ? null : alerts.get(alerts.size() - 1);
            return new RunRow(id, snapshotLabel(), last == null ? 0 : last.epoch(), phase(),
                    lastAlert == null ? "" : lastAlert.type() + " at epoch " + lastAlert.epoch(),
                    last == null || Double.isNaN(last.lagSeconds()) ? null : last.lagSeconds(), points.size(), version);
        }

        private String snapshotLabel() {
            return new RunSnapshot(id, task, params, List.of(), List.of(), version).shortTaskLabel();
        }

        private String phase() {
            String phase = PHASE_NONE;
            for (AlertMark a : alerts) {
                if (a.type().equals("generalization")) {
                    return PHASE_GENERALIZED;
                }
                if (a.type().equals("grokking-onset")) {
                    phase = PHASE_ONSET;
                }
            }
            return phase;
        }

        synchronized RunSnapshot snapshot() {
            return new RunSnapshot(id, task, params, List.copyOf(points.values()), List.copyOf(alerts), version);
        }
    }
}

package io.grokwatch.observability;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Meters labelled with a run id, created on first use and removed from the registry once the run has been idle
 * (no {@link #touch}, gauge or counter call) for the retention period. This keeps the label {@code run}
 * bounded: finished runs disappear from {@code /metrics} instead of accumulating for the life of the service.
 *
 * <p>Thread-safe. Gauge values are read by scrapes without locking; registration and expiry are serialised.
 */
public final class RunMeters {
    /** Command-line option that sets the retention (analyzer and trainer). */
    public static final String RETENTION_OPTION = "--metrics-retention";
    /** Default retention: a run whose last checkpoint is older than this loses its series. */
    public static final Duration DEFAULT_RETENTION = Duration.ofMinutes(30);

    /** A gauge's current value; NaN until set. */
    public static final class Value {
        private volatile double value = Double.NaN;

        public double get() {
            return value;
        }

        public void set(double v) {
            value = v;
        }
    }

    private static final class Run {
        volatile long lastSeenMillis;
        final Map<String, Value> gauges = new HashMap<>();
        final Map<String, Counter> counters = new HashMap<>();
        final List<Meter> meters = new ArrayList<>();
    }

    private final MeterRegistry registry;
    private final Duration retention;
    private final Clock clock;
    private final Map<String, Run> runs = new ConcurrentHashMap<>();

    /**
     * @param retention how long a run may go without activity before its meters are removed (&gt; 0)
     * @param clock     the time source of activity and expiry (Micrometer's {@code MockClock} in tests)
     */
    public RunMeters(MeterRegistry registry, Duration retention, Clock clock) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.retention = requirePositive(retention);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Duration retention() {
        return retention;
    }

    /** Marks the run active now, so its retention starts over. */
    public synchronized void touch(String runId) {
        run(runId);
    }

    /**
     * The gauge {@code name{run=runId, tags...}}, registered the first time it is asked for.
     *
     * @param tags further label names and values, alternating
     */
    public synchronized Value gauge(String runId, String name, String description, String... tags) {
        Run r = run(runId);
        String key = key(name, tags);
        Value v = r.gauges.get(key);
        if (v == null) {
            v = new Value();
            r.meters.add(Gauge.builder(name, v, Value::get).description(description).strongReference(true)
                    .tags(Tags.of(tags).and("run", runId)).register(registry));
            r.gauges.put(key, v);
        }
        return v;
    }

    /** The counter {@code name{run=runId, tags...}}, registered (at 0) the first time it is asked for. */
    public synchronized Counter counter(String runId, String name, String description, String... tags) {
        Run r = run(runId);
        String key = key(name, tags);
        Counter c = r.counters.get(key);
        if (c == null) {
            c = Counter.builder(name).description(description).tags(Tags.of(tags).and("run", runId)).register(registry);
            r.meters.add(c);
            r.counters.put(key, c);
        }
        return c;
    }

    /**
     * Dates the run's last activity back to {@code wallTimeMillis} if that is earlier than what it has (a run
     * restored from stored state: it expires on the schedule of its last checkpoint, not of the restart).
     */
    public synchronized void seenAt(String runId, long wallTimeMillis) {
        Run r = runs.get(runId);
        if (r != null) {
            r.lastSeenMillis = Math.min(r.lastSeenMillis, wallTimeMillis);
        }
    }

    /** Removes every meter of the run now (another instance serves it); false if it had none. */
    public synchronized boolean remove(String runId) {
        Run r = runs.remove(runId);
        if (r == null) {
            return false;
        }
        r.meters.forEach(registry::remove);
        return true;
    }

    /**
     * Removes every meter of each run idle for at least the retention period.
     *
     * @return the ids of the runs removed
     */
    public synchronized List<String> expire() {
        long now = clock.wallTime();
        List<String> removed = new ArrayList<>();
        var it = runs.entrySet().iterator();
        while (it.hasNext()) {
            var e = it.next();
            if (now - e.getValue().lastSeenMillis >= retention.toMillis()) {
                e.getValue().meters.forEach(registry::remove);
                removed.add(e.getKey());
                it.remove();
            }
        }
        return removed;
    }

    /** Runs that currently have meters (seen within the retention period, or not yet expired). Lock-free. */
    public int runs() {
        return runs.size();
    }

    private Run run(String runId) {
        Objects.requireNonNull(runId, "run id");
        Run r = runs.computeIfAbsent(runId, k -> new Run());
        r.lastSeenMillis = clock.wallTime();
        return r;
    }

    private static String key(String name, String... tags) {
        if (tags.length % 2 != 0) {
            throw new IllegalArgumentException("tags must be name/value pairs, got " + tags.length + " strings");
        }
        return name + "|" + String.join("|", tags);
    }

    /**
     * Parses a retention such as {@code 30m}, {@code 90s}, {@code 2h}, {@code 1d} or ISO-8601 {@code PT30M}.
     *
     * @throws IllegalArgumentException naming {@link #RETENTION_OPTION} when the text is not a positive duration
     */
    public static Duration parseRetention(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        Duration d;
        try {
            if (t.startsWith("p")) {
                d = Duration.parse(t.toUpperCase(Locale.ROOT));
            } else if (t.matches("\\d+(ms|s|m|h|d)")) {
                long n = Long.parseLong(t.replaceAll("\\D", ""));
                String unit = t.replaceAll("\\d", "");
                d = switch (unit) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            } else {
                throw new IllegalArgumentException(RETENTION_OPTION + ": '" + text + "' is not a duration (e.g. 30m, "
                        + "90s, 2h, PT30M)");
            }
        } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new IllegalArgumentException(RETENTION_OPTION + ": '" + text + "' is not a duration (e.g. 30m, "
                    + "90s, 2h, PT30M)", e);
        }
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(RETENTION_OPTION + " must be positive, got '" + text + "'");
        }
        return d;
    }

    private static Duration requirePositive(Duration retention) {
        Objects.requireNonNull(retention, "retention");
        if (retention.isZero() || retention.isNegative()) {
            throw new IllegalArgumentException(RETENTION_OPTION + " must be positive, got " + retention);
        }
        return retention;
    }
}

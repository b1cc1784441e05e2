package io.grokwatch.analyzer;

/**
 * Whether the analyzer keeps up with a run: how often the run produces checkpoints against how long the analyzer
 * spends on one, both as moving averages over the run's recent checkpoints.
 *
 * <p>The interval comes from the checkpoints' own timestamps (spread over the ones superseded in between), so it
 * is the trainer's pace whatever the analyzer's delays. The run's {@code load} is service time over interval; the
 * runs that share an analyzer add up ({@link AnalyzerLoad}). At a total of at most 1 the lag stays bounded; above
 * it, under {@link Backlog#ALL} the lag grows by {@code interval * (total - 1)} per checkpoint ({@code service -
 * interval} for a run alone), and under {@link Backlog#LATEST} about {@code 1 - 1/total} of the checkpoints are
 * superseded. The
 * first checkpoint of a run has no interval and, being a cold solve that also compiles code, is left out of the
 * service time too, so both averages cover the same checkpoints.
 *
 * @param lastTimestampMs     production time of the last analysed checkpoint
 * @param lastEpoch           its epoch
 * @param intervals           intervals averaged so far (0 before the second analysed checkpoint)
 * @param intervalSeconds     average time between two produced checkpoints of the run
 * @param serviceSeconds      average time the analyzer spent on one checkpoint (analysis, state, output)
 * @param epochsPerCheckpoint average epochs between two produced checkpoints
 * @param behind              whether the analyzer was last reported as outpaced by this run (with the others that share
 *                            it; for log transitions)
 */
record RunPace(long lastTimestampMs, long lastEpoch, int intervals, double intervalSeconds, double serviceSeconds,
               double epochsPerCheckpoint, boolean behind) {
    /** Weight of the newest checkpoint in the averages: the last five or so dominate. */
    static final double WEIGHT = 0.3;
    /** A run is reported behind above {@code 1 + MARGIN} and caught up again below {@code 1 - MARGIN}. */
    static final double MARGIN = 0.1;
    /** Milliseconds between two checkpoints stamped with the same millisecond, on average. */
    static final double SAME_MILLISECOND = 0.5;

    /** The pace after a run's first analysed checkpoint: nothing to compare yet. */
    static RunPace first(long timestampMs, long epoch) {
        return new RunPace(timestampMs, epoch, 0, Double.NaN, Double.NaN, Double.NaN, false);
    }

    /**
     * The pace after one more analysed checkpoint.
     *
     * @param superseded     checkpoints of the run skipped since the last analysed one (each was produced too)
     * @param serviceSeconds time spent on this checkpoint
     */
    RunPace next(long timestampMs, long epoch, long superseded, double serviceSeconds) {
        if (superseded < 0 || !(serviceSeconds >= 0)) {
            throw new IllegalArgumentException("superseded must be >= 0 and serviceSeconds a time, got " + superseded
                    + " and " + serviceSeconds);
        }
        long produced = superseded + 1;
        if (timestampMs < lastTimestampMs) {
            // Clock skew between producers: no pace to learn from this one.
            return new RunPace(lastTimestampMs, epoch, intervals, intervalSeconds, this.serviceSeconds,
                    epochsPerCheckpoint, behind);
        }
        // Timestamps are whole milliseconds: two in the same one were on average half a millisecond apart.
        double interval = Math.max(timestampMs - lastTimestampMs, SAME_MILLISECOND) / 1e3 / produced;
        double epochs = (double) (epoch - lastEpoch) / produced;
        boolean firstInterval = intervals == 0;
        return new RunPace(timestampMs, epoch, intervals + 1,
                firstInterval ? interval : average(intervalSeconds, interval),
                firstInterval ? serviceSeconds : average(this.serviceSeconds, serviceSeconds),
                firstInterval ? epochs : average(epochsPerCheckpoint, epochs), behind);
    }

    /**
     * This pace with {@link #behind()} judged against the analyzer's total load (the run's own, or the sum over the
     * runs that share the analyzer), with a margin either side of 1 so that a load near 1 does not flap.
     */
    RunPace judged(AnalyzerLoad.Total total) {
        boolean nowBehind = behind ? total.load() > 1 - MARGIN : total.load() > 1 + MARGIN;
        return nowBehind == behind ? this : withBehind(nowBehind);
    }

    private static double average(double old, double sample) {
        return (1 - WEIGHT) * old + WEIGHT * sample;
    }

    private RunPace withBehind(boolean b) {
        return new RunPace(lastTimestampMs, lastEpoch, intervals, intervalSeconds, serviceSeconds, epochsPerCheckpoint,
                b);
    }

    /** Whether there is an interval to compare with. */
    boolean known() {
        return intervals > 0;
    }

    /** Service time over checkpoint interval (NaN before the second analysed checkpoint). */
    double load() {
        return known() ? serviceSeconds / intervalSeconds : Double.NaN;
    }

    /**
     * Seconds the lag of this run grows by per checkpoint while every checkpoint is analysed (0 when keeping up):
     * in one of its intervals the analyzer has {@code interval * total load} seconds of work.
     */
    double lagGrowthSecondsPerCheckpoint(AnalyzerLoad.Total total) {
        return known() ? Math.max(0, intervalSeconds * (total.load() - 1)) : Double.NaN;
    }

    /**
     * The fewest epochs between checkpoints that the analyzer would keep up with at the run's current pace per epoch
     * and the current service times, with every run that shares the analyzer spacing its checkpoints out as much
     * (alone: the run's own load), or 0 when epochs are not advancing (a trainer that reports none).
     */
    long epochsPerCheckpointToKeepUp(AnalyzerLoad.Total total) {
        if (!known() || !(epochsPerCheckpoint > 0)) {
            return 0;
        }
        // Rounded before the ceiling so that an exact multiple is not pushed up by rounding error.
        return Math.max(1, (long) Math.ceil(Math.round(epochsPerCheckpoint * total.load() * 1e6) / 1e6));
    }

    /** The spectrum's {@code pace} field, or null before the second analysed checkpoint. */
    io.grokwatch.records.SpectrumRecord.Pace reported(AnalyzerLoad.Total total) {
        if (!known()) {
            return null;
        }
        boolean epochs = epochsPerCheckpoint > 0;
        return new io.grokwatch.records.SpectrumRecord.Pace(intervalSeconds, serviceSeconds, load(), total.load(),
                total.runs(), total.load() <= 1, lagGrowthSecondsPerCheckpoint(total), intervals + 1,
                epochs ? epochsPerCheckpoint : null, epochs ? epochsPerCheckpointToKeepUp(total) : null);
    }

    /** What one line of log says of it, for the given backlog policy. */
    String describe(Backlog backlog, AnalyzerLoad.Total total) {
        String pace = String.format("analyses take %s, checkpoints come every %s (load %.2f%s)", seconds(serviceSeconds),
                seconds(intervalSeconds), load(), total.runs() == 1 ? ""
                        : String.format("; %d runs share the analyzer, total load %.2f", total.runs(), total.load()));
        if (total.load() <= 1) {
            return pace;
        }
        String advice = epochsPerCheckpoint > 0
                ? String.format("; keeping up needs a checkpoint every %d epochs or more (now every %.3g)%s",
                epochsPerCheckpointToKeepUp(total), epochsPerCheckpoint, total.runs() == 1 ? ""
                        : ", if the other runs space theirs out as much") : "";
        return pace + (backlog == Backlog.ALL
                ? String.format(": the lag grows by %s per checkpoint (backlog=all analyses every one; "
                + "backlog=latest keeps it bounded)", seconds(lagGrowthSecondsPerCheckpoint(total)))
                : String.format(": about %.0f%% of checkpoints will be superseded (backlog=latest; grokwatch replay "
                + "analyses every one)", 100 * (1 - 1 / total.load()))) + advice;
    }

    private static String seconds(double s) {
        return s >= 0.1 ? String.format("%.2f s", s) : String.format("%.3g ms", s * 1e3);
    }

    /** As the run's stored state keeps it: the averages (null, so left out) before there are any. */
    Stored stored() {
        boolean k = known();
        return new Stored(lastTimestampMs, lastEpoch, intervals, k ? intervalSeconds : null, k ? serviceSeconds : null,
                k && Double.isFinite(epochsPerCheckpoint) ? epochsPerCheckpoint : null, behind);
    }

    /** The JSON of a pace in the run's stored state. */
    record Stored(long lastTimestampMs, long lastEpoch, int intervals, Double intervalSeconds, Double serviceSeconds,
                  Double epochsPerCheckpoint, boolean behind) {
        RunPace pace() {
            boolean k = intervals > 0;
            return new RunPace(lastTimestampMs, lastEpoch, intervals, k ? orNaN(intervalSeconds) : Double.NaN,
                    k ? orNaN(serviceSeconds) : Double.NaN, k ? orNaN(epochsPerCheckpoint) : Double.NaN, behind);
        }

        private static double orNaN(Double v) {
            return v == null ? Double.NaN : v;
        }
    }
}

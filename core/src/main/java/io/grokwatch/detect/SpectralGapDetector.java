package io.grokwatch.detect;

import io.grokwatch.records.Evidence;
import java.util.List;

/**
 * Family-free: a new spectral gap opens — a ratio {@code lambda_i / lambda_{i+1}} that was flat at the start of
 * the run grows past a threshold and stays there. Needs no knowledge of the features, so it works for any
 * model; it says "the spectrum reorganised", not "the model generalised", and carries its own, lower
 * confidence. Fires once per run.
 */
public final class SpectralGapDetector implements Detector<SpectralGapDetector.State> {
    public static final String NAME = "spectral-gap";

    /**
     * @param ratio       {@code gap.ratio}, default 1.05: the gap that counts as opened (the end-of-second-cliff
     *                    gap of grokking runs passes 1.05 within 20 epochs of test accuracy 0.5; controls stay
     *                    below 1.01)
     * @param flat        {@code gap.flat}, default 1.02: the gap must have been below this at the run's first
     *                    observation (a gap that was always there is not news)
     * @param persistence {@code gap.persistence}, default 2: consecutive observations above the ratio
     * @param positions   {@code gap.positions}, default 256: leading ratios watched
     */
    public record Config(double ratio, double flat, int persistence, int positions) {
        public static final Config DEFAULT = new Config(1.05, 1.02, 2, 256);

        public Config {
            if (!(ratio > 1) || !(flat >= 1) || flat >= ratio) {
                throw new IllegalArgumentException("gap.ratio must exceed gap.flat >= 1, got " + ratio + " and " + flat);
            }
            if (persistence < 1 || positions < 1) {
                throw new IllegalArgumentException("gap.persistence and gap.positions must be >= 1");
            }
        }
    }

    private final Config config;

    public SpectralGapDetector(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @param fired         whether the alert has been raised (once per run)
     * @param initialRatios the watched ratios at the run's first observation, null before it
     * @param streaks       per watched ratio, consecutive observations above {@code gap.ratio}
     */
    public record State(boolean fired, double[] initialRatios, int[] streaks) implements DetectorStates.FiresOnce {
        static final State INITIAL = new State(false, null, new int[0]);

        public State {
            streaks = streaks == null ? new int[0] : streaks.clone();
            initialRatios = initialRatios == null ? null : initialRatios.clone();
        }
    }

    @Override
    public Class<State> stateType() {
        return State.class;
    }

    @Override
    public State initialState() {
        return State.INITIAL;
    }

    @Override
    public Step<State> observe(State s, Observation o) {
        double[] ev = o.eigenvalues();
        int n = Math.min(config.positions(), ev.length - 1);
        if (n < 2 || s.fired()) {
            return Step.quiet(s);
        }
        if (s.initialRatios() == null) {
            double[] init = new double[n];
            for (int i = 0; i < n; i++) {
                init[i] = ratio(ev, i);
            }
            return Step.quiet(new State(false, init, new int[n]));
        }
        double[] init = s.initialRatios();
        int[] streaks = java.util.Arrays.copyOf(s.streaks(), init.length);
        int best = -1;
        for (int i = 1; i < Math.min(n, init.length); i++) {
            double r = ratio(ev, i);
            streaks[i] = r >= config.ratio() && init[i] < config.flat() ? streaks[i] + 1 : 0;
            if (streaks[i] >= config.persistence() && (best < 0 || r > ratio(ev, best))) {
                best = i;
            }
        }
        if (best < 0) {
            return Step.quiet(new State(false, init, streaks));
        }
        double r = ratio(ev, best);
        Evidence evd = Evidence.of("a new gap opened in the eNTK spectrum").put("position", best).put("ratio", r)
                .put("initialRatio", init[best]).put("threshold", config.ratio())
                .put("observationsAbove", streaks[best]).build();
        // Confidence: 0.3 at the threshold, 0.8 once the gap is 1.25 (family-free: never certain).
        double confidence = Math.min(0.8, 0.3 + 2.5 * (r - config.ratio()));
        return new Step<>(new State(true, init, streaks), List.of(new Alert(NAME, o.epoch(), o.step(), confidence, evd)));
    }

    private static double ratio(double[] ev, int i) {
        double a = ev[i];
        double b = ev[i + 1];
        return b > 0 ? a / b : 1.0;
    }
}

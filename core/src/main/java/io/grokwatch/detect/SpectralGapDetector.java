package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Family-free: a new spectral gap opens — a ratio {@code lambda_i / lambda_{i+1}} that was flat at the start of
 * the run grows past a threshold and stays there. Needs no knowledge of the features, so it works for any
 * model; it says "the spectrum reorganised", not "the model generalised", and carries its own, lower
 * confidence. Fires once per run.
 */
public final class SpectralGapDetector implements Detector {
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

    @Override
    public ObjectNode initialState() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("fired", false);
        s.putNull("initialRatios");
        s.putArray("streaks");
        return s;
    }

    @Override
    public Step observe(ObjectNode state, Observation o) {
        ObjectNode s = state.deepCopy();
        double[] ev = o.eigenvalues();
        int n = Math.min(config.positions(), ev.length - 1);
        if (n < 2 || s.get("fired").asBoolean()) {
            return new Step(s, List.of());
        }
        if (s.get("initialRatios").isNull()) {
            ArrayNode init = s.putArray("initialRatios");
            ArrayNode streaks = s.putArray("streaks");
            for (int i = 0; i < n; i++) {
                init.add(ratio(ev, i));
                streaks.add(0);
            }
            return new Step(s, List.of());
        }
        ArrayNode init = (ArrayNode) s.get("initialRatios");
        ArrayNode streaks = (ArrayNode) s.get("streaks");
        int best = -1;
        for (int i = 1; i < Math.min(n, init.size()); i++) {
            double r = ratio(ev, i);
            int streak = r >= config.ratio() && init.get(i).asDouble() < config.flat() ? streaks.get(i).asInt() + 1 : 0;
            streaks.set(i, streak);
            if (streak >= config.persistence() && (best < 0 || r > ratio(ev, best))) {
                best = i;
            }
        }
        if (best < 0) {
            return new Step(s, List.of());
        }
        s.put("fired", true);
        double r = ratio(ev, best);
        ObjectNode evd = JsonNodeFactory.instance.objectNode();
        evd.put("signal", "a new gap opened in the eNTK spectrum").put("position", best).put("ratio", r)
                .put("initialRatio", init.get(best).asDouble()).put("threshold", config.ratio())
                .put("observationsAbove", streaks.get(best).asInt());
        // Confidence: 0.3 at the threshold, 0.8 once the gap is 1.25 (family-free: never certain).
        double confidence = Math.min(0.8, 0.3 + 2.5 * (r - config.ratio()));
        return new Step(s, List.of(new Alert(NAME, o.epoch(), o.step(), confidence, evd)));
    }

    private static double ratio(double[] ev, int i) {
        double a = ev[i];
        double b = ev[i + 1];
        return b > 0 ? a / b : 1.0;
    }
}

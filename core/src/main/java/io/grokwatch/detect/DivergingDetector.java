package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Training-health alert {@code diverging}: the training loss has climbed back well above the best it reached,
 * and stays there. Healthy grokking runs raise their training loss by an order of magnitude at tiny absolute
 * values while weight decay reshapes the weights (docs/operations.md has the figures), so the rise must be large
 * on both scales: many times the running minimum, and a good share of the loss the run started from. A non-finite loss diverges at once. Fires once per
 * episode; re-arms when the loss is back under the threshold.
 */
public final class DivergingDetector implements Detector {
    public static final String NAME = "diverging";

    /**
     * @param ratio       {@code diverging.ratio}, default 10: the loss is at least this many times its running
     *                    minimum (an order of magnitude, beyond the rises of a healthy grokking run)
     * @param ofInitial   {@code diverging.of-initial}, default 0.5: and at least this share of the first
     *                    checkpoint's loss (half the way back to an untrained model)
     * @param persistence {@code diverging.persistence}, default 2: on this many consecutive checkpoints (one
     *                    noisy checkpoint is not a divergence)
     */
    public record Config(double ratio, double ofInitial, int persistence) {
        public static final Config DEFAULT = new Config(10, 0.5, 2);

        public Config {
            if (!(ratio > 1) || Double.isInfinite(ratio)) {
                throw new IllegalArgumentException("diverging.ratio must be a finite number > 1, got " + ratio);
            }
            if (!(ofInitial >= 0) || Double.isInfinite(ofInitial)) {
                throw new IllegalArgumentException("diverging.of-initial must be a finite number >= 0, got " + ofInitial);
            }
            if (persistence < 1) {
                throw new IllegalArgumentException("diverging.persistence must be >= 1, got " + persistence);
            }
        }
    }

    private final Config config;

    public DivergingDetector(Config config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ObjectNode initialState() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.putNull("initialLoss");
        s.putNull("minLoss");
        s.put("above", 0);
        s.put("firing", false);
        return s;
    }

    @Override
    public Step observe(ObjectNode state, Observation o) {
        ObjectNode s = state.deepCopy();
        double loss = o.trainLoss();
        if (Double.isNaN(loss) && !s.get("initialLoss").isNull()) {
            // An unreported loss says nothing; a NaN after reported ones is the run blowing up.
            return nonFinite(s, o, loss);
        }
        if (Double.isNaN(loss)) {
            return new Step(s, List.of());
        }
        if (Double.isInfinite(loss)) {
            return nonFinite(s, o, loss);
        }
        if (s.get("initialLoss").isNull()) {
            s.put("initialLoss", loss);
            s.put("minLoss", loss);
            return new Step(s, List.of());
        }
        double min = s.get("minLoss").asDouble();
        double initial = s.get("initialLoss").asDouble();
        double threshold = Math.max(config.ratio() * min, config.ofInitial() * initial);
        boolean high = loss >= threshold && loss > min;
        if (!high) {
            s.put("minLoss", Math.min(min, loss));
            s.put("above", 0);
            s.put("firing", false);
            return new Step(s, List.of());
        }
        int above = s.get("above").asInt() + 1;
        s.put("above", above);
        if (above < config.persistence() || s.get("firing").asBoolean()) {
            return new Step(s, List.of());
        }
        s.put("firing", true);
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", "the training loss rose far above its best and stayed there")
                .put("trainLoss", loss).put("minLoss", min).put("initialLoss", initial).put("threshold", threshold)
                .put("ratio", config.ratio()).put("ofInitial", config.ofInitial()).put("checkpointsAbove", above);
        // 0.5 at the ratio above the best, 1 at its square (two orders of magnitude with the default).
        double confidence = Math.min(1.0, Math.max(0.5, Math.log(loss / min) / (2 * Math.log(config.ratio()))));
        return new Step(s, List.of(new Alert(NAME, o.epoch(), o.step(), confidence, ev)));
    }

    private Step nonFinite(ObjectNode s, Observation o, double loss) {
        if (s.get("firing").asBoolean()) {
            return new Step(s, List.of());
        }
        s.put("firing", true);
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", "the training loss is not a finite number").put("trainLoss", String.valueOf(loss));
        return new Step(s, List.of(new Alert(NAME, o.epoch(), o.step(), 1.0, ev)));
    }
}

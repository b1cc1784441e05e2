package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Training-health alert {@code collapse}: a run that had learned loses it. Armed once test accuracy has reached
 * {@code collapse.armed-at} (the run generalised) or, for runs that report no test accuracy, once training
 * accuracy has; fires when that accuracy falls {@code collapse.drop} or more below its best so far on
 * {@code collapse.persistence} consecutive checkpoints. Fires once per episode; re-arms once the accuracy is
 * back within the drop of its best.
 */
public final class CollapseDetector implements Detector {
    public static final String NAME = "collapse";

    /**
     * @param armedAt     {@code collapse.armed-at}, default 0.9: the accuracy that counts as learned
     * @param drop        {@code collapse.drop}, default 0.2: how far below its best the accuracy must fall (the
     *                    checkpoint-to-checkpoint wobble of a learned run is a few hundredths)
     * @param persistence {@code collapse.persistence}, default 2: on this many consecutive checkpoints
     */
    public record Config(double armedAt, double drop, int persistence) {
        public static final Config DEFAULT = new Config(0.9, 0.2, 2);

        public Config {
            if (!(armedAt > 0 && armedAt <= 1)) {
                throw new IllegalArgumentException("collapse.armed-at must be in (0, 1], got " + armedAt);
            }
            if (!(drop > 0 && drop <= 1)) {
                throw new IllegalArgumentException("collapse.drop must be in (0, 1], got " + drop);
            }
            if (persistence < 1) {
                throw new IllegalArgumentException("collapse.persistence must be >= 1, got " + persistence);
            }
        }
    }

    private final Config config;

    public CollapseDetector(Config config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ObjectNode initialState() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("bestTest", 0.0);
        s.put("bestTrain", 0.0);
        s.put("below", 0);
        s.put("firing", false);
        return s;
    }

    @Override
    public Step observe(ObjectNode state, Observation o) {
        ObjectNode s = state.deepCopy();
        boolean hasTest = !Double.isNaN(o.testAccuracy());
        // The held-out accuracy when the run reports one, else the training accuracy.
        String key = hasTest ? "bestTest" : "bestTrain";
        double acc = hasTest ? o.testAccuracy() : o.trainAccuracy();
        if (Double.isNaN(acc)) {
            return new Step(s, List.of());
        }
        double best = s.get(key).asDouble();
        if (best < config.armedAt() || acc > best - config.drop()) {
            s.put(key, Math.max(best, acc));
            s.put("below", 0);
            s.put("firing", false);
            return new Step(s, List.of());
        }
        int below = s.get("below").asInt() + 1;
        s.put("below", below);
        if (below < config.persistence() || s.get("firing").asBoolean()) {
            return new Step(s, List.of());
        }
        s.put("firing", true);
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", (hasTest ? "test" : "training") + " accuracy fell well below its best after the run had "
                        + "learned").put("accuracy", acc).put("best", best).put("drop", config.drop())
                .put("armedAt", config.armedAt()).put("checkpointsBelow", below)
                .put("measure", hasTest ? "testAccuracy" : "trainAccuracy");
        return new Step(s, List.of(new Alert(NAME, o.epoch(), o.step(), Math.min(1.0, (best - acc) / (2 * config.drop())
                + 0.5), ev)));
    }
}

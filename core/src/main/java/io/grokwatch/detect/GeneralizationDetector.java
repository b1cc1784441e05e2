package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * The conventional alert, from reported test accuracy: test accuracy jumps after train accuracy has
 * saturated. It tells the user what the labels say, so they can compare it with the spectral onset and see
 * the lead time. Fires once per run; silent when no test accuracy is reported.
 */
public final class GeneralizationDetector implements Detector {
    public static final String NAME = "generalization";

    /**
     * @param trainAccuracy {@code generalization.train-accuracy}, default 0.99: the training set counts as
     *                      memorised from here on
     * @param testAccuracy  {@code generalization.test-accuracy}, default 0.5: half the held-out pairs right,
     *                      far above chance (1/p), the midpoint of the paper's transition
     */
    public record Config(double trainAccuracy, double testAccuracy) {
        public static final Config DEFAULT = new Config(0.99, 0.5);

        public Config {
            if (!(trainAccuracy > 0 && trainAccuracy <= 1) || !(testAccuracy > 0 && testAccuracy <= 1)) {
                throw new IllegalArgumentException("generalization.train-accuracy and generalization.test-accuracy "
                        + "must be in (0, 1], got " + trainAccuracy + " and " + testAccuracy);
            }
        }
    }

    private final Config config;

    public GeneralizationDetector(Config config) {
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
        s.putNull("memorisedAtEpoch");
        return s;
    }

    @Override
    public Step observe(ObjectNode state, Observation o) {
        ObjectNode s = state.deepCopy();
        if (s.get("memorisedAtEpoch").isNull() && o.trainAccuracy() >= config.trainAccuracy()) {
            s.put("memorisedAtEpoch", o.epoch());
        }
        if (s.get("fired").asBoolean() || s.get("memorisedAtEpoch").isNull() || Double.isNaN(o.testAccuracy())
                || o.testAccuracy() < config.testAccuracy()) {
            return new Step(s, List.of());
        }
        s.put("fired", true);
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", "test accuracy jumped after the training set was memorised")
                .put("testAccuracy", o.testAccuracy()).put("threshold", config.testAccuracy())
                .put("trainAccuracy", o.trainAccuracy()).put("memorisedAtEpoch", s.get("memorisedAtEpoch").asLong());
        return new Step(s, List.of(new Alert(NAME, o.epoch(), o.step(), 1.0, ev)));
    }
}

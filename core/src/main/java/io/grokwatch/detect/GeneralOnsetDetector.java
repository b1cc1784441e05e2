package io.grokwatch.detect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Family-free grokking onset: after the training set is memorised, the model's confidence on held-out probes,
 * relative to its confidence on training probes ({@link Observation#heldOutConfidence()}), climbs back from its
 * lowest value. Needs the run's train split, no feature family and no held-out label. Kernel-target alignment is
 * reported as context: on grokwatch's runs it rises as much when a model only memorises (docs/science.md), so it
 * never fires. Quiet on runs without a train split. Fires once per run.
 */
public final class GeneralOnsetDetector implements Detector {
    public static final String NAME = "grokking-onset-general";
    /** The one piece of evidence that fires today, named in the alert. */
    public static final String EVIDENCE = "held-out-confidence-recovery";

    /**
     * @param trainAccuracy  {@code general.train-accuracy}, default 0.95: the detector arms once the training set is
     *                       memorised; before that every signal moves with ordinary learning.
     * @param confidenceRise {@code general.confidence-rise}, default 0.04: the held-out/training margin ratio must
     *                       climb this far above its lowest value since arming. Memorisation-only controls keep it
     *                       within 0.005 of their lowest value (noise); the grokking runs measured climb 0.055 or more
     *                       by the checkpoint where held-out accuracy crosses 0.5 (docs/science.md).
     */
    public record Config(double trainAccuracy, double confidenceRise) {
        public static final Config DEFAULT = new Config(0.95, 0.04);

        public Config {
            if (!(trainAccuracy > 0 && trainAccuracy <= 1)) {
                throw new IllegalArgumentException("general.train-accuracy must be in (0, 1], got " + trainAccuracy);
            }
            if (!(confidenceRise > 0 && confidenceRise < 1)) {
                throw new IllegalArgumentException("general.confidence-rise must be in (0, 1), got " + confidenceRise);
            }
        }
    }

    /**
     * What the detector remembers between checkpoints.
     *
     * @param fired          the alert has been raised
     * @param armedAt        epoch of the first memorised checkpoint, -1 before
     * @param lowest         lowest held-out confidence since arming, NaN before
     * @param alignmentAtArm label alignment at arming, NaN when unknown
     */
    public record State(boolean fired, long armedAt, double lowest, double alignmentAtArm) {
        public static final State INITIAL = new State(false, -1, Double.NaN, Double.NaN);

        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("fired", fired).put("armedAt", armedAt);
            putNumber(o, "lowest", lowest);
            putNumber(o, "alignmentAtArm", alignmentAtArm);
            return o;
        }

        /** Reads {@link #toJson()}; missing fields take their initial values. */
        public static State fromJson(JsonNode o) {
            return new State(o.path("fired").asBoolean(false), o.path("armedAt").asLong(-1), number(o, "lowest"),
                    number(o, "alignmentAtArm"));
        }

        private static void putNumber(ObjectNode o, String key, double v) {
            if (Double.isFinite(v)) {
                o.put(key, v);
            } else {
                o.putNull(key);
            }
        }

        private static double number(JsonNode o, String key) {
            JsonNode v = o.path(key);
            return v.isNumber() ? v.asDouble() : Double.NaN;
        }
    }

    private final Config config;

    public GeneralOnsetDetector(Config config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ObjectNode initialState() {
        return State.INITIAL.toJson();
    }

    @Override
    public Step observe(ObjectNode state, Observation o) {
        State s = State.fromJson(state);
        Transition t = next(s, o);
        return new Step(t.state().toJson(), t.alert() == null ? List.of() : List.of(t.alert()));
    }

    /** The new state and the alert, if any. */
    public record Transition(State state, Alert alert) {
    }

    /** The detector's logic on typed state. */
    public Transition next(State s, Observation o) {
        double c = o.heldOutConfidence();
        if (s.fired() || !Double.isFinite(c)) {
            return new Transition(s, null);
        }
        if (s.armedAt() < 0) {
            if (!(o.trainAccuracy() >= config.trainAccuracy())) {
                return new Transition(s, null);
            }
            return new Transition(new State(false, o.epoch(), c, o.labelAlignment()), null);
        }
        double lowest = Math.min(s.lowest(), c);
        if (c - lowest < config.confidenceRise()) {
            return new Transition(new State(false, s.armedAt(), lowest, s.alignmentAtArm()), null);
        }
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", "held-out confidence recovers after memorisation");
        ev.putArray("fired").add(EVIDENCE);
        ev.put("heldOutConfidence", c).put("lowestSinceMemorised", lowest).put("rise", c - lowest)
                .put("threshold", config.confidenceRise()).put("memorisedAt", s.armedAt())
                .put("trainAccuracy", o.trainAccuracy());
        ObjectNode context = ev.putObject("context");
        if (Double.isFinite(o.labelAlignment())) {
            context.put("labelAlignment", o.labelAlignment());
            if (Double.isFinite(s.alignmentAtArm())) {
                context.put("labelAlignmentAtMemorisation", s.alignmentAtArm());
            }
        }
        if (o.eigenvalues().length > 0) {
            context.put("topEigenvalue", o.eigenvalues()[0]);
        }
        // Confidence grows with the rise: 0.5 at the threshold, 1 at three times it.
        double confidence = Math.min(1.0, 0.5 + 0.25 * ((c - lowest) / config.confidenceRise() - 1));
        return new Transition(new State(true, s.armedAt(), lowest, s.alignmentAtArm()),
                new Alert(NAME, o.epoch(), o.step(), confidence, ev));
    }
}

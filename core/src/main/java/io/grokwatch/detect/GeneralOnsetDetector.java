package io.grokwatch.detect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * Family-free grokking onset: after the training set is memorised, unseen inputs start to look like seen ones. Two
 * pieces of evidence, either of which fires (the alert names every one that did):
 * <ul>
 *   <li>{@value #KERNEL_EVIDENCE}: the held-out confidence of the eNTK's kernel regression of the training labels
 *   ({@link Observation#kernelConfidence()}) climbs by a factor above its lowest value since memorisation. The
 *   kernel turns before the network's outputs do, so this is usually first.</li>
 *   <li>{@value #OUTPUT_EVIDENCE}: the held-out confidence of the model's own outputs
 *   ({@link Observation#heldOutConfidence()}) climbs by an absolute amount above its lowest value since
 *   memorisation.</li>
 * </ul>
 * Needs the run's train split; no feature family and no held-out label. Kernel-target alignment is reported as
 * context: on grokwatch's runs it rises as much when a model only memorises (docs/science.md), so it never fires.
 * Quiet on runs without a train split. Fires once per run.
 */
public final class GeneralOnsetDetector implements Detector {
    public static final String NAME = "grokking-onset-general";
    public static final String KERNEL_EVIDENCE = "kernel-confidence-recovery";
    public static final String OUTPUT_EVIDENCE = "output-confidence-recovery";

    /**
     * @param trainAccuracy  {@code general.train-accuracy}, default 0.95: the detector arms once the training set is
     *                       memorised; before that every signal moves with ordinary learning.
     * @param kernelRise     {@code general.kernel-rise}, default 1.25: the kernel confidence must reach this multiple
     *                       of its lowest value since arming. On the tuning runs (docs/science.md) controls stay below
     *                       1.04 of their lowest value; grokking runs reach 1.35-1.45 at the first checkpoint where
     *                       the kernel turns.
     * @param confidenceRise {@code general.confidence-rise}, default 0.04: the output confidence must climb this far
     *                       above its lowest value since arming. Controls stay within 0.005 of it; grokking runs climb
     *                       0.055 or more by the checkpoint where held-out accuracy passes 0.5.
     */
    public record Config(double trainAccuracy, double kernelRise, double confidenceRise) {
        public static final Config DEFAULT = new Config(0.95, 1.25, 0.04);

        public Config {
            if (!(trainAccuracy > 0 && trainAccuracy <= 1)) {
                throw new IllegalArgumentException("general.train-accuracy must be in (0, 1], got " + trainAccuracy);
            }
            if (!(kernelRise > 1 && kernelRise < 100)) {
                throw new IllegalArgumentException("general.kernel-rise must be in (1, 100), got " + kernelRise);
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
     * @param lowestOutput   lowest output confidence since arming, NaN before or when unknown
     * @param lowestKernel   lowest kernel confidence since arming, NaN before or when unknown
     * @param alignmentAtArm label alignment at arming, NaN when unknown
     */
    public record State(boolean fired, long armedAt, double lowestOutput, double lowestKernel, double alignmentAtArm) {
        public static final State INITIAL = new State(false, -1, Double.NaN, Double.NaN, Double.NaN);

        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("fired", fired).put("armedAt", armedAt);
            putNumber(o, "lowestOutput", lowestOutput);
            putNumber(o, "lowestKernel", lowestKernel);
            putNumber(o, "alignmentAtArm", alignmentAtArm);
            return o;
        }

        /** Reads {@link #toJson()}; missing fields take their initial values. */
        public static State fromJson(JsonNode o) {
            return new State(o.path("fired").asBoolean(false), o.path("armedAt").asLong(-1),
                    number(o, "lowestOutput"), number(o, "lowestKernel"), number(o, "alignmentAtArm"));
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
        Transition t = next(State.fromJson(state), o);
        return new Step(t.state().toJson(), t.alert() == null ? List.of() : List.of(t.alert()));
    }

    /** The new state and the alert, or null. */
    public record Transition(State state, Alert alert) {
    }

    /** The detector's logic on typed state. */
    public Transition next(State s, Observation o) {
        double output = o.heldOutConfidence();
        double kernel = o.kernelConfidence();
        if (s.fired() || !Double.isFinite(output) && !Double.isFinite(kernel)) {
            return new Transition(s, null);
        }
        if (s.armedAt() < 0) {
            if (!(o.trainAccuracy() >= config.trainAccuracy())) {
                return new Transition(s, null);
            }
            return new Transition(new State(false, o.epoch(), output, kernel, o.labelAlignment()), null);
        }
        double lowestOutput = lower(s.lowestOutput(), output);
        double lowestKernel = lower(s.lowestKernel(), kernel);
        List<String> fired = new ArrayList<>();
        if (Double.isFinite(kernel) && lowestKernel > 0 && kernel >= config.kernelRise() * lowestKernel) {
            fired.add(KERNEL_EVIDENCE);
        }
        if (Double.isFinite(output) && output - lowestOutput >= config.confidenceRise()) {
            fired.add(OUTPUT_EVIDENCE);
        }
        if (fired.isEmpty()) {
            return new Transition(new State(false, s.armedAt(), lowestOutput, lowestKernel, s.alignmentAtArm()), null);
        }
        ObjectNode ev = JsonNodeFactory.instance.objectNode();
        ev.put("signal", "held-out inputs start to look like training inputs after memorisation");
        var list = ev.putArray("fired");
        fired.forEach(list::add);
        ev.put("memorisedAt", s.armedAt()).put("trainAccuracy", o.trainAccuracy());
        if (Double.isFinite(kernel)) {
            ev.put("kernelConfidence", kernel).put("kernelLowestSinceMemorised", lowestKernel)
                    .put("kernelRiseFactor", kernel / lowestKernel).put("kernelThreshold", config.kernelRise());
        }
        if (Double.isFinite(output)) {
            ev.put("outputConfidence", output).put("outputLowestSinceMemorised", lowestOutput)
                    .put("outputRise", output - lowestOutput).put("outputThreshold", config.confidenceRise());
        }
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
        // 0.5 with one piece of evidence, 1 with both.
        double confidence = fired.size() == 2 ? 1.0 : 0.5;
        return new Transition(new State(true, s.armedAt(), lowestOutput, lowestKernel, s.alignmentAtArm()),
                new Alert(NAME, o.epoch(), o.step(), confidence, ev));
    }

    private static double lower(double lowest, double v) {
        if (!Double.isFinite(v)) {
            return lowest;
        }
        return Double.isFinite(lowest) ? Math.min(lowest, v) : v;
    }
}

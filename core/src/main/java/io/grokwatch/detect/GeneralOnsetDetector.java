package io.grokwatch.detect;

import io.grokwatch.records.Evidence;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Family-free grokking onset: after the training set is memorised, unseen inputs start to look like seen ones. Two
 * pieces of evidence, either of which fires (the alert names every one that did):
 * <ul>
 *   <li>{@value #KERNEL_EVIDENCE}: the held-out confidence of the eNTK's kernel regression of the training labels
 *   ({@link Observation#kernelConfidence()}) climbs by a factor above its lowest value since memorisation. The
 *   kernel turns before the network's outputs do, so this is usually first.</li>
 *   <li>{@value #OUTPUT_EVIDENCE}: the held-out confidence of the model's own outputs
 *   ({@link Observation#heldOutConfidence()}) climbs by an absolute amount above a low it fell to after
 *   memorisation.</li>
 * </ul>
 * Needs the run's train split; no feature family and no held-out label. Kernel-target alignment is reported as
 * context: on grokwatch's runs it rises as much when a model only memorises (docs/science.md), so it never fires.
 * Quiet on runs without a train split. Fires once per run.
 */
public final class GeneralOnsetDetector implements Detector<GeneralOnsetDetector.State> {
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
     *                       above its lowest value since arming, a low below its value at arming. Controls stay
     *                       within 0.005 of it; grokking runs climb 0.055 or more by the checkpoint where held-out
     *                       accuracy passes 0.5.
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
     * What the detector remembers between checkpoints (Jackson writes it as JSON for the analyzer's store).
     *
     * @param fired          the alert has been raised
     * @param armedAt        epoch of the first memorised checkpoint, null before
     * @param outputAtArm    output confidence at arming, null when unknown
     * @param lowestOutput   lowest output confidence since arming, null before or when unknown
     * @param lowestKernel   lowest kernel confidence since arming, null before or when unknown
     * @param alignmentAtArm label alignment at arming, null when unknown
     */
    public record State(boolean fired, Long armedAt, Double outputAtArm, Double lowestOutput, Double lowestKernel,
                        Double alignmentAtArm) implements DetectorStates.FiresOnce {
        public static final State INITIAL = new State(false, null, null, null, null, null);
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
    public Class<State> stateType() {
        return State.class;
    }

    @Override
    public State initialState() {
        return State.INITIAL;
    }

    @Override
    public Step<State> observe(State s, Observation o) {
        double output = o.heldOutConfidence();
        double kernel = o.kernelConfidence();
        if (s.fired() || !Double.isFinite(output) && !Double.isFinite(kernel)) {
            return Step.quiet(s);
        }
        if (s.armedAt() == null) {
            if (!(o.trainAccuracy() >= config.trainAccuracy())) {
                return Step.quiet(s);
            }
            return Step.quiet(new State(false, o.epoch(), finite(output), finite(output), finite(kernel),
                    finite(o.labelAlignment())));
        }
        Double lowestOutput = lower(s.lowestOutput(), output);
        Double lowestKernel = lower(s.lowestKernel(), kernel);
        List<String> fired = new ArrayList<>();
        if (Double.isFinite(kernel) && lowestKernel != null && lowestKernel > 0
                && kernel >= config.kernelRise() * lowestKernel) {
            fired.add(KERNEL_EVIDENCE);
        }
        // A recovery climbs back from a low reached after memorisation: a climb from the value at arming, with no dip
        // before it, is the model still settling on its training set (the example transformer's control, epoch 200).
        boolean dipped = lowestOutput != null && s.outputAtArm() != null && lowestOutput < s.outputAtArm();
        if (Double.isFinite(output) && dipped && output - lowestOutput >= config.confidenceRise()) {
            fired.add(OUTPUT_EVIDENCE);
        }
        State next = new State(!fired.isEmpty(), s.armedAt(), s.outputAtArm(), lowestOutput, lowestKernel,
                s.alignmentAtArm());
        if (fired.isEmpty()) {
            return Step.quiet(next);
        }
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("fired", List.copyOf(fired));
        ev.put("memorisedAt", s.armedAt());
        ev.put("trainAccuracy", o.trainAccuracy());
        if (Double.isFinite(kernel)) {
            ev.put("kernelConfidence", kernel);
            ev.put("kernelLowestSinceMemorised", lowestKernel);
            ev.put("kernelRiseFactor", kernel / lowestKernel);
            ev.put("kernelThreshold", config.kernelRise());
        }
        if (Double.isFinite(output)) {
            ev.put("outputConfidence", output);
            ev.put("outputLowestSinceMemorised", lowestOutput);
            ev.put("outputRise", output - lowestOutput);
            ev.put("outputThreshold", config.confidenceRise());
        }
        Map<String, Object> context = new LinkedHashMap<>();
        if (Double.isFinite(o.labelAlignment())) {
            context.put("labelAlignment", o.labelAlignment());
            if (s.alignmentAtArm() != null) {
                context.put("labelAlignmentAtMemorisation", s.alignmentAtArm());
            }
        }
        if (o.eigenvalues().length > 0 && Double.isFinite(o.eigenvalues()[0])) {
            context.put("topEigenvalue", o.eigenvalues()[0]);
        }
        ev.put("context", context);
        // 0.5 with one piece of evidence, 1 with both.
        double confidence = fired.size() == 2 ? 1.0 : 0.5;
        Evidence evidence = new Evidence("held-out inputs start to look like training inputs after memorisation", ev);
        return new Step<>(next, List.of(new Alert(NAME, o.epoch(), o.step(), confidence, evidence)));
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Double lower(Double lowest, double v) {
        if (!Double.isFinite(v)) {
            return lowest;
        }
        return lowest == null ? v : Math.min(lowest, v);
    }
}

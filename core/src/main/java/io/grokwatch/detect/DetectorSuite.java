package io.grokwatch.detect;

import java.util.ArrayList;
import java.util.List;

/**
 * The detectors run on every checkpoint of a run, with their combined state ({@link DetectorStates}, one JSON
 * object keyed by detector name) so a store can keep it and a replay can resume from it.
 */
public final class DetectorSuite {
    private final List<Detector<?>> detectors;
    private final StalledRule stalled;

    /** These detectors and the default {@link StalledRule}. */
    public DetectorSuite(List<? extends Detector<?>> detectors) {
        this(detectors, new StalledRule(StalledRule.Config.DEFAULT));
    }

    public DetectorSuite(List<? extends Detector<?>> detectors, StalledRule stalled) {
        this.detectors = List.copyOf(detectors);
        this.stalled = java.util.Objects.requireNonNull(stalled, "stalled");
    }

    /** The rule the analyzer asks on a timer: has a run gone quiet without saying it ended? */
    public StalledRule stalled() {
        return stalled;
    }

    public static DetectorSuite defaults() {
        return fromConfig(java.util.Map.of());
    }

    /** Every threshold's config key; the javadoc of each detector's {@code Config} gives default and reason. */
    public static final List<String> KEYS = List.of("onset.overlap-threshold", "onset.min-rise",
            "onset.train-accuracy", "generalization.train-accuracy", "generalization.test-accuracy", "gap.ratio",
            "gap.flat", "gap.persistence", "gap.positions", "diverging.ratio", "diverging.of-initial",
            "diverging.persistence", "collapse.armed-at", "collapse.drop", "collapse.persistence",
            "stalled.intervals", "stalled.min-seconds", "general.train-accuracy", "general.kernel-rise",
            "general.confidence-rise");

    /**
     * The default detectors with thresholds overridden by {@code config} (keys of {@link #KEYS}); an unknown key
     * or a value that is not a number is an error naming the key.
     */
    public static DetectorSuite fromConfig(java.util.Map<String, String> config) {
        for (String k : config.keySet()) {
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException("unknown detector key '" + k + "', allowed: " + String.join(", ", KEYS));
            }
        }
        GrokkingOnsetDetector.Config o = GrokkingOnsetDetector.Config.DEFAULT;
        GeneralizationDetector.Config g = GeneralizationDetector.Config.DEFAULT;
        SpectralGapDetector.Config p = SpectralGapDetector.Config.DEFAULT;
        DivergingDetector.Config dv = DivergingDetector.Config.DEFAULT;
        CollapseDetector.Config cl = CollapseDetector.Config.DEFAULT;
        GeneralOnsetDetector.Config gn = GeneralOnsetDetector.Config.DEFAULT;
        StalledRule.Config st = StalledRule.Config.DEFAULT;
        StalledRule stalled = new StalledRule(new StalledRule.Config(number(config, "stalled.intervals", st.intervals()),
                number(config, "stalled.min-seconds", st.minSeconds())));
        return new DetectorSuite(List.of(
                new GrokkingOnsetDetector(new GrokkingOnsetDetector.Config(
                        number(config, "onset.overlap-threshold", o.overlapThreshold()),
                        number(config, "onset.min-rise", o.minRise()),
                        number(config, "onset.train-accuracy", o.trainAccuracy()))),
                new GeneralOnsetDetector(new GeneralOnsetDetector.Config(
                        number(config, "general.train-accuracy", gn.trainAccuracy()),
                        number(config, "general.kernel-rise", gn.kernelRise()),
                        number(config, "general.confidence-rise", gn.confidenceRise()))),
                new GeneralizationDetector(new GeneralizationDetector.Config(
                        number(config, "generalization.train-accuracy", g.trainAccuracy()),
                        number(config, "generalization.test-accuracy", g.testAccuracy()))),
                new SpectralGapDetector(new SpectralGapDetector.Config(number(config, "gap.ratio", p.ratio()),
                        number(config, "gap.flat", p.flat()),
                        (int) number(config, "gap.persistence", p.persistence()),
                        (int) number(config, "gap.positions", p.positions()))),
                // Training health: they read the reported losses and accuracies, not the spectrum.
                new DivergingDetector(new DivergingDetector.Config(number(config, "diverging.ratio", dv.ratio()),
                        number(config, "diverging.of-initial", dv.ofInitial()),
                        (int) number(config, "diverging.persistence", dv.persistence()))),
                new CollapseDetector(new CollapseDetector.Config(number(config, "collapse.armed-at", cl.armedAt()),
                        number(config, "collapse.drop", cl.drop()),
                        (int) number(config, "collapse.persistence", cl.persistence())))), stalled);
    }

    private static double number(java.util.Map<String, String> config, String key, double def) {
        String v = config.get(key);
        if (v == null) {
            return def;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("detector key '" + key + "' must be a number, got '" + v + "'");
        }
    }

    public DetectorStates initialState() {
        DetectorStates s = DetectorStates.empty();
        for (Detector<?> d : detectors) {
            s = s.with(d.name(), d.initialState());
        }
        return s;
    }

    /** The new combined state and the alerts, in detector order. */
    public record Step(DetectorStates state, List<Alert> alerts) {
        public Step {
            java.util.Objects.requireNonNull(state, "state");
            alerts = List.copyOf(alerts);
        }
    }

    public Step observe(DetectorStates state, Observation observation) {
        DetectorStates next = state;
        List<Alert> alerts = new ArrayList<>();
        for (Detector<?> d : detectors) {
            next = observeOne(d, next, observation, alerts);
        }
        return new Step(next, alerts);
    }

    private static <S extends Record> DetectorStates observeOne(Detector<S> d, DetectorStates states,
                                                                Observation observation, List<Alert> alerts) {
        Detector.Step<S> st = d.observe(states.of(d), observation);
        alerts.addAll(st.alerts());
        return states.with(d.name(), st.state());
    }
}

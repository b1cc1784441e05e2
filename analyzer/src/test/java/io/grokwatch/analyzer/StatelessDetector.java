package io.grokwatch.analyzer;

import io.grokwatch.detect.Alert;
import io.grokwatch.detect.Detector;
import io.grokwatch.detect.Observation;

import java.util.List;
import java.util.function.Function;

/**
 * A detector for tests that keeps no state: what it raises at each observation (or throws, to play a failure) is a
 * function of that observation alone.
 */
record StatelessDetector(String name, Function<Observation, List<Alert>> raise)
        implements Detector<StatelessDetector.Nothing> {
    /** The state of a detector that keeps none. */
    record Nothing() {
    }

    @Override
    public Class<Nothing> stateType() {
        return Nothing.class;
    }

    @Override
    public Nothing initialState() {
        return new Nothing();
    }

    @Override
    public Step<Nothing> observe(Nothing state, Observation observation) {
        return new Step<>(state, raise.apply(observation));
    }
}

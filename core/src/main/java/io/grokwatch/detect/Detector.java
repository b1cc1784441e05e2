package io.grokwatch.detect;

import java.util.List;

/**
 * A detector is a pure function of its state and one observation: state in, observation in, new state and zero or
 * more alerts out. The state is a Java record that Jackson writes as JSON, so the analyzer can keep it in its store
 * and a replay from any checkpoint, given the state before it, reproduces the same alerts. Records are immutable:
 * {@link #observe} returns a new one and never changes the one it was given.
 *
 * @param <S> the detector's state
 */
public interface Detector<S extends Record> {
    /** The alert type it raises and the key of its state in {@link DetectorStates}. */
    String name();

    /** The class of its state, so a stored state is read back as that record. */
    Class<S> stateType();

    S initialState();

    Step<S> observe(S state, Observation observation);

    /** The detector's new state and what it raised. */
    record Step<S>(S state, List<Alert> alerts) {
        public Step {
            java.util.Objects.requireNonNull(state, "state");
            alerts = List.copyOf(alerts);
        }

        /** The new state and nothing raised. */
        public static <S> Step<S> quiet(S state) {
            return new Step<>(state, List.of());
        }
    }
}

package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * A detector is a pure function of its state and one observation: state in, observation in, new state and
 * zero or more alerts out. State is JSON, so the analyzer can keep it in its store and a replay from any
 * checkpoint, given the state before it, reproduces the same alerts.
 */
public interface Detector {
    String name();

    ObjectNode initialState();

    Step observe(ObjectNode state, Observation observation);

    /** The detector's new state (a fresh object) and what it raised. */
    record Step(ObjectNode state, List<Alert> alerts) {
    }
}

package io.grokwatch.detect;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The states of a suite's detectors, by detector name; one JSON object on the wire. Read from a store, a state
 * stays as its JSON until the detector it belongs to asks for it with its {@link Detector#stateType()}: the store's
 * codec need not know the detectors, and a state of a detector no longer in the suite is carried along untouched.
 */
public final class DetectorStates {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DetectorStates EMPTY = new DetectorStates(Map.of());

    /** Values are state records, or JSON read from a store and not yet asked for. */
    private final Map<String, Object> states;

    private DetectorStates(Map<String, Object> states) {
        this.states = Collections.unmodifiableMap(new LinkedHashMap<>(states));
    }

    public static DetectorStates empty() {
        return EMPTY;
    }

    @JsonCreator
    static DetectorStates fromJson(Map<String, JsonNode> stored) {
        return new DetectorStates(new LinkedHashMap<>(stored));
    }

    @JsonValue
    Map<String, Object> toJson() {
        return states;
    }

    /** The state of {@code detector}: its stored state read as its state type, else its initial state. */
    public <S extends Record> S of(Detector<S> detector) {
        Object s = states.get(detector.name());
        if (s == null) {
            return detector.initialState();
        }
        if (detector.stateType().isInstance(s)) {
            return detector.stateType().cast(s);
        }
        if (s instanceof JsonNode node) {
            try {
                return JSON.treeToValue(node, detector.stateType());
            } catch (JsonProcessingException | IllegalArgumentException e) {
                throw new IllegalStateException("the stored state of detector " + detector.name() + " does not read as "
                        + detector.stateType().getSimpleName() + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalStateException("the state of detector " + detector.name() + " is a "
                + s.getClass().getSimpleName() + ", not its " + detector.stateType().getSimpleName());
    }

    /** These states with {@code name}'s replaced. */
    public DetectorStates with(String name, Record state) {
        Map<String, Object> next = new LinkedHashMap<>(states);
        next.put(name, java.util.Objects.requireNonNull(state, "state"));
        return new DetectorStates(next);
    }

    /** Whether the state kept for {@code name} says its once-per-run alert has fired ({@link FiresOnce}). */
    public boolean fired(String name) {
        Object s = states.get(name);
        if (s instanceof FiresOnce f) {
            return f.fired();
        }
        // A stored state not yet read by its detector: every once-per-run detector keeps the flag as "fired".
        return s instanceof JsonNode n && n.path(FiresOnce.FIRED).asBoolean(false);
    }

    /** Names with a state, in order. */
    public java.util.Set<String> names() {
        return states.keySet();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DetectorStates d && JSON.valueToTree(states).equals(JSON.valueToTree(d.states));
    }

    @Override
    public int hashCode() {
        return JSON.valueToTree(states).hashCode();
    }

    @Override
    public String toString() {
        return JSON.valueToTree(states).toString();
    }

    /** The state of a detector that raises its alert once per run. */
    public interface FiresOnce {
        /** The JSON name of the flag. */
        String FIRED = "fired";

        boolean fired();
    }
}

package io.grokwatch.detect;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The detectors run on every checkpoint of a run, with their combined state (one JSON object keyed by
 * detector name) so a store can keep it and a replay can resume from it.
 */
public final class DetectorSuite {
    private final List<Detector> detectors;

    public DetectorSuite(List<Detector> detectors) {
        this.detectors = List.copyOf(detectors);
    }

    public static DetectorSuite defaults() {
        return new DetectorSuite(List.of(new GrokkingOnsetDetector(GrokkingOnsetDetector.Config.DEFAULT),
                new GeneralizationDetector(GeneralizationDetector.Config.DEFAULT),
                new SpectralGapDetector(SpectralGapDetector.Config.DEFAULT)));
    }

    public ObjectNode initialState() {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        for (Detector d : detectors) {
            s.set(d.name(), d.initialState());
        }
        return s;
    }

    /** The new combined state and the alerts, in detector order. */
    public record Step(ObjectNode state, List<Alert> alerts) {
    }

    public Step observe(ObjectNode state, Observation observation) {
        ObjectNode next = JsonNodeFactory.instance.objectNode();
        List<Alert> alerts = new ArrayList<>();
        for (Detector d : detectors) {
            ObjectNode own = state.has(d.name()) ? (ObjectNode) state.get(d.name()) : d.initialState();
            Detector.Step st = d.observe(own, observation);
            next.set(d.name(), st.state());
            alerts.addAll(st.alerts());
        }
        return new Step(next, alerts);
    }
}

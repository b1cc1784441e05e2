package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * What the analyzer remembers per run between checkpoints (JSON in a changelogged store, so it survives
 * restarts and is the same on replay): the last analysed step, how many were analysed and how many superseded
 * ({@link Backlog#LATEST}), the last spectrum
 * (for drift and warm starts), the detectors' state, whether the analyzer keeps up with the run ({@code pace},
 * null in a state written before it was kept), and the epoch and step of the latest alert of each type
 * ({@code alerts}, null before any; see {@link RunVerdict}).
 */
record RunState(long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
                ObjectNode detectors, RunPace pace, ObjectNode alerts) {
    RunState(long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
             ObjectNode detectors, RunPace pace) {
        this(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, pace, null);
    }

    RunState(long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
             ObjectNode detectors) {
        this(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, null, null);
    }

    /** This state with the alerts of its checkpoint added to those of {@code previous} (the latest per type). */
    RunState withAlerts(RunState previous, java.util.List<io.grokwatch.detect.Alert> raised) {
        ObjectNode all = previous == null || previous.alerts() == null ? JSON.createObjectNode()
                : previous.alerts().deepCopy();
        for (io.grokwatch.detect.Alert a : raised) {
            all.putObject(a.type()).put("epoch", a.epoch()).put("step", a.step());
        }
        return new RunState(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, pace,
                all.isEmpty() ? null : all);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static RunState read(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            JsonNode ev = n.path("lastEigenvalues");
            double[] values = new double[ev.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = ev.get(i).asDouble();
            }
            JsonNode det = n.get("detectors");
            JsonNode alerts = n.get("alerts");
            return new RunState(n.path("lastStep").asLong(), n.path("lastEpoch").asLong(), n.path("analysed").asLong(),
                    n.path("superseded").asLong(), values, det != null && det.isObject() ? (ObjectNode) det : null,
                    RunPace.fromJson(n.get("pace")), alerts != null && alerts.isObject() ? (ObjectNode) alerts : null);
        } catch (IOException e) {
            throw new IllegalStateException("run state store holds unreadable JSON", e);
        }
    }

    byte[] toBytes() {
        ObjectNode o = JSON.createObjectNode();
        o.put("lastStep", lastStep).put("lastEpoch", lastEpoch).put("analysed", analysed).put("superseded", superseded);
        var a = o.putArray("lastEigenvalues");
        for (double v : lastEigenvalues) {
            a.add(v);
        }
        if (detectors != null) {
            o.set("detectors", detectors);
        }
        if (pace != null) {
            o.set("pace", pace.toJson());
        }
        if (alerts != null) {
            o.set("alerts", alerts);
        }
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

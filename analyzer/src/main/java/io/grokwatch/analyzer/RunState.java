package io.grokwatch.analyzer;

import io.grokwatch.detect.Alert;
import io.grokwatch.detect.DetectorStates;
import io.grokwatch.records.RecordFormatException;
import io.grokwatch.records.WireJson;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the analyzer remembers per run between checkpoints (JSON in a changelogged store, so it survives restarts
 * and is the same on replay): the last analysed step, how many were analysed and how many superseded
 * ({@link Backlog#LATEST}), the last spectrum (for drift and warm starts), the detectors' state, whether the
 * analyzer keeps up with the run ({@code pace}, null in a state written before it was kept), the epoch and step
 * of the latest alert of each type ({@code alerts}, empty before any; see {@link RunVerdict}), whether the run has
 * said it ended ({@code end}, null while it runs) and whether it has been reported {@code stalled}.
 */
record RunState(long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
                DetectorStates detectors, RunPace pace, Map<String, RunVerdict.Mark> alerts, End end,
                boolean stalled) {
    /**
     * The run's end ({@link io.grokwatch.records.RunEndRecord}).
     *
     * @param status   completed, stopped or failed
     * @param atMs     when it was published
     * @param lastStep the step of the run's last checkpoint, as the trainer said
     */
    record End(String status, long atMs, long lastStep) {
    }

    /** The schema version of the stored JSON this code writes and the newest it reads. */
    static final int SCHEMA_VERSION = 1;

    RunState {
        lastEigenvalues = lastEigenvalues == null ? new double[0] : lastEigenvalues;
        detectors = detectors == null ? DetectorStates.empty() : detectors;
        alerts = alerts == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(alerts));
    }

    RunState(long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
             DetectorStates detectors, RunPace pace) {
        this(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, pace, null, null, false);
    }

    RunState(long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
             DetectorStates detectors) {
        this(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, null, null, null, false);
    }

    /** The state of a run that ended before any of its checkpoints was analysed. */
    static RunState endedUnanalysed(End end) {
        return new RunState(-1, -1, 0, 0, null, null, null, null, end, false);
    }

    /** This state of a run that has said it ended (no longer stalled: it is over). */
    RunState ended(End e) {
        return new RunState(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, pace, alerts, e,
                false);
    }

    /** This state reported stalled, or no longer. */
    RunState withStalled(boolean s) {
        return new RunState(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, pace, alerts, end,
                s);
    }

    /** This state with the alerts of its checkpoint added to those of {@code previous} (the latest per type). */
    RunState withAlerts(RunState previous, List<Alert> raised) {
        Map<String, RunVerdict.Mark> all = new LinkedHashMap<>(previous == null ? Map.of() : previous.alerts());
        for (Alert a : raised) {
            all.put(a.type(), new RunVerdict.Mark(a.epoch(), a.step()));
        }
        return new RunState(lastStep, lastEpoch, analysed, superseded, lastEigenvalues, detectors, pace, all, end,
                stalled);
    }

    /** The stored JSON. */
    private record Stored(@com.fasterxml.jackson.annotation.JsonProperty(WireJson.SCHEMA) int schemaVersion,
                          long lastStep, long lastEpoch, long analysed, long superseded, double[] lastEigenvalues,
                          DetectorStates detectors, RunPace.Stored pace, Map<String, RunVerdict.Mark> alerts,
                          End end, Boolean stalled) {
    }

    static RunState read(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        Stored s;
        try {
            s = WireJson.read(bytes, Stored.class, SCHEMA_VERSION);
        } catch (RecordFormatException e) {
            throw new IllegalStateException("run state store holds unreadable JSON: " + e.getMessage(), e);
        }
        return new RunState(s.lastStep(), s.lastEpoch(), s.analysed(), s.superseded(), s.lastEigenvalues(),
                s.detectors(), s.pace() == null ? null : s.pace().pace(), s.alerts(), s.end(),
                Boolean.TRUE.equals(s.stalled()));
    }

    byte[] toBytes() {
        return WireJson.write(new Stored(SCHEMA_VERSION, lastStep, lastEpoch, analysed, superseded, lastEigenvalues,
                detectors, pace == null ? null : pace.stored(), alerts.isEmpty() ? null : alerts, end,
                stalled ? Boolean.TRUE : null));
    }
}

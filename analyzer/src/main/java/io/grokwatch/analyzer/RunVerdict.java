package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.detect.GeneralizationDetector;
import io.grokwatch.detect.GrokkingOnsetDetector;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the detectors have concluded about a run, read from its stored state rather than from alerts seen by this
 * process, so that a restarted analyzer, or one that took the run over in a rebalance, reports the same phase.
 *
 * @param phase            {@link PrometheusAnalyzerMetrics#PHASE_NONE}, {@code _ONSET} or {@code _GENERALIZED}
 * @param alerts           per alert type that fired: the epoch and step of its latest alert (-1 when the state was
 *                         written before they were kept: the detector says it fired, not when)
 * @param lastStep         the run's last analysed step (alerts marked with it came from that checkpoint)
 * @param lastCheckpointMs production time of the run's last analysed checkpoint (0 if unknown)
 */
public record RunVerdict(int phase, Map<String, Mark> alerts, long lastStep, long lastCheckpointMs) {
    /** Where an alert fired. */
    public record Mark(long epoch, long step) {
    }

    public RunVerdict {
        alerts = Map.copyOf(alerts);
    }

    static RunVerdict of(RunState state) {
        Map<String, Mark> alerts = new LinkedHashMap<>();
        if (state.detectors() != null) {
            // A detector's "fired" flag is the record of its alert even in a state older than the alerts field.
            state.detectors().properties().forEach(d -> {
                if (d.getValue().path("fired").asBoolean(false)) {
                    alerts.put(d.getKey(), new Mark(-1, -1));
                }
            });
        }
        if (state.alerts() != null) {
            state.alerts().properties().forEach(a -> {
                JsonNode m = a.getValue();
                alerts.put(a.getKey(), new Mark(m.path("epoch").asLong(-1), m.path("step").asLong(-1)));
            });
        }
        int phase = alerts.containsKey(GeneralizationDetector.NAME) ? PrometheusAnalyzerMetrics.PHASE_GENERALIZED
                : alerts.containsKey(GrokkingOnsetDetector.NAME) ? PrometheusAnalyzerMetrics.PHASE_ONSET
                : PrometheusAnalyzerMetrics.PHASE_NONE;
        long lastCheckpointMs = state.pace() == null ? 0 : state.pace().lastTimestampMs();
        return new RunVerdict(phase, alerts, state.lastStep(), lastCheckpointMs);
    }
}

package io.grokwatch.analyzer;

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
 * @param ended            whether the run has said it ended (and no checkpoint came after)
 */
public record RunVerdict(int phase, Map<String, Mark> alerts, long lastStep, long lastCheckpointMs, boolean ended) {
    /** Where an alert fired. */
    public record Mark(long epoch, long step) {
    }

    public RunVerdict {
        alerts = Map.copyOf(alerts);
    }

    static RunVerdict of(RunState state) {
        Map<String, Mark> alerts = new LinkedHashMap<>();
        // A detector's "fired" flag is the record of its alert even in a state older than the alerts field.
        for (String d : state.detectors().names()) {
            if (state.detectors().fired(d)) {
                alerts.put(d, new Mark(-1, -1));
            }
        }
        alerts.putAll(state.alerts());
        int phase = alerts.containsKey(GeneralizationDetector.NAME) ? PrometheusAnalyzerMetrics.PHASE_GENERALIZED
                : alerts.containsKey(GrokkingOnsetDetector.NAME) ? PrometheusAnalyzerMetrics.PHASE_ONSET
                : PrometheusAnalyzerMetrics.PHASE_NONE;
        long lastCheckpointMs = state.pace() == null ? 0 : state.pace().lastTimestampMs();
        return new RunVerdict(phase, alerts, state.lastStep(), lastCheckpointMs, state.end() != null);
    }
}

package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.RunAnalyzer;

/** The JSON of one analysed checkpoint on the spectra topic, shared by the live analyzer and replay. */
final class SpectrumRecord {
    private SpectrumRecord() {
    }

    /**
     * Run id, step, epoch, the reported metrics, the analysis fields, {@code supersededCheckpoints} (0) and
     * {@code timings.analysisSeconds}.
     */
    static ObjectNode of(String runId, CheckpointMetadata meta, RunAnalyzer.Analysis analysis, long checkpointTimestampMs) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("runId", runId).put("step", meta.step()).put("epoch", meta.epoch());
        putFinite(out, "trainLoss", meta.trainLoss());
        putFinite(out, "testLoss", meta.testLoss());
        putFinite(out, "trainAccuracy", meta.trainAccuracy());
        putFinite(out, "testAccuracy", meta.testAccuracy());
        out.setAll(analysis.json());
        // Checkpoints of the run skipped for this one under Backlog.LATEST; the processor sets it, replay has none.
        out.put("supersededCheckpoints", 0);
        out.putObject("timings").put("analysisSeconds", analysis.seconds())
                .put("checkpointTimestampMs", checkpointTimestampMs);
        return out;
    }

    /** What the detectors see of an analysed checkpoint. */
    static io.grokwatch.detect.Observation observation(CheckpointMetadata meta, RunAnalyzer.Analysis analysis) {
        return analysis.observation(meta);
    }

    /** An alert on the alerts topic: run id plus the alert's type, epoch, step, confidence and evidence. */
    static ObjectNode alert(String runId, io.grokwatch.detect.Alert a) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("runId", runId);
        o.setAll(a.toJson());
        return o;
    }

    private static void putFinite(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        }
    }
}

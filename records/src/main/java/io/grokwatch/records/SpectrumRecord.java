package io.grokwatch.records;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

import java.util.Map;

/**
 * One analysed checkpoint, a record of the spectra topic (docs/pipeline.md), as the analyzer and {@code replay}
 * write it: the run and checkpoint, the metrics the trainer reported with it, the whole-model spectrum (its fields
 * at the top level), the parameter groups' spectra, what was computed, and when.
 *
 * @param schemaVersion         {@value #SCHEMA_VERSION}; a record without it is read as version 1
 * @param trainLoss             reported with the checkpoint, null when not reported (so too the other three)
 * @param whole                 the whole-model kernel's spectrum
 * @param layers                parameter group to its kernel's spectrum; null when layer spectra are off
 * @param computed              what the analysis computed
 * @param supersededCheckpoints checkpoints of the run skipped for this one while the analyzer was busy
 *                              ({@code backlog=latest}); 0 in a replay
 * @param timings               the analysis' time and latencies
 * @param pace                  whether the analyzer keeps up with the run; null on the run's first checkpoint
 * @param replay                true in a spectrum of {@code grokwatch replay}; null (left out) in a live one
 * @param split                 signals of the run's train split (grokking-onset-general reads them); null when the run
 *                              declares no split
 */
public record SpectrumRecord(@JsonProperty(WireJson.SCHEMA) int schemaVersion, String runId, long step, long epoch,
                             Double trainLoss, Double testLoss, Double trainAccuracy, Double testAccuracy,
                             @JsonUnwrapped KernelSpectrum whole, Map<String, KernelSpectrum> layers,
                             Computed computed, long supersededCheckpoints, Timings timings, Pace pace,
                             Boolean replay, Split split) {
    /** The schema version this code writes and the newest it reads. */
    public static final int SCHEMA_VERSION = 1;

    public SpectrumRecord {
        java.util.Objects.requireNonNull(runId, "runId");
        java.util.Objects.requireNonNull(whole, "whole");
        schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
        trainLoss = finiteOrNull(trainLoss);
        testLoss = finiteOrNull(testLoss);
        trainAccuracy = finiteOrNull(trainAccuracy);
        testAccuracy = finiteOrNull(testAccuracy);
        layers = layers == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layers));
    }

    /** A spectrum of this version's schema, with no superseded checkpoints and no pace yet. */
    public static SpectrumRecord of(String runId, long step, long epoch, Reported reported, KernelSpectrum whole,
                                    Map<String, KernelSpectrum> layers, Computed computed, Timings timings) {
        return new SpectrumRecord(SCHEMA_VERSION, runId, step, epoch, reported.trainLoss(), reported.testLoss(),
                reported.trainAccuracy(), reported.testAccuracy(), whole, layers, computed, 0, timings, null, null, null);
    }

    public static SpectrumRecord read(byte[] bytes) {
        return WireJson.read(bytes, SpectrumRecord.class, SCHEMA_VERSION);
    }

    public byte[] toBytes() {
        return WireJson.write(this);
    }

    public SpectrumRecord withSuperseded(long superseded) {
        return new SpectrumRecord(schemaVersion, runId, step, epoch, trainLoss, testLoss, trainAccuracy, testAccuracy,
                whole, layers, computed, superseded, timings, pace, replay, split);
    }

    public SpectrumRecord withTimings(Timings t) {
        return new SpectrumRecord(schemaVersion, runId, step, epoch, trainLoss, testLoss, trainAccuracy, testAccuracy,
                whole, layers, computed, supersededCheckpoints, t, pace, replay, split);
    }

    public SpectrumRecord withPace(Pace p) {
        return new SpectrumRecord(schemaVersion, runId, step, epoch, trainLoss, testLoss, trainAccuracy, testAccuracy,
                whole, layers, computed, supersededCheckpoints, timings, p, replay, split);
    }

    /** This spectrum marked as one of a replay. */
    public SpectrumRecord asReplay() {
        return new SpectrumRecord(schemaVersion, runId, step, epoch, trainLoss, testLoss, trainAccuracy, testAccuracy,
                whole, layers, computed, supersededCheckpoints, timings, pace, true, split);
    }

    /** This spectrum with the signals of the run's train split. */
    public SpectrumRecord withSplit(Split s) {
        return new SpectrumRecord(schemaVersion, runId, step, epoch, trainLoss, testLoss, trainAccuracy, testAccuracy,
                whole, layers, computed, supersededCheckpoints, timings, pace, replay, s);
    }

    /**
     * What the run's train split lets the analysis measure (docs/science.md, "A family-free onset detector"); a value
     * is null when it could not be computed.
     *
     * @param heldOutConfidence held-out over training mean top-two margin of the model's outputs
     * @param kernelConfidence  the same ratio for the whole-model eNTK's kernel regression of the training labels
     * @param labelAlignment    centred kernel-target alignment of the eNTK with the training labels
     */
    public record Split(Double heldOutConfidence, Double kernelConfidence, Double labelAlignment) {
        public Split {
            heldOutConfidence = finiteOrNull(heldOutConfidence);
            kernelConfidence = finiteOrNull(kernelConfidence);
            labelAlignment = finiteOrNull(labelAlignment);
        }
    }

    /** A reported metric, NaN when not reported. */
    public static double orNaN(Double v) {
        return v == null ? Double.NaN : v;
    }

    private static Double finiteOrNull(Double v) {
        return v == null || !Double.isFinite(v) ? null : v;
    }

    /** The metrics a trainer reports with a checkpoint; NaN for one it does not report. */
    public record Reported(double trainLoss, double testLoss, double trainAccuracy, double testAccuracy) {
    }

    /**
     * What the analysis computed.
     *
     * @param method     {@code exact}
     * @param probes     probes the kernel was formed on
     * @param ofProbes   probes of the full probe set (more than {@code probes} when a sample was drawn)
     * @param outputs    model outputs (classes)
     * @param parameters parameters the kernel sums over
     * @param passes     ONNX models: {@code batched} or {@code per-probe} reverse passes; null otherwise
     */
    public record Computed(String method, int probes, int ofProbes, int outputs, long parameters, String passes) {
    }

    /**
     * @param analysisSeconds         the analysis itself
     * @param checkpointTimestampMs   when the checkpoint was produced (its record's timestamp)
     * @param producedToResultSeconds from the checkpoint being produced to its spectrum; null in a replay
     * @param queuedSeconds           from the checkpoint being produced to its analysis starting; null in a replay
     */
    public record Timings(double analysisSeconds, long checkpointTimestampMs, Double producedToResultSeconds,
                          Double queuedSeconds) {
        public Timings withLatencies(double producedToResult, double queued) {
            return new Timings(analysisSeconds, checkpointTimestampMs, producedToResult, queued);
        }
    }

    /**
     * Whether the analyzer keeps up with the run (docs/pipeline.md), from moving averages over its recent checkpoints.
     *
     * @param checkpointIntervalSeconds    time between two produced checkpoints
     * @param serviceSeconds               the analyzer's time per checkpoint
     * @param load                         service over interval, this run alone
     * @param analyzerLoad                 the loads of the runs the analyzer serves, summed
     * @param runsSharingTheAnalyzer       how many runs add to that sum
     * @param keepingUp                    whether the summed load is at most 1
     * @param lagGrowthSecondsPerCheckpoint how much the lag grows per checkpoint under backlog=all
     * @param checkpoints                  checkpoints the averages cover
     * @param epochsPerCheckpoint          epochs between checkpoints; null when the trainer reports none
     * @param epochsPerCheckpointToKeepUp  the fewest epochs between checkpoints the analyzer would keep up with
     */
    public record Pace(double checkpointIntervalSeconds, double serviceSeconds, double load, double analyzerLoad,
                       int runsSharingTheAnalyzer, boolean keepingUp, double lagGrowthSecondsPerCheckpoint,
                       int checkpoints, Double epochsPerCheckpoint, Long epochsPerCheckpointToKeepUp) {
    }
}

package io.grokwatch.records;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * An alert for a run, a record of the alerts topic (docs/operations.md lists the types).
 *
 * @param schemaVersion {@value #SCHEMA_VERSION}; a record without it is read as version 1
 * @param type          the alert type, e.g. {@code grokking-onset}, {@code generalization}, {@code non-finite}
 * @param epoch         the epoch of the checkpoint that raised it
 * @param step          its optimizer step
 * @param confidence    0..1
 * @param evidence      the signal and the values that made it fire
 * @param status        {@value #FIRING} (also when absent) or {@value #RESOLVED}: the condition has cleared, or
 *                      the run has ended ({@link RunEndRecord})
 */
public record AlertRecord(@JsonProperty(WireJson.SCHEMA) int schemaVersion,
                          @JsonProperty(required = true) String runId, @JsonProperty(required = true) String type,
                          @JsonProperty(required = true) long epoch, @JsonProperty(required = true) long step,
                          double confidence, Evidence evidence, String status) {
    public static final int SCHEMA_VERSION = 1;
    public static final String FIRING = "firing";
    public static final String RESOLVED = "resolved";

    public AlertRecord {
        if (runId == null || runId.isEmpty()) {
            throw new RecordFormatException("an alert needs a runId");
        }
        if (type == null || type.isEmpty()) {
            throw new RecordFormatException("an alert needs a type");
        }
        schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
        evidence = evidence == null ? new Evidence("", null) : evidence;
        if (status != null && !status.equals(FIRING) && !status.equals(RESOLVED)) {
            throw new RecordFormatException("an alert's status must be firing or resolved, got '" + status + "'");
        }
        // Written out only when resolved: a firing alert reads as it did before the field existed.
        status = RESOLVED.equals(status) ? RESOLVED : null;
    }

    /** A firing alert. */
    public AlertRecord(String runId, String type, long epoch, long step, double confidence, Evidence evidence) {
        this(SCHEMA_VERSION, runId, type, epoch, step, confidence, evidence, null);
    }

    /** Whether this says the alert has cleared. */
    public boolean resolved() {
        return RESOLVED.equals(status);
    }

    /** This alert, resolved: why in {@code evidence}. */
    public AlertRecord resolve(Evidence why) {
        return new AlertRecord(schemaVersion, runId, type, epoch, step, confidence, why, RESOLVED);
    }

    public static AlertRecord read(byte[] bytes) {
        return WireJson.read(bytes, AlertRecord.class, SCHEMA_VERSION);
    }

    public byte[] toBytes() {
        return WireJson.write(this);
    }
}

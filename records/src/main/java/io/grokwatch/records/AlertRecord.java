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
 */
public record AlertRecord(@JsonProperty(WireJson.SCHEMA) int schemaVersion,
                          @JsonProperty(required = true) String runId, @JsonProperty(required = true) String type,
                          @JsonProperty(required = true) long epoch, @JsonProperty(required = true) long step,
                          double confidence, Evidence evidence) {
    public static final int SCHEMA_VERSION = 1;

    public AlertRecord {
        if (runId == null || runId.isEmpty()) {
            throw new RecordFormatException("an alert needs a runId");
        }
        if (type == null || type.isEmpty()) {
            throw new RecordFormatException("an alert needs a type");
        }
        schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
        evidence = evidence == null ? new Evidence("", null) : evidence;
    }

    public AlertRecord(String runId, String type, long epoch, long step, double confidence, Evidence evidence) {
        this(SCHEMA_VERSION, runId, type, epoch, step, confidence, evidence);
    }

    public static AlertRecord read(byte[] bytes) {
        return WireJson.read(bytes, AlertRecord.class, SCHEMA_VERSION);
    }

    public byte[] toBytes() {
        return WireJson.write(this);
    }
}

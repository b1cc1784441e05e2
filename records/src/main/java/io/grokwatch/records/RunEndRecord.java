package io.grokwatch.records;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * A run's last word on the checkpoints topic: it has ended, after the checkpoint of {@code lastStep}. It travels
 * with the run's checkpoints (same key, same partition, so after the last of them) and is told apart from a
 * checkpoint by the header {@value #HEADER} = {@value #HEADER_VALUE}. The analyzer then resolves the run's alerts and
 * stops expecting checkpoints of it (no {@code stalled} alert); a checkpoint after it opens the run again.
 *
 * @param schemaVersion {@value #SCHEMA_VERSION}; a record without it is read as version 1
 * @param status        {@code completed} (trained to the end), {@code stopped} (cut short on purpose) or
 *                      {@code failed} (the trainer gave up)
 * @param lastStep      the step of the run's last published checkpoint, -1 if it published none
 */
public record RunEndRecord(@JsonProperty(WireJson.SCHEMA) int schemaVersion,
                           @JsonProperty(required = true) String runId, @JsonProperty(required = true) String status,
                           long lastStep) {
    public static final int SCHEMA_VERSION = 1;
    /** The Kafka header that marks a record of the checkpoints topic as a run's end. */
    public static final String HEADER = "grokwatch-record";
    public static final String HEADER_VALUE = "run-end";
    public static final String COMPLETED = "completed";
    public static final String STOPPED = "stopped";
    public static final String FAILED = "failed";
    public static final List<String> STATUSES = List.of(COMPLETED, STOPPED, FAILED);

    public RunEndRecord {
        if (runId == null || runId.isEmpty()) {
            throw new RecordFormatException("a run end needs a runId");
        }
        if (!STATUSES.contains(status)) {
            throw new RecordFormatException("a run end's status must be one of " + String.join(", ", STATUSES)
                    + ", got '" + status + "'");
        }
        schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
    }

    public RunEndRecord(String runId, String status, long lastStep) {
        this(SCHEMA_VERSION, runId, status, lastStep);
    }

    public static RunEndRecord read(byte[] bytes) {
        return WireJson.read(bytes, RunEndRecord.class, SCHEMA_VERSION);
    }

    public byte[] toBytes() {
        return WireJson.write(this);
    }
}

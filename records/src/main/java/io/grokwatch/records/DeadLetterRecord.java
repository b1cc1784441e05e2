package io.grokwatch.records;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A record the analyzer could not use, on the dead-letter topic: why, where it came from, and the record itself, in
 * base64 up to the analyzer's limit, else its size and SHA-256 (its topic, partition and offset say where it is).
 *
 * @param schemaVersion  {@value #SCHEMA_VERSION}; a record without it is read as version 1
 * @param reason         the reason's label, e.g. {@code corrupt-checkpoint} (docs/pipeline.md lists them)
 * @param message        what was wrong, cut to a few kilobytes
 * @param sourceTopic    the record's topic; null when it did not come from one
 * @param partition      its partition, null with no topic
 * @param offset         its offset, null with no topic
 * @param key            its key (the run id), cut like the message
 * @param timestampMs    its timestamp
 * @param originalBase64 its value, when at most the analyzer's limit
 * @param originalBytes  its size, when larger
 * @param originalSha256 its digest (hex), when larger
 */
public record DeadLetterRecord(@JsonProperty(WireJson.SCHEMA) int schemaVersion, String reason, String message,
                               String sourceTopic, Integer partition, Long offset, String key, long timestampMs,
                               String originalBase64, Integer originalBytes, String originalSha256) {
    public static final int SCHEMA_VERSION = 1;

    public DeadLetterRecord {
        if (reason == null || reason.isEmpty()) {
            throw new RecordFormatException("a dead letter needs a reason");
        }
        schemaVersion = schemaVersion == 0 ? 1 : schemaVersion;
    }

    public static DeadLetterRecord read(byte[] bytes) {
        return WireJson.read(bytes, DeadLetterRecord.class, SCHEMA_VERSION);
    }

    public byte[] toBytes() {
        return WireJson.write(this);
    }
}

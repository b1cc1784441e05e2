package io.grokwatch.records;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;

/**
 * The one JSON codec of the topics' records. Writing leaves out absent (null) fields; reading ignores fields it does
 * not know, so a field added in a later version of a schema does not break an older reader, and refuses a record of a
 * newer schema version than the type knows, naming both.
 */
public final class WireJson {
    /** The field that carries a record's schema version; a record without it is version 1. */
    public static final String SCHEMA = "schemaVersion";

    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
                    JsonInclude.Include.NON_NULL))
            .build();

    private WireJson() {
    }

    /** The record's JSON bytes. */
    public static byte[] write(Object record) {
        try {
            return MAPPER.writeValueAsBytes(record);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + record.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /**
     * Reads a record of {@code type}, whose schema is at most {@code version}.
     *
     * @throws RecordFormatException when the bytes are not JSON of that record, or of a newer schema
     */
    public static <T> T read(byte[] bytes, Class<T> type, int version) {
        if (bytes == null) {
            throw new RecordFormatException("no " + type.getSimpleName() + ": the record has no value");
        }
        try {
            JsonNode tree = MAPPER.readTree(bytes);
            if (tree == null || !tree.isObject()) {
                throw new RecordFormatException(type.getSimpleName() + " must be a JSON object");
            }
            JsonNode v = tree.get(SCHEMA);
            if (v != null && (!v.canConvertToInt() || v.asInt() < 1 || v.asInt() > version)) {
                throw new RecordFormatException(type.getSimpleName() + " has " + SCHEMA + " " + v + "; this version of "
                        + "grokwatch reads 1 to " + version + " (written by a newer grokwatch?)");
            }
            return MAPPER.treeToValue(tree, type);
        } catch (IOException | IllegalArgumentException e) {
            throw new RecordFormatException("not a " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}

package io.grokwatch.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * One test per kind of damage. The bad_*.safetensors files come from make_fixtures.py; a few more cases are
 * built here. Every message must be exactly one line and name what is wrong.
 */
class SafetensorsMalformedTest {
    private static String failure(byte[] bytes) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(bytes));
        String message = e.getMessage();
        assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
        return message;
    }

    private static String failure(String fixture) {
        return failure(Fixtures.bytes(fixture));
    }

    /** A file with this exact header text (padded as a writer would) and {@code dataBytes} zero bytes. */
    private static byte[] file(String header, int dataBytes) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        int padded = json.length + (-json.length & 7);
        ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(json);
        while (b.position() < 8 + padded) {
            b.put((byte) ' ');
        }
        return b.array();
    }

    private static byte[] withPrefix(long headerLength, int totalBytes) {
        return ByteBuffer.allocate(totalBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array();
    }

    @Test
    void fileShorterThanTheLengthPrefix() {
        assertEquals("file shorter than the 8-byte header length (5 bytes)", failure("bad_truncated_prefix.safetensors"));
        assertEquals("file shorter than the 8-byte header length (0 bytes)", failure(new byte[0]));
    }

    @Test
    void headerLengthPastTheEndOfTheFile() {
        assertEquals("header length 9999999 exceeds the 160 bytes that follow the length prefix in the 168-byte file",
                failure("bad_header_past_eof.safetensors"));
        assertEquals("header length 113 exceeds the 112 bytes that follow the length prefix in the 120-byte file",
                failure(withPrefix(113, 120)));
    }

    @Test
    void headerLengthOverTheLimitOrNotRepresentable() {
        assertEquals("header length 18446744073709551615 exceeds the 100000000-byte limit",
                failure("bad_header_length_huge.safetensors"));
        assertEquals("header length 100000001 exceeds the 100000000-byte limit", failure(withPrefix(100_000_001L, 64)));
        assertEquals("header length 9223372036854775808 exceeds the 100000000-byte limit",
                failure(withPrefix(Long.MIN_VALUE, 64)));
    }

    @Test
    void dataSectionCutShort() {
        assertEquals("tensor 'W': data_offsets [0, 96] past the end of the 40-byte data section",
                failure("bad_truncated_data.safetensors"));
    }

    @Test
    void offsetsPastTheEndOfTheDataSection() {
        assertEquals("tensor 'b': data_offsets [80, 200] past the end of the 120-byte data section",
                failure("bad_offsets_past_end.safetensors"));
    }

    @Test
    void overlappingTensors() {
        assertEquals("tensors 'W' and 'b' overlap (data_offsets [0, 96] and [88, 120])",
                failure("bad_overlap.safetensors"));
        // a tensor nested inside a long one, listed after a third that starts later
        String nested = "{\"long\": {\"dtype\": \"U8\", \"shape\": [100], \"data_offsets\": [0, 100]},"
                + " \"late\": {\"dtype\": \"U8\", \"shape\": [10], \"data_offsets\": [150, 160]},"
                + " \"inner\": {\"dtype\": \"U8\", \"shape\": [10], \"data_offsets\": [40, 50]}}";
        assertEquals("tensors 'long' and 'inner' overlap (data_offsets [0, 100] and [40, 50])",
                failure(file(nested, 160)));
    }

    @Test
    void emptyTensorsDoNotOverlapAnything() {
        String header = "{\"a\": {\"dtype\": \"F64\", \"shape\": [2], \"data_offsets\": [0, 16]},"
                + " \"e\": {\"dtype\": \"F64\", \"shape\": [0, 5], \"data_offsets\": [8, 8]}}";
        assertEquals(0, Safetensors.read(file(header, 16)).get("e").size());
    }

    @Test
    void unknownDtype() {
        assertEquals("tensor 'W': unknown dtype 'F7'", failure("bad_unknown_dtype.safetensors"));
        assertEquals("tensor 'W': unknown dtype 'f64'",
                failure(file("{\"W\": {\"dtype\": \"f64\", \"shape\": [], \"data_offsets\": [0, 8]}}", 8)),
                "dtype names are case-sensitive");
        assertEquals("tensor 'W': dtype must be a string, found number 64",
                failure(file("{\"W\": {\"dtype\": 64, \"shape\": [], \"data_offsets\": [0, 8]}}", 8)));
    }

    @Test
    void shapeDoesNotMatchTheByteRange() {
        assertEquals("tensor 'W': shape [3, 4] needs 96 bytes of F64 but data_offsets [0, 80] give 80",
                failure("bad_shape_mismatch.safetensors"));
        String overflow = "{\"W\": {\"dtype\": \"F64\", \"shape\": [4294967296, 4294967296],"
                + " \"data_offsets\": [0, 8]}}";
        assertEquals("tensor 'W': shape [4294967296, 4294967296] of F64 needs more bytes than a file can hold",
                failure(file(overflow, 8)));
    }

    @Test
    void negativeOrNonIntegerShapeEntries() {
        assertEquals("tensor 'W': negative dimension -4 in shape [3, -4]", failure("bad_negative_shape.safetensors"));
        assertEquals("tensor 'W': shape must be an array of integers, found 2.5 in [2.5]",
                failure(file("{\"W\": {\"dtype\": \"F64\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8)));
        assertEquals("tensor 'W': shape must be an array of integers, found string \"3\"",
                failure(file("{\"W\": {\"dtype\": \"F64\", \"shape\": \"3\", \"data_offsets\": [0, 8]}}", 8)));
        assertEquals("tensor 'W': dimension 99999999999999999999 in shape [99999999999999999999] is out of range",
                failure(file("{\"W\": {\"dtype\": \"F64\", \"shape\": [99999999999999999999],"
                        + " \"data_offsets\": [0, 8]}}", 8)));
    }

    @Test
    void badDataOffsets() {
        assertEquals("tensor 'W': data_offsets [96, 0] end before begin", failure("bad_offsets_reversed.safetensors"));
        assertEquals("tensor 'W': negative data_offsets [-8, 0]",
                failure(file("{\"W\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [-8, 0]}}", 8)));
        assertEquals("tensor 'W': data_offsets must be [begin, end] integers, found [0, 8, 16]",
                failure(file("{\"W\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8, 16]}}", 8)));
        assertEquals("tensor 'W': data_offsets [0, 18446744073709551616] out of range",
                failure(file("{\"W\": {\"dtype\": \"U8\", \"shape\": [1],"
                        + " \"data_offsets\": [0, 18446744073709551616]}}", 8)));
    }

    @Test
    void missingFieldOrEntryNotAnObject() {
        assertEquals("tensor 'W': missing field \"data_offsets\"", failure("bad_missing_field.safetensors"));
        assertEquals("tensor 'W': entry must be a JSON object, found array", failure(file("{\"W\": [1, 2]}", 0)));
    }

    @Test
    void metadataValuesMustBeStrings() {
        assertEquals("__metadata__ values must be strings (key 'step' has number 1200)",
                failure("bad_metadata_not_string.safetensors"));
        assertEquals("__metadata__ must be a JSON object of strings, found array",
                failure(file("{\"__metadata__\": [\"a\"]}", 0)));
        assertTrue(Safetensors.read(file("{\"__metadata__\": null}", 0)).metadata().isEmpty(), "null = none");
    }

    @Test
    void headerNotJson() {
        String message = failure("bad_not_json.safetensors");
        assertTrue(message.startsWith("header is not valid JSON: "), message);
        assertEquals("header is not valid JSON: Unexpected end-of-input: expected close marker for Array"
                + " (start marker at line 1, column 33) at line 1, column 40", message);

        String trailing = failure(file("{} {}", 0));
        assertTrue(trailing.startsWith("header is not valid JSON: "), trailing);
    }

    @Test
    void headerNotAnObjectOrEmpty() {
        assertEquals("header is not a JSON object (found array)", failure("bad_not_object.safetensors"));
        assertEquals("header is empty", failure(withPrefix(0, 8)));
        assertEquals("header is empty (8 bytes of whitespace)", failure(file("        ", 0)));
    }

    @Test
    void duplicateTensorName() {
        String message = failure("bad_duplicate_name.safetensors");
        assertTrue(message.startsWith("header is not valid JSON: "), message);
        assertTrue(message.toLowerCase(java.util.Locale.ROOT).contains("duplicate") && message.contains("W"), message);
    }

    @Test
    void headerNotUtf8() {
        assertEquals("header is not valid UTF-8 (bad byte at header offset 3)", failure("bad_header_not_utf8.safetensors"));
    }

    @Test
    void namesWithLineBreaksAreEscapedInMessages() {
        String message = failure(file("{\"a\\nb\\u2028c\": {\"dtype\": \"X\", \"shape\": [], \"data_offsets\": [0, 0]}}",
                0));
        assertEquals("tensor 'a\\nb\\u2028c': unknown dtype 'X'", message);
        String longName = "n".repeat(500);
        String truncated = failure(file("{\"" + longName + "\": {\"dtype\": \"X\", \"shape\": [],"
                + " \"data_offsets\": [0, 0]}}", 0));
        assertTrue(truncated.length() < 200, truncated);
    }

    @Test
    void pathReaderPrefixesTheFileName() {
        Path path = Fixtures.path("bad_unknown_dtype.safetensors");
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.read(path));
        assertEquals(path + ": tensor 'W': unknown dtype 'F7'", e.getMessage());
    }

    @Test
    void gapsAndTrailingBytesInTheDataSectionAreTolerated() {
        String header = "{\"a\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [4, 6]}}";
        byte[] bytes = file(header, 16);
        assertEquals(2, Safetensors.read(bytes).get("a").size());
    }
}

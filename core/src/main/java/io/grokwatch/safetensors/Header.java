package io.grokwatch.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parsed and validated JSON header of a safetensors file. Every check that can be made without touching
 * the data bytes happens here, so that the reader afterwards only slices and converts.
 */
record Header(List<Header.Entry> entries, Map<String, String> metadata) {
    /** Hard cap on the header size; real headers are kilobytes. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    /** Shared, thread-safe; strict about duplicates, trailing garbage and encoding of huge strings. */
    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength((int) MAX_HEADER_BYTES)
                            .maxNameLength((int) MAX_HEADER_BYTES)
                            .build())
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final int MAX_QUOTED_CHARS = 120;
    private static final int MAX_LISTED_ENTRIES = 16;

    /**
     * One tensor's header entry. Offsets are relative to the data section; {@code elements} has been
     * checked against {@code end - begin}.
     */
    record Entry(String name, DType dtype, long[] shape, long elements, long begin, long end) {
        long byteLength() {
            return end - begin;
        }

        String offsets() {
            return "[" + begin + ", " + end + "]";
        }
    }

    /**
     * Parses and validates {@code length} header bytes at {@code offset} against a data section of
     * {@code dataSize} bytes.
     */
    static Header parse(byte[] bytes, int offset, int length, long dataSize) {
        String json = decodeUtf8(bytes, offset, length);
        if (json.isBlank()) {
            throw fail("header is empty" + (length == 0 ? "" : " (" + length + " bytes of whitespace)"));
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SafetensorsFormatException("header is not valid JSON: " + describe(e), e);
        }
        if (root == null || !root.isObject()) {
            throw fail("header is not a JSON object (found " + typeOf(root) + ")");
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (TensorFile.METADATA_KEY.equals(field.getKey())) {
                metadata = parseMetadata(field.getValue());
            } else {
                entries.add(parseEntry(field.getKey(), field.getValue(), dataSize));
            }
        }
        checkOverlaps(entries);
        return new Header(Collections.unmodifiableList(entries), metadata);
    }

    private static String decodeUtf8(byte[] bytes, int offset, int length) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
        CharBuffer out = CharBuffer.allocate(length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw fail("header is not valid UTF-8 (bad byte at header offset " + (in.position() - offset) + ")");
        }
        return out.flip().toString();
    }

    private static Map<String, String> parseMetadata(JsonNode node) {
        if (node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw fail("__metadata__ must be a JSON object of strings, found " + typeOf(node));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw fail("__metadata__ values must be strings (key " + quote(field.getKey()) + " has "
                        + typeOf(field.getValue()) + " " + render(field.getValue()) + ")");
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static Entry parseEntry(String name, JsonNode node, long dataSize) {
        String t = "tensor " + quote(name) + ": ";
        if (!node.isObject()) {
            throw fail(t + "entry must be a JSON object, found " + typeOf(node));
        }
        JsonNode dtypeNode = required(node, "dtype", t);
        if (!dtypeNode.isTextual()) {
            throw fail(t + "dtype must be a string, found " + typeOf(dtypeNode) + " " + render(dtypeNode));
        }
        DType dtype = DType.fromName(dtypeNode.textValue())
                .orElseThrow(() -> fail(t + "unknown dtype " + quote(dtypeNode.textValue())));

        long[] shape = parseShape(required(node, "shape", t), t);
        long[] offsets = parseOffsets(required(node, "data_offsets", t), t);
        long begin = offsets[0];
        long end = offsets[1];
        String offsetText = "[" + begin + ", " + end + "]";
        if (end < begin) {
            throw fail(t + "data_offsets " + offsetText + " end before begin");
        }

        long elements;
        long needed;
        try {
            elements = 1;
            for (long dim : shape) {
                elements = Math.multiplyExact(elements, dim);
            }
            needed = Math.multiplyExact(elements, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw fail(t + "shape " + render(shape) + " of " + dtype + " needs more bytes than a file can hold");
        }
        if (needed != end - begin) {
            throw fail(t + "shape " + render(shape) + " needs " + needed + " bytes of " + dtype
                    + " but data_offsets " + offsetText + " give " + (end - begin));
        }
        if (end > dataSize) {
            throw fail(t + "data_offsets " + offsetText + " past the end of the " + dataSize + "-byte data section");
        }
        if (elements > Tensor.MAX_ELEMENTS) {
            throw fail(t + "shape " + render(shape) + " has " + elements + " elements, more than one array holds ("
                    + Tensor.MAX_ELEMENTS + ")");
        }
        return new Entry(name, dtype, shape, elements, begin, end);
    }

    private static JsonNode required(JsonNode entry, String field, String t) {
        JsonNode value = entry.get(field);
        if (value == null) {
            throw fail(t + "missing field \"" + field + "\"");
        }
        return value;
    }

    private static long[] parseShape(JsonNode node, String t) {
        if (!node.isArray()) {
            throw fail(t + "shape must be an array of integers, found " + typeOf(node) + " " + render(node));
        }
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode dim = node.get(i);
            if (!dim.isIntegralNumber()) {
                throw fail(t + "shape must be an array of integers, found " + render(dim) + " in " + render(node));
            }
            if (dim.bigIntegerValue().signum() < 0) {
                throw fail(t + "negative dimension " + render(dim) + " in shape " + render(node));
            }
            if (!dim.canConvertToLong()) {
                throw fail(t + "dimension " + render(dim) + " in shape " + render(node) + " is out of range");
            }
            shape[i] = dim.longValue();
        }
        return shape;
    }

    private static long[] parseOffsets(JsonNode node, String t) {
        if (!node.isArray() || node.size() != 2 || !node.get(0).isIntegralNumber()
                || !node.get(1).isIntegralNumber()) {
            throw fail(t + "data_offsets must be [begin, end] integers, found " + render(node));
        }
        if (node.get(0).bigIntegerValue().signum() < 0 || node.get(1).bigIntegerValue().signum() < 0) {
            throw fail(t + "negative data_offsets " + render(node));
        }
        if (!node.get(0).canConvertToLong() || !node.get(1).canConvertToLong()) {
            throw fail(t + "data_offsets " + render(node) + " out of range");
        }
        return new long[] {node.get(0).longValue(), node.get(1).longValue()};
    }

    /** Rejects byte ranges shared by two tensors; empty ranges never overlap. Gaps are tolerated. */
    private static void checkOverlaps(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>();
        for (Entry e : entries) {
            if (e.byteLength() > 0) {
                sorted.add(e);
            }
        }
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry reach = null; // the entry that extends furthest so far
        for (Entry e : sorted) {
            if (reach != null && e.begin() < reach.end()) {
                throw fail("tensors " + quote(reach.name()) + " and " + quote(e.name()) + " overlap (data_offsets "
                        + reach.offsets() + " and " + e.offsets() + ")");
            }
            if (reach == null || e.end() > reach.end()) {
                reach = e;
            }
        }
    }

    private static String describe(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message == null) {
            message = e.getClass().getSimpleName();
        }
        // Jackson cites other locations as "[Source: REDACTED (...); line: 1, column: 33]"
        message = message.replaceAll("\\[Source: [^;\\]]*; line: (-?\\d+), column: (-?\\d+)]", "line $1, column $2");
        JsonLocation where = e.getLocation();
        String location = where == null || where.getLineNr() < 0 ? ""
                : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
        return escape(truncate(message, 200)) + location;
    }

    static SafetensorsFormatException fail(String message) {
        return new SafetensorsFormatException(message);
    }

    /** {@code 'name'} with control and line-separator characters escaped and long names shortened. */
    static String quote(String s) {
        return "'" + escape(truncate(s, MAX_QUOTED_CHARS)) + "'";
    }

    private static String truncate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (type == Character.CONTROL || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static String typeOf(JsonNode node) {
        return node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    /** Compact JSON of a node; containers list at most {@value #MAX_LISTED_ENTRIES} entries. */
    private static String render(JsonNode node) {
        if (node.isArray()) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < node.size() && i < MAX_LISTED_ENTRIES; i++) {
                b.append(i == 0 ? "" : ", ").append(render(node.get(i)));
            }
            return b.append(node.size() > MAX_LISTED_ENTRIES ? ", ...]" : "]").toString();
        }
        // JSON text escapes control characters, so this is one line
        return escape(truncate(node.toString(), MAX_QUOTED_CHARS));
    }

    private static String render(long[] shape) {
        if (shape.length <= MAX_LISTED_ENTRIES) {
            return Arrays.toString(shape);
        }
        String head = Arrays.toString(Arrays.copyOf(shape, MAX_LISTED_ENTRIES));
        return head.substring(0, head.length() - 1) + ", ...]";
    }
}

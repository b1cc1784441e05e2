package io.grokwatch.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** JSON output helpers: finite numbers only (NaN fields are left out), atomic file writes. */
final class JsonFiles {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonFiles() {
    }

    /** A record (a spectrum, an alert, a kernel's spectrum) as the JSON its topic carries, to embed in a report. */
    static ObjectNode tree(Object record) {
        return io.grokwatch.records.WireJson.MAPPER.valueToTree(record);
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static void putFinite(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        }
    }

    static ArrayNode array(ObjectNode parent, String key, double[] values) {
        ArrayNode a = parent.putArray(key);
        for (double v : values) {
            a.add(v);
        }
        return a;
    }

    static ArrayNode array(ObjectNode parent, String key, int[] values) {
        ArrayNode a = parent.putArray(key);
        for (int v : values) {
            a.add(v);
        }
        return a;
    }

    static void write(Path out, ObjectNode root) throws IOException {
        Path abs = out.toAbsolutePath();
        if (abs.getParent() != null) {
            Files.createDirectories(abs.getParent());
        }
        Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
        MAPPER.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), root);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

package io.grokwatch.testing;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compares analysis JSON number by number. Exact equality is the wrong test for LAPACK results: the same
 * input can round differently in the last bits (OpenBLAS kernels take alignment-dependent paths), so numbers
 * are compared to a relative tolerance, with an absolute floor for values near zero.
 */
public final class JsonCompare {
    private JsonCompare() {
    }

    /**
     * @param relative relative tolerance
     * @param absolute absolute tolerance for values whose magnitude is below it
     * @param ignored  field names skipped anywhere (e.g. timings, residual)
     */
    public static void assertClose(JsonNode expected, JsonNode actual, double relative, double absolute,
                                   Set<String> ignored) {
        compare(expected, actual, "$", relative, absolute, ignored);
    }

    private static void compare(JsonNode e, JsonNode a, String path, double rel, double abs, Set<String> ignored) {
        if (e.isNumber() && a.isNumber()) {
            double x = e.asDouble();
            double y = a.asDouble();
            double tol = Math.max(abs, rel * Math.abs(x));
            assertTrue(Math.abs(x - y) <= tol, path + ": expected " + x + " but got " + y + " (tolerance " + tol + ")");
            return;
        }
        assertEquals(e.getNodeType(), a.getNodeType(), path + ": type");
        if (e.isObject()) {
            for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (ignored.contains(f)) {
                    continue;
                }
                if (!a.has(f)) {
                    fail(path + "." + f + " is missing");
                }
                compare(e.get(f), a.get(f), path + "." + f, rel, abs, ignored);
            }
        } else if (e.isArray()) {
            assertEquals(e.size(), a.size(), path + ": array length");
            for (int i = 0; i < e.size(); i++) {
                compare(e.get(i), a.get(i), path + "[" + i + "]", rel, abs, ignored);
            }
        } else {
            assertEquals(e, a, path);
        }
    }
}

package io.grokwatch.trainer;

import java.util.Map;

/** Parsing of string-valued config maps; every error names the key. */
final class ConfigValues {
    private ConfigValues() {
    }

    static int intValue(Map<String, String> rest, String key, int fallback) {
        String v = rest.remove(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'", e);
        }
    }

    static long longValue(Map<String, String> rest, String key, long fallback) {
        String v = rest.remove(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'", e);
        }
    }

    static double doubleValue(Map<String, String> rest, String key, double fallback) {
        String v = rest.remove(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + v + "'", e);
        }
    }

    static void rejectUnknown(Map<String, String> rest, String... known) {
        if (!rest.isEmpty()) {
            throw new IllegalArgumentException("unknown key" + (rest.size() > 1 ? "s " : " ") + rest.keySet()
                    + ", known keys: " + String.join(", ", known));
        }
    }
}

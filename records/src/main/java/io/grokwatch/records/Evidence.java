package io.grokwatch.records;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonCreator;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Why an alert fired: a sentence naming the signal, then the values that made it fire, in the order the detector
 * gives them. On the wire the values sit beside {@code signal} in one JSON object.
 *
 * @param signal what fired, in words
 * @param values named numbers (and the odd word, such as which measure was read); lists and objects of such values
 *               are read too, as JSON gives them; never null
 */
public record Evidence(String signal, @JsonAnyGetter Map<String, Object> values) {
    public Evidence {
        java.util.Objects.requireNonNull(signal, "signal");
        Map<String, Object> copy = new LinkedHashMap<>();
        if (values != null) {
            values.forEach((k, v) -> {
                if (!isJsonValue(v)) {
                    throw new IllegalArgumentException("evidence value '" + k + "' must be a number, a string, a "
                            + "boolean or a list or object of those, got " + (v == null ? "null"
                            : v.getClass().getSimpleName()));
                }
                copy.put(k, v);
            });
        }
        values = Collections.unmodifiableMap(copy);
    }

    /** The wire form, one object whose {@code signal} is the sentence and every other field a value, in order. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static Evidence fromJson(LinkedHashMap<String, Object> fields) {
        Map<String, Object> values = new LinkedHashMap<>(fields);
        Object signal = values.remove("signal");
        return new Evidence(signal == null ? "" : signal.toString(), values);
    }

    public static Builder of(String signal) {
        return new Builder(signal);
    }

    private static boolean isJsonValue(Object v) {
        if (v instanceof Number || v instanceof String || v instanceof Boolean) {
            return true;
        }
        if (v instanceof java.util.List<?> l) {
            return l.stream().allMatch(Evidence::isJsonValue);
        }
        return v instanceof Map<?, ?> m && m.keySet().stream().allMatch(String.class::isInstance)
                && m.values().stream().allMatch(Evidence::isJsonValue);
    }

    /** A value as text: a number or word as it reads, a list or object as its JSON. */
    public String text(String key) {
        Object v = values.get(key);
        if (v == null || v instanceof Number || v instanceof String || v instanceof Boolean) {
            return String.valueOf(v);
        }
        return new String(WireJson.write(v), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A numeric value, or NaN when it is absent or not a number. */
    public double number(String key) {
        return values.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Collects the values in order. */
    public static final class Builder {
        private final String signal;
        private final Map<String, Object> values = new LinkedHashMap<>();

        private Builder(String signal) {
            this.signal = signal;
        }

        public Builder put(String key, double value) {
            // JSON has no NaN or infinity: such a value is given in words.
            values.put(key, Double.isFinite(value) ? (Object) value : String.valueOf(value));
            return this;
        }

        public Builder put(String key, long value) {
            values.put(key, value);
            return this;
        }

        public Builder put(String key, String value) {
            values.put(key, value);
            return this;
        }

        public Evidence build() {
            return new Evidence(signal, values);
        }
    }
}

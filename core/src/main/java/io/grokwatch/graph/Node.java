package io.grokwatch.graph;

import java.util.List;
import java.util.Map;

/**
 * One operation of a graph: its op type, the names of the values it reads and writes (an empty input name
 * is an omitted optional input) and its attributes (Long, Double, String, long[], double[] or NdArray).
 */
public record Node(String name, String opType, List<String> inputs, List<String> outputs,
                   Map<String, Object> attributes) {
    public Node {
        if (opType == null || opType.isBlank()) {
            throw new IllegalArgumentException("a node needs an op type");
        }
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attributes = Map.copyOf(attributes);
        name = name == null ? "" : name;
    }

    /** How errors name this node: its name if it has one, else its first output. */
    public String label() {
        String n = name.isEmpty() ? (outputs.isEmpty() ? "?" : outputs.get(0)) : name;
        return "node '" + n + "' (" + opType + ")";
    }

    public long intAttr(String key, long fallback) {
        Object v = attributes.get(key);
        return v == null ? fallback : ((Number) v).longValue();
    }

    public double floatAttr(String key, double fallback) {
        Object v = attributes.get(key);
        return v == null ? fallback : ((Number) v).doubleValue();
    }

    public String stringAttr(String key, String fallback) {
        Object v = attributes.get(key);
        return v == null ? fallback : (String) v;
    }

    /** An ints attribute, or null when absent. */
    public long[] intsAttr(String key) {
        Object v = attributes.get(key);
        return v == null ? null : ((long[]) v).clone();
    }

    public NdArray tensorAttr(String key) {
        return (NdArray) attributes.get(key);
    }

    public boolean has(String key) {
        return attributes.containsKey(key);
    }
}

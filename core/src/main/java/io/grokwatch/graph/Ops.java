package io.grokwatch.graph;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The op types grokwatch evaluates and differentiates, by ONNX name. */
public final class Ops {
    private static final Map<String, GraphOp> OPS;

    static {
        Map<String, GraphOp> m = new TreeMap<>();
        MovementOps.register(m);
        ElementwiseOps.register(m);
        ConstantOps.register(m);
        LinearAlgebraOps.register(m);
        NormalizationOps.register(m);
        OPS = Collections.unmodifiableMap(m);
    }

    private Ops() {
    }

    /** Every supported op type, sorted. */
    public static Set<String> supported() {
        return OPS.keySet();
    }

    public static boolean isSupported(String opType) {
        return OPS.containsKey(opType);
    }

    static GraphOp get(Node node) {
        GraphOp op = OPS.get(node.opType());
        if (op == null) {
            throw unsupported(node);
        }
        return op;
    }

    /** The one-line error for an op grokwatch does not evaluate: the node, its op type and the supported list. */
    public static io.grokwatch.model.ModelFormatException unsupported(Node node) {
        return new io.grokwatch.model.ModelFormatException(node.label() + ": unsupported op type '" + node.opType()
                + "'; supported: " + String.join(", ", supported()));
    }
}

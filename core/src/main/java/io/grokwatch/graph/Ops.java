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

    /** Whether an op only moves, copies or drops values (its output entries are input entries or zero). */
    public static boolean isMovement(String opType) {
        return OPS.get(opType) instanceof MovementOps.Movement;
    }

    /**
     * The forward pass of a movement op on index tensors: data inputs replaced by the given ones (null keeps
     * the real value), so that each output entry tells which input entry it holds.
     */
    public static NdArray[] moveIndices(Node node, NdArray[] inputs) {
        return get(node).forward(node, inputs);
    }

    /** Whether a derivative flows from input {@code i} of a node. */
    public static boolean differentiable(Node node, int i) {
        return get(node).differentiable(node, i);
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

package io.grokwatch.graph;

/**
 * The forward pass and both derivatives of one op type. Derivatives act on several directions at once: a
 * tangent or cotangent carries one leading axis of length K in front of the value's own shape, so a
 * Jacobian product for all C outputs of a model (K = C) is one pass.
 */
interface GraphOp {
    NdArray[] forward(Node node, NdArray[] in);

    /** Whether a derivative flows from input {@code i} (false for indices, shapes, conditions). */
    boolean differentiable(Node node, int i);

    /**
     * Forward mode: the output tangents ({@code [K, ...out]}, null for none) given input tangents
     * ({@code [K, ...in]}, null where an input is constant).
     */
    NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] tangents, int k);

    /**
     * Reverse mode: input cotangents ({@code [K, ...in]}) for the inputs marked in {@code need}, given output
     * cotangents ({@code [K, ...out]}, null where an output receives none).
     */
    NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] cotangents, boolean[] need, int k);
}

package io.grokwatch.graph;

import java.util.Map;

/** Ops whose outputs carry no derivative: constants, shapes, ranges. */
final class ConstantOps {
    private ConstantOps() {
    }

    static void register(Map<String, GraphOp> ops) {
        ops.put("Constant", new Function((n, in) -> new NdArray[] {constant(n)}));
        ops.put("Shape", new Function((n, in) -> new NdArray[] {shape(n, in[0])}));
        ops.put("Size", new Function((n, in) -> new NdArray[] {new NdArray(new int[0], new double[] {in[0].size()}, true)}));
        ops.put("ConstantOfShape", new Function((n, in) -> new NdArray[] {constantOfShape(n, in[0])}));
        ops.put("Range", new Function((n, in) -> new NdArray[] {range(in[0], in[1], in[2])}));
    }

    /** The forward pass of an op without derivatives. */
    @FunctionalInterface
    interface Forward {
        NdArray[] apply(Node node, NdArray[] in);
    }

    static class Function implements GraphOp {
        private final Forward forward;

        Function(Forward forward) {
            this.forward = forward;
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            return forward.apply(node, in);
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return false;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] tangents, int k) {
            return new NdArray[out.length];
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] cotangents, boolean[] need, int k) {
            return new NdArray[in.length];
        }
    }

    static NdArray constant(Node n) {
        if (n.has("value")) {
            return n.tensorAttr("value");
        }
        if (n.has("value_float")) {
            return NdArray.scalar(n.floatAttr("value_float", 0));
        }
        if (n.has("value_int")) {
            return new NdArray(new int[0], new double[] {n.intAttr("value_int", 0)}, true);
        }
        if (n.has("value_ints")) {
            return NdArray.ints(n.intsAttr("value_ints"));
        }
        if (n.has("value_floats")) {
            double[] v = (double[]) n.attributes().get("value_floats");
            return new NdArray(new int[] {v.length}, v.clone());
        }
        throw new IllegalArgumentException(n.label() + ": no value attribute this importer reads "
                + "(value, value_float, value_floats, value_int, value_ints)");
    }

    static NdArray shape(Node n, NdArray x) {
        int r = x.rank();
        long start = n.intAttr("start", 0);
        long end = n.intAttr("end", r);
        start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
        end = Math.max(0, Math.min(r, end < 0 ? end + r : end));
        long[] dims = new long[(int) Math.max(0, end - start)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = x.dim((int) start + i);
        }
        return NdArray.ints(dims);
    }

    static NdArray constantOfShape(Node n, NdArray shape) {
        int[] dims = MovementOps.toInts(shape.longs());
        NdArray value = n.has("value") ? n.tensorAttr("value") : NdArray.scalar(0);
        double[] d = new double[NdArray.size(dims)];
        java.util.Arrays.fill(d, value.data()[0]);
        return new NdArray(dims, d, value.integer());
    }

    static NdArray range(NdArray start, NdArray limit, NdArray delta) {
        double s = start.item();
        double l = limit.item();
        double dl = delta.item();
        int count = (int) Math.max(0, Math.ceil((l - s) / dl));
        double[] d = new double[count];
        for (int i = 0; i < count; i++) {
            d[i] = s + i * dl;
        }
        return new NdArray(new int[] {count}, d, start.integer() && limit.integer() && delta.integer());
    }
}

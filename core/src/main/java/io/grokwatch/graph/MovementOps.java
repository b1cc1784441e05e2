package io.grokwatch.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Ops that only move, copy or drop values: reshapes, transposes, slices, gathers, concatenation, splits,
 * broadcasting, selection and casts between float types. Their derivatives need no formula of their own:
 * running the forward pass on tensors that hold each element's index tells, for every output element, which
 * input element it came from (or none), and both Jacobian products follow that map.
 */
final class MovementOps {
    private MovementOps() {
    }

    /** The forward pass of a movement op, written once for values and index tensors alike. */
    @FunctionalInterface
    interface Move {
        NdArray[] apply(Node node, NdArray[] in);
    }

    static void register(Map<String, GraphOp> ops) {
        ops.put("Identity", new View((n, in) -> new NdArray[] {in[0]}));
        ops.put("Reshape", new View((n, in) -> new NdArray[] {reshape(n, in[0], in[1])}));
        ops.put("Flatten", new View((n, in) -> new NdArray[] {flatten(n, in[0])}));
        ops.put("Transpose", new TransposeOp());
        ops.put("Squeeze", new View((n, in) -> new NdArray[] {squeeze(n, in)}));
        ops.put("Unsqueeze", new View((n, in) -> new NdArray[] {unsqueeze(n, in)}));
        ops.put("Expand", new Movement((n, in) -> new NdArray[] {expand(in[0], in[1])}, false));
        ops.put("Slice", new Movement((n, in) -> new NdArray[] {slice(n, in)}, false));
        ops.put("Gather", new Movement((n, in) -> new NdArray[] {gather(n, in[0], in[1])}, false));
        ops.put("Concat", new Movement((n, in) -> new NdArray[] {concat(n, in)}, true));
        ops.put("Split", new Movement(MovementOps::split, false));
        ops.put("Where", new Movement((n, in) -> new NdArray[] {where(in[0], in[1], in[2])}, false) {
            @Override
            public boolean differentiable(Node node, int i) {
                return i > 0;
            }
        });
        ops.put("Cast", new Movement((n, in) -> new NdArray[] {cast(n, in[0])}, false));
        ops.put("Trilu", new Movement((n, in) -> new NdArray[] {trilu(n, in)}, false));
        ops.put("Dropout", new Movement(MovementOps::dropout, false));
    }

    /** A movement op: its derivatives follow the index map of its forward pass. */
    static class Movement implements GraphOp {
        private final Move move;
        private final boolean allInputsAreData;

        Movement(Move move, boolean allInputsAreData) {
            this.move = move;
            this.allInputsAreData = allInputsAreData;
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            return move.apply(node, in);
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return allInputsAreData || i == 0;
        }

        /** For each output, the 1-based global index of the source element of each entry (0: none). */
        private NdArray[] indexMaps(Node node, NdArray[] in, int[] base) {
            NdArray[] probe = in.clone();
            int offset = 0;
            for (int i = 0; i < in.length; i++) {
                base[i] = offset;
                if (in[i] != null && differentiable(node, i)) {
                    double[] d = new double[in[i].size()];
                    for (int e = 0; e < d.length; e++) {
                        d[e] = offset + e + 1;
                    }
                    probe[i] = new NdArray(in[i].dims(), d, false);
                    offset += d.length;
                }
            }
            return move.apply(node, probe);
        }

        private static int source(double v, int[] base, NdArray[] in, int[] element) {
            long g = (long) v;
            if (g <= 0) {
                return -1;
            }
            for (int i = base.length - 1; i >= 0; i--) {
                if (in[i] != null && g > base[i]) {
                    element[0] = (int) (g - 1 - base[i]);
                    return i;
                }
            }
            return -1;
        }

        /** For each entry of an output, the input it came from (-1: none) and the entry within that input. */
        private record Sources(int[] input, int[] element) {
        }

        private static Sources sources(NdArray map, int[] base, NdArray[] in) {
            double[] m = map.data();
            int[] input = new int[m.length];
            int[] element = new int[m.length];
            int[] e = new int[1];
            for (int j = 0; j < m.length; j++) {
                input[j] = source(m[j], base, in, e);
                element[j] = e[0];
            }
            return new Sources(input, element);
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] tangents, int k) {
            int[] base = new int[in.length];
            NdArray[] maps = indexMaps(node, in, base);
            NdArray[] r = new NdArray[out.length];
            for (int o = 0; o < out.length; o++) {
                if (out[o] == null || out[o].integer()) {
                    continue;
                }
                Sources src = sources(maps[o], base, in);
                int m = src.input().length;
                double[] t = new double[k * m];
                boolean any = false;
                for (int j = 0; j < m; j++) {
                    any |= src.input()[j] >= 0 && tangents[src.input()[j]] != null;
                }
                if (!any) {
                    continue;
                }
                for (int kk = 0; kk < k; kk++) {
                    int off = kk * m;
                    for (int j = 0; j < m; j++) {
                        int i = src.input()[j];
                        if (i >= 0 && tangents[i] != null) {
                            t[off + j] = tangents[i].data()[kk * in[i].size() + src.element()[j]];
                        }
                    }
                }
                r[o] = new NdArray(Shapes.prepend(k, out[o].dims()), t);
            }
            return r;
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] cotangents, boolean[] need, int k) {
            int[] base = new int[in.length];
            NdArray[] maps = indexMaps(node, in, base);
            double[][] g = new double[in.length][];
            for (int i = 0; i < in.length; i++) {
                if (need[i]) {
                    g[i] = new double[k * in[i].size()];
                }
            }
            for (int o = 0; o < out.length; o++) {
                if (cotangents[o] == null) {
                    continue;
                }
                Sources src = sources(maps[o], base, in);
                double[] c = cotangents[o].data();
                int m = src.input().length;
                for (int kk = 0; kk < k; kk++) {
                    int off = kk * m;
                    for (int j = 0; j < m; j++) {
                        int i = src.input()[j];
                        if (i >= 0 && g[i] != null) {
                            g[i][kk * in[i].size() + src.element()[j]] += c[off + j];
                        }
                    }
                }
            }
            NdArray[] r = new NdArray[in.length];
            for (int i = 0; i < in.length; i++) {
                if (g[i] != null) {
                    r[i] = new NdArray(Shapes.prepend(k, in[i].dims()), g[i]);
                }
            }
            return r;
        }
    }

    /**
     * A movement op that keeps every value in place and only renames the shape (reshape, flatten, squeeze,
     * unsqueeze, identity): its Jacobian products are the tangent or cotangent under the other shape.
     */
    static final class View extends Movement {
        View(Move move) {
            super(move, false);
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] tangents, int k) {
            return new NdArray[] {tangents[0] == null ? null : tangents[0].reshape(Shapes.prepend(k, out[0].dims()))};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] cotangents, boolean[] need, int k) {
            NdArray[] r = new NdArray[in.length];
            if (need[0] && cotangents[0] != null) {
                r[0] = cotangents[0].reshape(Shapes.prepend(k, in[0].dims()));
            }
            return r;
        }
    }

    /** Transpose: its Jacobian products permute the tangent or cotangent the same way (or back), K axis first. */
    static final class TransposeOp extends Movement {
        TransposeOp() {
            super((n, in) -> new NdArray[] {transpose(n, in[0])}, false);
        }

        private static int[] perm(Node node, int rank) {
            long[] p = node.intsAttr("perm");
            int[] perm = new int[rank];
            for (int i = 0; i < rank; i++) {
                perm[i] = p == null ? rank - 1 - i : Shapes.axis(p[i], rank, node.label());
            }
            return perm;
        }

        /** The permutation of a {@code [K, ...]} tensor that applies {@code perm} (or its inverse) behind the K axis. */
        private static int[] lifted(int[] perm, boolean inverse) {
            int[] r = new int[perm.length + 1];
            for (int i = 0; i < perm.length; i++) {
                if (inverse) {
                    r[perm[i] + 1] = i + 1;
                } else {
                    r[i + 1] = perm[i] + 1;
                }
            }
            return r;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] tangents, int k) {
            if (tangents[0] == null) {
                return new NdArray[1];
            }
            return new NdArray[] {permute(tangents[0], lifted(perm(node, in[0].rank()), false)).asInteger(false)};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] cotangents, boolean[] need, int k) {
            NdArray[] r = new NdArray[in.length];
            if (need[0] && cotangents[0] != null) {
                r[0] = permute(cotangents[0], lifted(perm(node, in[0].rank()), true)).asInteger(false);
            }
            return r;
        }
    }

    // ------------------------------------------------------------------ forward passes

    static NdArray reshape(Node n, NdArray x, NdArray shapeTensor) {
        long[] spec = shapeTensor.longs();
        boolean allowZero = n.intAttr("allowzero", 0) != 0;
        int[] out = new int[spec.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.length; i++) {
            long s = spec[i];
            if (s == 0 && !allowZero) {
                if (i >= x.rank()) {
                    throw new IllegalArgumentException(n.label() + ": shape entry " + i + " copies a dimension the input "
                            + Shapes.text(x.dims()) + " does not have");
                }
                s = x.dim(i);
            }
            if (s == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(n.label() + ": more than one -1 in shape " + Arrays.toString(spec));
                }
                infer = i;
                continue;
            }
            if (s < 0) {
                throw new IllegalArgumentException(n.label() + ": invalid shape " + Arrays.toString(spec));
            }
            out[i] = (int) s;
            known *= s;
        }
        if (infer >= 0) {
            if (known == 0 || x.size() % known != 0) {
                throw new IllegalArgumentException(n.label() + ": cannot reshape " + Shapes.text(x.dims()) + " to "
                        + Arrays.toString(spec));
            }
            out[infer] = (int) (x.size() / known);
        }
        if (NdArray.size(out) != x.size()) {
            throw new IllegalArgumentException(n.label() + ": cannot reshape " + Shapes.text(x.dims()) + " ("
                    + x.size() + " values) to " + Shapes.text(out));
        }
        return x.reshape(out);
    }

    static NdArray flatten(Node n, NdArray x) {
        int axis = (int) n.intAttr("axis", 1);
        if (axis < 0) {
            axis += x.rank();
        }
        if (axis < 0 || axis > x.rank()) {
            throw new IllegalArgumentException(n.label() + ": axis out of range for rank " + x.rank());
        }
        int a = 1;
        for (int i = 0; i < axis; i++) {
            a *= x.dim(i);
        }
        int b = 1;
        for (int i = axis; i < x.rank(); i++) {
            b *= x.dim(i);
        }
        return x.reshape(a, b);
    }

    static NdArray transpose(Node n, NdArray x) {
        long[] p = n.intsAttr("perm");
        int r = x.rank();
        int[] perm = new int[r];
        for (int i = 0; i < r; i++) {
            perm[i] = p == null ? r - 1 - i : Shapes.axis(p[i], r, n.label());
        }
        return permute(x, perm);
    }

    static NdArray permute(NdArray x, int[] perm) {
        int r = x.rank();
        int[] in = x.dims();
        int[] out = new int[r];
        int[] inStrides = Shapes.strides(in);
        int[] s = new int[r];
        for (int i = 0; i < r; i++) {
            out[i] = in[perm[i]];
            s[i] = inStrides[perm[i]];
        }
        double[] src = x.data();
        double[] dst = new double[src.length];
        int[] counter = new int[r];
        int pos = 0;
        for (int j = 0; j < dst.length; j++) {
            dst[j] = src[pos];
            for (int d = r - 1; d >= 0; d--) {
                counter[d]++;
                pos += s[d];
                if (counter[d] < out[d]) {
                    break;
                }
                pos -= s[d] * counter[d];
                counter[d] = 0;
            }
        }
        return new NdArray(out, dst, x.integer());
    }

    private static long[] axesOf(Node n, NdArray[] in) {
        if (in.length > 1 && in[1] != null) {
            return in[1].longs();
        }
        return n.intsAttr("axes");
    }

    static NdArray squeeze(Node n, NdArray[] in) {
        NdArray x = in[0];
        long[] axes = axesOf(n, in);
        boolean[] drop = new boolean[x.rank()];
        if (axes == null) {
            for (int i = 0; i < x.rank(); i++) {
                drop[i] = x.dim(i) == 1;
            }
        } else {
            for (long a : axes) {
                int ax = Shapes.axis(a, x.rank(), n.label());
                if (x.dim(ax) != 1) {
                    throw new IllegalArgumentException(n.label() + ": cannot squeeze axis " + ax + " of "
                            + Shapes.text(x.dims()));
                }
                drop[ax] = true;
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) {
            if (!drop[i]) {
                out.add(x.dim(i));
            }
        }
        return x.reshape(out.stream().mapToInt(Integer::intValue).toArray());
    }

    static NdArray unsqueeze(Node n, NdArray[] in) {
        NdArray x = in[0];
        long[] axes = axesOf(n, in);
        if (axes == null) {
            throw new IllegalArgumentException(n.label() + ": no axes");
        }
        int r = x.rank() + axes.length;
        boolean[] inserted = new boolean[r];
        for (long a : axes) {
            inserted[Shapes.axis(a, r, n.label())] = true;
        }
        int[] out = new int[r];
        int src = 0;
        for (int i = 0; i < r; i++) {
            out[i] = inserted[i] ? 1 : x.dim(src++);
        }
        return x.reshape(out);
    }

    static NdArray expand(NdArray x, NdArray shape) {
        int[] target = Shapes.broadcast(x.dims(), toInts(shape.longs()));
        return broadcastTo(x, target);
    }

    static NdArray broadcastTo(NdArray x, int[] target) {
        int[] idx = Shapes.broadcastIndex(x.dims(), target);
        double[] src = x.data();
        double[] d = new double[idx.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = src[idx[i]];
        }
        return new NdArray(target, d, x.integer());
    }

    static int[] toInts(long[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("invalid dimension " + v[i]);
            }
            r[i] = (int) v[i];
        }
        return r;
    }

    static NdArray slice(Node n, NdArray[] in) {
        NdArray x = in[0];
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (in.length > 1) {
            starts = in[1].longs();
            ends = in[2].longs();
            axes = in.length > 3 && in[3] != null ? in[3].longs() : null;
            steps = in.length > 4 && in[4] != null ? in[4].longs() : null;
        } else {
            starts = n.intsAttr("starts");
            ends = n.intsAttr("ends");
            axes = n.intsAttr("axes");
        }
        int r = x.rank();
        int[] start = new int[r];
        int[] step = new int[r];
        int[] out = x.shape();
        Arrays.fill(step, 1);
        for (int i = 0; i < starts.length; i++) {
            int a = axes == null ? i : Shapes.axis(axes[i], r, n.label());
            long st = steps == null ? 1 : steps[i];
            if (st == 0) {
                throw new IllegalArgumentException(n.label() + ": step 0");
            }
            long dim = x.dim(a);
            long s = starts[i] < 0 ? starts[i] + dim : starts[i];
            long e = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (st > 0) {
                s = Math.max(0, Math.min(dim, s));
                e = Math.max(0, Math.min(dim, e));
                out[a] = (int) Math.max(0, (e - s + st - 1) / st);
            } else {
                s = Math.max(-1, Math.min(dim - 1, s));
                e = Math.max(-1, Math.min(dim - 1, e));
                out[a] = (int) Math.max(0, (s - e + (-st) - 1) / (-st));
            }
            start[a] = (int) s;
            step[a] = (int) st;
        }
        int[] strides = Shapes.strides(x.dims());
        double[] src = x.data();
        double[] dst = new double[NdArray.size(out)];
        int[] counter = new int[r];
        for (int j = 0; j < dst.length; j++) {
            int pos = 0;
            for (int d = 0; d < r; d++) {
                pos += (start[d] + counter[d] * step[d]) * strides[d];
            }
            dst[j] = src[pos];
            for (int d = r - 1; d >= 0; d--) {
                if (++counter[d] < out[d]) {
                    break;
                }
                counter[d] = 0;
            }
        }
        return new NdArray(out, dst, x.integer());
    }

    static NdArray gather(Node n, NdArray x, NdArray indices) {
        int axis = Shapes.axis(n.intAttr("axis", 0), Math.max(x.rank(), 1), n.label());
        int[] xs = x.dims();
        int[] is = indices.dims();
        int[] out = new int[xs.length - 1 + is.length];
        System.arraycopy(xs, 0, out, 0, axis);
        System.arraycopy(is, 0, out, axis, is.length);
        System.arraycopy(xs, axis + 1, out, axis + is.length, xs.length - axis - 1);
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= xs[i];
        }
        int inner = 1;
        for (int i = axis + 1; i < xs.length; i++) {
            inner *= xs[i];
        }
        int dim = xs[axis];
        double[] idx = indices.data();
        double[] src = x.data();
        double[] dst = new double[NdArray.size(out)];
        int m = idx.length;
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                long g = (long) idx[j];
                if (g < 0) {
                    g += dim;
                }
                if (g < 0 || g >= dim) {
                    throw new IllegalArgumentException(n.label() + ": index " + (long) idx[j] + " out of range for axis "
                            + axis + " of length " + dim);
                }
                System.arraycopy(src, (o * dim + (int) g) * inner, dst, (o * m + j) * inner, inner);
            }
        }
        return new NdArray(out, dst, x.integer());
    }

    static NdArray concat(Node n, NdArray[] in) {
        List<NdArray> parts = new ArrayList<>();
        for (NdArray a : in) {
            if (a != null) {
                parts.add(a);
            }
        }
        NdArray first = parts.get(0);
        int axis = Shapes.axis(n.intAttr("axis", 0), first.rank(), n.label());
        int[] out = first.shape();
        out[axis] = 0;
        for (NdArray a : parts) {
            if (a.rank() != first.rank()) {
                throw new IllegalArgumentException(n.label() + ": inputs of ranks " + first.rank() + " and " + a.rank());
            }
            for (int d = 0; d < a.rank(); d++) {
                if (d != axis && a.dim(d) != first.dim(d)) {
                    throw new IllegalArgumentException(n.label() + ": shapes " + Shapes.text(first.dims()) + " and "
                            + Shapes.text(a.dims()) + " differ off axis " + axis);
                }
            }
            out[axis] += a.dim(axis);
        }
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= out[i];
        }
        int inner = 1;
        for (int i = axis + 1; i < out.length; i++) {
            inner *= out[i];
        }
        double[] dst = new double[NdArray.size(out)];
        int row = out[axis] * inner;
        int at = 0;
        boolean integer = true;
        for (NdArray a : parts) {
            int len = a.dim(axis) * inner;
            for (int o = 0; o < outer; o++) {
                System.arraycopy(a.data(), o * len, dst, o * row + at, len);
            }
            at += len;
            integer &= a.integer();
        }
        return new NdArray(out, dst, integer);
    }

    static NdArray[] split(Node n, NdArray[] in) {
        NdArray x = in[0];
        int axis = Shapes.axis(n.intAttr("axis", 0), x.rank(), n.label());
        int parts = n.outputs().size();
        long[] sizes = in.length > 1 && in[1] != null ? in[1].longs() : n.intsAttr("split");
        if (sizes == null) {
            long num = n.intAttr("num_outputs", parts);
            int dim = x.dim(axis);
            long each = (dim + num - 1) / num;
            sizes = new long[parts];
            long left = dim;
            for (int i = 0; i < parts; i++) {
                sizes[i] = Math.min(each, left);
                left -= sizes[i];
            }
        }
        NdArray[] out = new NdArray[sizes.length];
        long at = 0;
        for (int i = 0; i < sizes.length; i++) {
            Node s = new Node(n.name(), "Slice", List.of(), List.of(), Map.of("starts", new long[] {at},
                    "ends", new long[] {at + sizes[i]}, "axes", new long[] {axis}));
            out[i] = slice(s, new NdArray[] {x});
            at += sizes[i];
        }
        if (at != x.dim(axis)) {
            throw new IllegalArgumentException(n.label() + ": split sizes " + Arrays.toString(sizes) + " do not add up to "
                    + x.dim(axis));
        }
        return out;
    }

    static NdArray where(NdArray cond, NdArray a, NdArray b) {
        int[] out = Shapes.broadcast(cond.dims(), Shapes.broadcast(a.dims(), b.dims()));
        int[] ic = Shapes.broadcastIndex(cond.dims(), out);
        int[] ia = Shapes.broadcastIndex(a.dims(), out);
        int[] ib = Shapes.broadcastIndex(b.dims(), out);
        double[] c = cond.data();
        double[] ad = a.data();
        double[] bd = b.data();
        double[] d = new double[ic.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = c[ic[i]] != 0 ? ad[ia[i]] : bd[ib[i]];
        }
        return new NdArray(out, d, a.integer() && b.integer());
    }

    /** ONNX data types that are floating point: FLOAT, FLOAT16, DOUBLE, BFLOAT16. */
    static boolean isFloatType(long onnxType) {
        return onnxType == 1 || onnxType == 10 || onnxType == 11 || onnxType == 16;
    }

    static NdArray cast(Node n, NdArray x) {
        long to = n.intAttr("to", 1);
        if (isFloatType(to)) {
            return x.asInteger(false);
        }
        double[] d = x.data().clone();
        boolean bool = to == 9;
        for (int i = 0; i < d.length; i++) {
            d[i] = bool ? (d[i] != 0 ? 1 : 0) : (double) (long) d[i];
        }
        return new NdArray(x.dims(), d, true);
    }

    static NdArray trilu(Node n, NdArray[] in) {
        NdArray x = in[0];
        long k = in.length > 1 && in[1] != null ? (long) in[1].item() : 0;
        boolean upper = n.intAttr("upper", 1) != 0;
        int rows = x.dim(x.rank() - 2);
        int cols = x.dim(x.rank() - 1);
        double[] d = x.data().clone();
        for (int b = 0; b < d.length / Math.max(1, rows * cols); b++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    boolean keep = upper ? j - i >= k : j - i <= k;
                    if (!keep) {
                        d[b * rows * cols + i * cols + j] = 0;
                    }
                }
            }
        }
        return new NdArray(x.dims(), d, x.integer());
    }

    static NdArray[] dropout(Node n, NdArray[] in) {
        // Inference: the identity; the optional mask output is all ones.
        NdArray[] out = new NdArray[n.outputs().size()];
        out[0] = in[0];
        if (out.length > 1) {
            double[] ones = new double[in[0].size()];
            Arrays.fill(ones, 1);
            out[1] = new NdArray(in[0].dims(), ones, true);
        }
        return out;
    }
}

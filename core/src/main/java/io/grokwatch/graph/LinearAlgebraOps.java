package io.grokwatch.graph;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Matrix;

import java.util.Map;

/** MatMul (numpy semantics, broadcast batch dimensions) and Gemm. */
final class LinearAlgebraOps {
    private LinearAlgebraOps() {
    }

    static void register(Map<String, GraphOp> ops) {
        ops.put("MatMul", new MatMulOp());
        ops.put("Gemm", new GemmOp());
    }

    /** Products at least this large (multiply-adds) go to BLAS; smaller ones stay in a Java loop. */
    private static final long BLAS_MIN_WORK = 32_768;

    /**
     * {@code a @ b} for tensors of rank >= 2 with broadcast batch dimensions; {@code transA}/{@code transB}
     * transpose the last two axes of an operand first.
     */
    static NdArray matmul(NdArray a, boolean transA, NdArray b, boolean transB) {
        int ra = a.rank();
        int rb = b.rank();
        int[] as = a.dims();
        int[] bs = b.dims();
        int m = transA ? as[ra - 1] : as[ra - 2];
        int ka = transA ? as[ra - 2] : as[ra - 1];
        int kb = transB ? bs[rb - 1] : bs[rb - 2];
        int n = transB ? bs[rb - 2] : bs[rb - 1];
        if (ka != kb) {
            throw new IllegalArgumentException("cannot multiply " + Shapes.text(as) + (transA ? "^T" : "") + " by "
                    + Shapes.text(bs) + (transB ? "^T" : ""));
        }
        int[] batchA = java.util.Arrays.copyOf(as, ra - 2);
        int[] batchB = java.util.Arrays.copyOf(bs, rb - 2);
        int[] batch = Shapes.broadcast(batchA, batchB);
        int[] ia = Shapes.broadcastIndex(batchA, batch);
        int[] ib = Shapes.broadcastIndex(batchB, batch);
        int[] outShape = new int[batch.length + 2];
        System.arraycopy(batch, 0, outShape, 0, batch.length);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        double[] out = new double[NdArray.size(outShape)];
        if (batchB.length == 0 && !transA && batch.length > 0) {
            // A stack of matrices times one matrix: one product of the stacked rows, of the non-zero ones only
            // when many are zero (cotangents of positions the outputs do not read).
            int rows = ia.length * m;
            int[] nonZero = nonZeroRows(a.data(), rows, ka);
            if (nonZero.length * 4 <= rows * 3) {
                double[] packed = new double[nonZero.length * ka];
                for (int i = 0; i < nonZero.length; i++) {
                    System.arraycopy(a.data(), nonZero[i] * ka, packed, i * ka, ka);
                }
                double[] product = new double[nonZero.length * n];
                multiply(packed, 0, false, b.data(), 0, transB, product, 0, nonZero.length, ka, n,
                        (long) nonZero.length * n * ka >= BLAS_MIN_WORK);
                for (int i = 0; i < nonZero.length; i++) {
                    System.arraycopy(product, i * n, out, nonZero[i] * n, n);
                }
                return new NdArray(outShape, out);
            }
            multiply(a.data(), 0, false, b.data(), 0, transB, out, 0, rows, ka, n, (long) rows * n * ka >= BLAS_MIN_WORK);
            return new NdArray(outShape, out);
        }
        int sizeA = m * ka;
        int sizeB = ka * n;
        boolean blas = (long) m * n * ka >= BLAS_MIN_WORK;
        for (int t = 0; t < ia.length; t++) {
            multiply(a.data(), ia[t] * sizeA, transA, b.data(), ib[t] * sizeB, transB, out, t * m * n, m, ka, n, blas);
        }
        return new NdArray(outShape, out);
    }

    private static void multiply(double[] a, int offA, boolean transA, double[] b, int offB, boolean transB,
                                 double[] c, int offC, int m, int k, int n, boolean blas) {
        if (blas) {
            Matrix ma = new Matrix(transA ? k : m, transA ? m : k, slice(a, offA, m * k));
            Matrix mb = new Matrix(transB ? n : k, transB ? k : n, slice(b, offB, k * n));
            if (offC == 0 && c.length == m * n) {
                Blas.gemm(1.0, ma, transA, mb, transB, 0.0, new Matrix(m, n, c));
            } else {
                System.arraycopy(Blas.multiply(ma, transA, mb, transB).data(), 0, c, offC, m * n);
            }
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = offC + i * n;
            for (int p = 0; p < k; p++) {
                double av = transA ? a[offA + p * m + i] : a[offA + i * k + p];
                if (av == 0) {
                    continue;
                }
                if (transB) {
                    for (int j = 0; j < n; j++) {
                        c[row + j] += av * b[offB + j * k + p];
                    }
                } else {
                    int brow = offB + p * n;
                    for (int j = 0; j < n; j++) {
                        c[row + j] += av * b[brow + j];
                    }
                }
            }
        }
    }

    /** Indices of the rows of a row-major rows x cols array that hold a non-zero value. */
    private static int[] nonZeroRows(double[] a, int rows, int cols) {
        int[] r = new int[rows];
        int count = 0;
        for (int i = 0; i < rows; i++) {
            int base = i * cols;
            for (int j = 0; j < cols; j++) {
                if (a[base + j] != 0) {
                    r[count++] = i;
                    break;
                }
            }
        }
        return java.util.Arrays.copyOf(r, count);
    }

    /** The values at [off, off + len) of an array, without a copy when that is the whole array. */
    private static double[] slice(double[] v, int off, int len) {
        return off == 0 && len == v.length ? v : java.util.Arrays.copyOfRange(v, off, off + len);
    }

    /** Rank-1 operands as numpy treats them: a vector on the left is a row, on the right a column. */
    private static NdArray promote(NdArray x, boolean left) {
        if (x.rank() >= 2) {
            return x;
        }
        return left ? x.reshape(1, x.dim(0)) : x.reshape(x.dim(0), 1);
    }

    /**
     * Inserts length-1 axes after the leading direction axis of a tangent {@code [K, ...shape]} so that its
     * rank is {@code 1 + rank} and batch dimensions broadcast against the other operand's.
     */
    private static NdArray lift(NdArray t, int k, int[] shape, int rank) {
        int[] s = new int[rank + 1];
        java.util.Arrays.fill(s, 1);
        s[0] = k;
        System.arraycopy(shape, 0, s, rank + 1 - shape.length, shape.length);
        return t.reshape(s);
    }

    /** Sums a {@code [K, ...]} result over the axes an operand of {@code shape} was broadcast along. */
    static NdArray reduceToK(NdArray x, int k, int[] shape) {
        int[] target = new int[x.rank()];
        java.util.Arrays.fill(target, 1);
        target[0] = k;
        System.arraycopy(shape, 0, target, x.rank() - shape.length, shape.length);
        return Shapes.reduceTo(x, target).reshape(Shapes.prepend(k, shape));
    }

    static final class MatMulOp implements GraphOp {
        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            NdArray r;
            try {
                r = matmul(promote(in[0], true), false, promote(in[1], false), false);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(node.label() + ": " + e.getMessage(), e);
            }
            return new NdArray[] {r.reshape(outShape(in[0], in[1], r))};
        }

        private static int[] outShape(NdArray a, NdArray b, NdArray r) {
            int[] s = r.shape();
            if (a.rank() == 1 && b.rank() == 1) {
                return new int[0];
            }
            if (a.rank() == 1) {
                int[] t = java.util.Arrays.copyOf(s, s.length - 1);
                t[t.length - 1] = s[s.length - 1];
                return t;
            }
            if (b.rank() == 1) {
                return java.util.Arrays.copyOf(s, s.length - 1);
            }
            return s;
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return true;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            NdArray a = promote(in[0], true);
            NdArray b = promote(in[1], false);
            int rank = Math.max(a.rank(), b.rank());
            NdArray r = null;
            if (t[0] != null) {
                r = matmul(lift(t[0], k, a.dims(), rank), false, b, false);
            }
            if (t[1] != null) {
                NdArray s = matmul(a, false, lift(t[1], k, b.dims(), rank), false);
                r = r == null ? s : add(r, s);
            }
            return new NdArray[] {r.reshape(Shapes.prepend(k, out[0].dims()))};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            NdArray a = promote(in[0], true);
            NdArray b = promote(in[1], false);
            int rank = Math.max(a.rank(), b.rank());
            int[] outPromoted = new int[rank];
            // The promoted output shape: broadcast batch, then m x n.
            int[] batch = Shapes.broadcast(java.util.Arrays.copyOf(a.dims(), a.rank() - 2),
                    java.util.Arrays.copyOf(b.dims(), b.rank() - 2));
            System.arraycopy(batch, 0, outPromoted, rank - 2 - batch.length, batch.length);
            for (int i = 0; i < rank - 2 - batch.length; i++) {
                outPromoted[i] = 1;
            }
            outPromoted[rank - 2] = a.dim(a.rank() - 2);
            outPromoted[rank - 1] = b.dim(b.rank() - 1);
            NdArray gk = g[0].reshape(Shapes.prepend(k, outPromoted));
            NdArray[] r = new NdArray[2];
            if (need[0]) {
                NdArray ga = matmul(gk, false, b, true);
                r[0] = reduceToK(ga, k, a.dims()).reshape(Shapes.prepend(k, in[0].dims()));
            }
            if (need[1]) {
                NdArray gb = matmul(a, true, gk, false);
                r[1] = reduceToK(gb, k, b.dims()).reshape(Shapes.prepend(k, in[1].dims()));
            }
            return r;
        }
    }

    static NdArray add(NdArray x, NdArray y) {
        double[] d = x.data().clone();
        double[] e = y.data();
        for (int i = 0; i < d.length; i++) {
            d[i] += e[i];
        }
        return new NdArray(x.dims(), d);
    }

    /** {@code Y = alpha A' B' + beta C} with A', B' optionally transposed, C broadcast. */
    static final class GemmOp implements GraphOp {
        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            boolean ta = node.intAttr("transA", 0) != 0;
            boolean tb = node.intAttr("transB", 0) != 0;
            double alpha = node.floatAttr("alpha", 1.0);
            double beta = node.floatAttr("beta", 1.0);
            NdArray y;
            try {
                y = matmul(in[0], ta, in[1], tb);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(node.label() + ": " + e.getMessage(), e);
            }
            double[] d = y.data();
            if (alpha != 1.0) {
                for (int i = 0; i < d.length; i++) {
                    d[i] *= alpha;
                }
            }
            if (in.length > 2 && in[2] != null && beta != 0) {
                int[] idx = Shapes.broadcastIndex(in[2].dims(), y.dims());
                double[] c = in[2].data();
                for (int i = 0; i < d.length; i++) {
                    d[i] += beta * c[idx[i]];
                }
            }
            return new NdArray[] {y};
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return true;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            boolean ta = node.intAttr("transA", 0) != 0;
            boolean tb = node.intAttr("transB", 0) != 0;
            double alpha = node.floatAttr("alpha", 1.0);
            double beta = node.floatAttr("beta", 1.0);
            int[] os = out[0].dims();
            double[] r = new double[k * out[0].size()];
            if (t[0] != null) {
                accumulate(r, matmul(t[0], ta, in[1], tb).data(), alpha);
            }
            if (t[1] != null) {
                accumulate(r, matmul(in[0].repeatLeading(k), ta, t[1], tb).data(), alpha);
            }
            if (in.length > 2 && t[2] != null) {
                int[] idx = Shapes.broadcastIndex(in[2].dims(), os);
                double[] tc = t[2].data();
                int m = idx.length;
                int size = in[2].size();
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < m; j++) {
                        r[kk * m + j] += beta * tc[kk * size + idx[j]];
                    }
                }
            }
            return new NdArray[] {new NdArray(Shapes.prepend(k, os), r)};
        }

        private static void accumulate(double[] r, double[] v, double scale) {
            for (int i = 0; i < r.length; i++) {
                r[i] += scale * v[i];
            }
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            boolean ta = node.intAttr("transA", 0) != 0;
            boolean tb = node.intAttr("transB", 0) != 0;
            double alpha = node.floatAttr("alpha", 1.0);
            double beta = node.floatAttr("beta", 1.0);
            NdArray[] r = new NdArray[in.length];
            NdArray gy = g[0];
            if (need[0]) {
                // A' = op(A); dA' = g B'^T; dA = dA' or its transpose.
                NdArray ga = ta ? matmul(in[1].repeatLeading(k), tb, gy, true) : matmul(gy, false, in[1], !tb);
                r[0] = scaled(ga, alpha);
            }
            if (need[1]) {
                NdArray gb = tb ? matmul(gy, true, in[0].repeatLeading(k), ta) : matmul(in[0].repeatLeading(k), !ta, gy, false);
                r[1] = scaled(gb, alpha);
            }
            if (in.length > 2 && need[2]) {
                NdArray gc = reduceToK(gy, k, in[2].dims());
                r[2] = scaled(gc, beta);
            }
            return r;
        }

        private static NdArray scaled(NdArray x, double s) {
            if (s == 1.0) {
                return x;
            }
            double[] d = x.data().clone();
            for (int i = 0; i < d.length; i++) {
                d[i] *= s;
            }
            return new NdArray(x.dims(), d);
        }
    }
}

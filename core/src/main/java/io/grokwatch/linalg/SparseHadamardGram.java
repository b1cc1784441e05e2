package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static io.grokwatch.linalg.NativeBlocks.view;

/**
 * {@code (F F^T) ⊙ (A A^T)} when {@code A} is sparse, as {@code sum_f (diag(a_f) F)(diag(a_f) F)^T} over the
 * columns {@code f} of {@code A}: each column contributes the Gram of only the rows where it is non-zero. For a
 * layer fed one-hot inputs (the modular-addition embedding: 2 of 2p entries set) that is {@code 2p} blocks of
 * {@code p x p} probe pairs sharing an input token instead of the whole {@code N x N} Gram of {@code F}:
 * {@code 4 p^3 r} flops instead of {@code p^4 r}, and {@code 2p^3} numbers instead of {@code p^4}. The blocks can be
 * summed into the formed matrix or applied as an operator that is never formed.
 */
public final class SparseHadamardGram implements SymmetricOperator {
    /** The sparse route is taken when it needs at most this share of the dense route's multiply-adds. */
    static final double MAX_COST_SHARE = 0.5;

    private final int n;
    private final List<int[]> rows;
    private final List<Matrix> blocks;
    /** Per block, the spacing of its rows when they are evenly spaced (then X and K X are read in place), else 0. */
    private final int[] strides;
    /** Multiply-adds of one product with a single vector. */
    private final long workPerColumn;
    /** Some block's rows are not evenly spaced. */
    private final boolean gathers;
    /** All blocks in native memory, one after the other (made on the first product). */
    private DoublePointer nativeBlocks;
    private long[] offsets;

    private SparseHadamardGram(int n, List<int[]> rows, List<Matrix> blocks) {
        this.n = n;
        this.rows = rows;
        this.blocks = blocks;
        this.strides = new int[rows.size()];
        long work = 0;
        for (int b = 0; b < rows.size(); b++) {
            strides[b] = evenSpacing(rows.get(b));
            work += (long) rows.get(b).length * rows.get(b).length;
        }
        this.workPerColumn = work;
        this.gathers = java.util.Arrays.stream(strides).anyMatch(d -> d == 0);
    }

    /** The common difference of increasing indices, 1 for a single one, 0 when they are not evenly spaced. */
    static int evenSpacing(int[] idx) {
        if (idx.length < 2) {
            return 1;
        }
        int d = idx[1] - idx[0];
        if (d <= 0) {
            return 0;
        }
        for (int t = 2; t < idx.length; t++) {
            if (idx[t] - idx[t - 1] != d) {
                return 0;
            }
        }
        return d;
    }

    /**
     * The blocks, or empty when {@code A} is too dense for the sparse route to pay (then the caller forms both
     * Grams and multiplies them element-wise).
     *
     * @param f N x r (the output-gradient factor)
     * @param a N x d (the activation the parameter multiplies)
     */
    public static Optional<SparseHadamardGram> of(Matrix f, Matrix a) {
        int n = f.rows();
        if (a.rows() != n) {
            throw new IllegalArgumentException("factor " + f.shape() + " and activation " + a.shape()
                    + " need the same rows");
        }
        int d = a.cols();
        int r = f.cols();
        int[] count = new int[d];
        double[] ad = a.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                if (ad[i * d + j] != 0.0) {
                    count[j]++;
                }
            }
        }
        double sparse = 0;
        for (int c : count) {
            sparse += (double) c * c * r;
        }
        // Dense: the N x N Grams of both factors (symmetric rank-k updates, half the products each).
        double dense = (double) n * n * (r + d) / 2.0;
        if (n == 0 || sparse > MAX_COST_SHARE * dense) {
            return Optional.empty();
        }
        int[][] idx = new int[d][];
        Matrix[] grams = new Matrix[d];
        // The blocks are independent: half the columns on each core when one is free (p = 113: 226 Grams, all before
        // any eigen-solve of the checkpoint can start).
        int mid = TwoWay.worthSplitting((long) sparse) ? d / 2 : d;
        if (mid < d) {
            TwoWay.run(() -> blocks(f, a, count, 0, mid, idx, grams), () -> blocks(f, a, count, mid, d, idx, grams));
        } else {
            blocks(f, a, count, 0, d, idx, grams);
        }
        List<int[]> rows = new ArrayList<>();
        List<Matrix> blocks = new ArrayList<>();
        for (int col = 0; col < d; col++) {
            if (idx[col] != null) {
                rows.add(idx[col]);
                blocks.add(grams[col]);
            }
        }
        return Optional.of(new SparseHadamardGram(n, rows, blocks));
    }

    /** The row set and Gram of each non-empty column in [from, to) of {@code a}. */
    private static void blocks(Matrix f, Matrix a, int[] count, int from, int to, int[][] idx, Matrix[] grams) {
        int n = f.rows();
        int d = a.cols();
        int r = f.cols();
        double[] ad = a.data();
        double[] fd = f.data();
        for (int col = from; col < to; col++) {
            int s = count[col];
            if (s == 0) {
                continue;
            }
            int[] rowsOf = new int[s];
            for (int i = 0, t = 0; i < n; i++) {
                if (ad[i * d + col] != 0.0) {
                    rowsOf[t++] = i;
                }
            }
            Matrix g = new Matrix(s, r);
            double[] gd = g.data();
            for (int t = 0; t < s; t++) {
                double scale = ad[rowsOf[t] * d + col];
                int src = rowsOf[t] * r;
                int dst = t * r;
                for (int q = 0; q < r; q++) {
                    gd[dst + q] = scale * fd[src + q];
                }
            }
            idx[col] = rowsOf;
            grams[col] = Blas.gram(g);
        }
    }

    /** The N x N matrix, exactly symmetric. */
    public Matrix formed() {
        Matrix k = new Matrix(n, n);
        double[] kd = k.data();
        for (int b = 0; b < blocks.size(); b++) {
            int[] idx = rows.get(b);
            double[] block = blocks.get(b).data();
            int s = idx.length;
            for (int u = 0; u < s; u++) {
                int dst = idx[u] * n;
                for (int v = 0; v < s; v++) {
                    kd[dst + idx[v]] += block[u * s + v];
                }
            }
        }
        return k;
    }

    /**
     * Each block scattered into the upper triangle of {@code k} (its rows are increasing, so entry (u, v) of a block
     * with {@code u <= v} lands on or above the diagonal): half of {@link #formed()}'s writes, and no heap matrix.
     */
    @Override
    public void addUpperTo(DoublePointer k, double scale) {
        java.nio.DoubleBuffer out = FormedUpper.buffer(k, n);
        for (int b = 0; b < blocks.size(); b++) {
            int[] idx = rows.get(b);
            double[] block = blocks.get(b).data();
            int s = idx.length;
            for (int u = 0; u < s; u++) {
                int dst = idx[u] * n;
                for (int v = u; v < s; v++) {
                    int at = dst + idx[v];
                    out.put(at, out.get(at) + scale * block[u * s + v]);
                }
            }
        }
    }

    @Override
    public int size() {
        return n;
    }

    /**
     * {@code K X} block by block in native memory. A block whose probes are evenly spaced rows (each token of a
     * modular-addition input: rows {@code a p + b} for fixed a, or for fixed b) reads its rows of X and adds into
     * those of K X in place, as a strided view: one GEMM and no copy. Other blocks gather their rows and scatter-add
     * the product. Half the blocks go to each core when one is free, each half into its own sum.
     */
    @Override
    public Matrix apply(Matrix x) {
        return NativeBlocks.apply(this, x);
    }

    @Override
    public void applyTo(DoublePointer px, int c, DoublePointer out) {
        if (c == 0) {
            return;
        }
        int count = blocks.size();
        int mid = TwoWay.worthSplitting(workPerColumn * c) ? count / 2 : count;
        try (DoublePointer first = new DoublePointer((long) n * c).fill(0);
             DoublePointer second = new DoublePointer((long) (mid < count ? n : 1) * c).fill(0)) {
            DoublePointer kb = count == 0 ? null : nativeBlocks();
            double[] gathered = gathers ? new double[n * c] : null;
            double[] gathered2 = gathers && mid < count ? new double[n * c] : null;
            if (mid < count) {
                TwoWay.run(() -> applyRange(kb, px, c, 0, mid, first, gathered),
                        () -> applyRange(kb, px, c, mid, count, second, gathered2));
                openblas.cblas_daxpy(n * c, 1.0, second, 1, first, 1);
            } else if (count > 0) {
                applyRange(kb, px, c, 0, count, first, gathered);
            }
            if (gathers) {
                if (gathered2 != null) {
                    for (int i = 0; i < gathered.length; i++) {
                        gathered[i] += gathered2[i];
                    }
                }
                try (DoublePointer g = new DoublePointer(gathered)) {
                    openblas.cblas_daxpy(n * c, 1.0, g, 1, first, 1);
                }
            }
            openblas.cblas_dcopy(n * c, first, 1, out, 1);
        }
    }

    /**
     * Blocks [from, to) of {@code K X}: evenly spaced ones added in place into {@code sum} (n x c, native), the others
     * scatter-added into {@code scattered} (n x c, on the heap).
     */
    private void applyRange(DoublePointer kb, DoublePointer px, int c, int from, int to, DoublePointer sum,
                            double[] scattered) {
        DoublePointer xs = null;
        DoublePointer ys = null;
        try {
            for (int b = from; b < to; b++) {
                int[] idx = rows.get(b);
                int s = idx.length;
                DoublePointer block = view(kb, offsets[b]);
                if (strides[b] > 0) {
                    int ld = strides[b] * c;
                    openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans,
                            s, c, s, 1.0, block, s, view(px, (long) idx[0] * c), ld, 1.0,
                            view(sum, (long) idx[0] * c), ld);
                    continue;
                }
                if (xs == null) {
                    xs = new DoublePointer((long) n * c);
                    ys = new DoublePointer((long) n * c);
                }
                for (int t = 0; t < s; t++) {
                    openblas.cblas_dcopy(c, view(px, (long) idx[t] * c), 1, view(xs, (long) t * c), 1);
                }
                openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans,
                        s, c, s, 1.0, block, s, xs, c, 0.0, ys, c);
                double[] y = new double[s * c];
                ys.get(y, 0, y.length);
                for (int t = 0; t < s; t++) {
                    int dst = idx[t] * c;
                    for (int q = 0; q < c; q++) {
                        scattered[dst + q] += y[t * c + q];
                    }
                }
            }
        } finally {
            if (xs != null) {
                xs.close();
                ys.close();
            }
        }
    }

    private synchronized DoublePointer nativeBlocks() {
        if (nativeBlocks == null) {
            offsets = new long[blocks.size()];
            long total = 0;
            for (int b = 0; b < blocks.size(); b++) {
                offsets[b] = total;
                total += blocks.get(b).data().length;
            }
            DoublePointer all = new DoublePointer(Math.max(1, total));
            for (int b = 0; b < blocks.size(); b++) {
                double[] d = blocks.get(b).data();
                all.position(offsets[b]).put(d, 0, d.length);
            }
            nativeBlocks = all.position(0);
        }
        return nativeBlocks;
    }

    /** The same blocks rounded to float32 once, each block's GEMM in float32 ({@link SinglePrecisionOperators}). */
    @Override
    public Optional<SymmetricOperator> inFloat32() {
        List<org.bytedeco.javacpp.FloatPointer> single = blocks.stream()
                .map(b -> SinglePrecisionOperators.rounded(b.data())).toList();
        return Optional.of(new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                return applyBlocks(x, (b, xs) -> SinglePrecisionOperators.times(single.get(b), xs));
            }
        });
    }

    /** One block's product {@code B_b X_s} for its gathered rows {@code X_s} (s x c), row-major s x c. */
    private interface BlockProduct {
        double[] times(int block, Matrix gathered);
    }

    private Matrix applyBlocks(Matrix x, BlockProduct product) {
        if (x.rows() != n) {
            throw new IllegalArgumentException("operator of side " + n + " applied to " + x.shape());
        }
        int c = x.cols();
        Matrix out = new Matrix(n, c);
        double[] od = out.data();
        double[] xd = x.data();
        for (int b = 0; b < blocks.size(); b++) {
            int[] idx = rows.get(b);
            int s = idx.length;
            Matrix xs = new Matrix(s, c);
            double[] xsd = xs.data();
            for (int t = 0; t < s; t++) {
                System.arraycopy(xd, idx[t] * c, xsd, t * c, c);
            }
            double[] ys = product.times(b, xs);
            for (int t = 0; t < s; t++) {
                int dst = idx[t] * c;
                int src = t * c;
                for (int q = 0; q < c; q++) {
                    od[dst + q] += ys[src + q];
                }
            }
        }
        return out;
    }

    /** Numbers held (the blocks), against {@code N^2} for the formed matrix. */
    public long storedEntries() {
        long total = 0;
        for (Matrix b : blocks) {
            total += (long) b.rows() * b.cols();
        }
        return total;
    }
}

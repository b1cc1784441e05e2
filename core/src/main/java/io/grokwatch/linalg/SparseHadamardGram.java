package io.grokwatch.linalg;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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

    private SparseHadamardGram(int n, List<int[]> rows, List<Matrix> blocks) {
        this.n = n;
        this.rows = rows;
        this.blocks = blocks;
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
        // The blocks are independent: half the columns on each core when one is free (p = 113: 226 Grams, ~110 ms
        // in one thread, before any eigen-solve of the checkpoint can start).
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

    @Override
    public int size() {
        return n;
    }

    /** {@code K X} block by block: gather the block's rows of X, one GEMM, scatter-add. */
    @Override
    public Matrix apply(Matrix x) {
        return applyBlocks(x, (b, xs) -> Blas.multiply(blocks.get(b), false, xs, false).data());
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

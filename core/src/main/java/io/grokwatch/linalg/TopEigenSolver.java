package io.grokwatch.linalg;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The leading eigenpairs of a symmetric positive semi-definite operator by block LOBPCG (locally optimal
 * block preconditioned conjugate gradient, without a preconditioner), optionally warm-started from the
 * eigenvectors of a nearby operator: the previous checkpoint's kernel, whose top eigenspace barely moves
 * between two checkpoints.
 *
 * <p>Convergence is per wanted pair: {@code ||A v - lambda v|| / lambda <= tolerance}, checked on an
 * explicitly recomputed {@code A V} before the solver stops. The block carries guard vectors beyond the
 * wanted ones, because the last pairs of a block converge at the rate of the gap to the first pair outside it.
 * A warm start whose first Rayleigh-Ritz residual is worse than {@link Options#poorWarmStart()} for most of the
 * wanted pairs (the median; the small-eigenvalue tail of a kernel moves a lot between checkpoints and is
 * expected to start poorly), or that does
 * not converge within half the iteration budget, is abandoned for a cold (seeded random) start.
 */
public final class TopEigenSolver {
    /** Block columns that are random in every start, warm or cold. */
    private static final int RANDOM_GUARD = 2;
    /** Eigenvalues below this fraction of the largest count as zero: their residual is measured against it. */
    public static final double ZERO_EIGENVALUE = 1e-8;

    private TopEigenSolver() {
    }

    /**
     * @param tolerance     relative residual {@code ||A v - lambda v|| / lambda} every wanted pair must reach
     * @param maxIterations iterations per start (a cold restart after a failed warm start gets its own budget)
     * @param guard         extra block columns beyond the wanted pairs; 0 chooses {@code max(8, k / 8)}
     * @param poorWarmStart a warm start whose initial median residual over the wanted pairs exceeds this is
     *                      replaced by a cold one (a random start's residuals are near 1)
     * @param seed          seed of the random start vectors (results are reproducible)
     */
    public record Options(double tolerance, int maxIterations, int guard, double poorWarmStart, long seed) {
        /** Residual 1e-6, 200 iterations, automatic guard, warm starts abandoned above residual 0.5. */
        public static final Options DEFAULT = new Options(1e-6, 200, 0, 0.5, 0x5eedL);

        public Options {
            if (!(tolerance > 0) || tolerance >= 1) {
                throw new IllegalArgumentException("tolerance must be in (0, 1), got " + tolerance);
            }
            if (maxIterations < 1) {
                throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
            }
            if (guard < 0) {
                throw new IllegalArgumentException("guard must be >= 0, got " + guard);
            }
            if (!(poorWarmStart > 0)) {
                throw new IllegalArgumentException("poorWarmStart must be > 0, got " + poorWarmStart);
            }
        }

        public Options withTolerance(double t) {
            return new Options(t, maxIterations, guard, poorWarmStart, seed);
        }
    }

    /** How a solve went. */
    public enum Start {
        WARM("warm"), COLD("cold");

        private final String label;

        Start(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * @param start      how the accepted solve began
     * @param fellBack   a warm start was offered but abandoned for a cold one
     * @param iterations LOBPCG iterations of the accepted solve (plus those of an abandoned warm start)
     * @param products   operator-vector products in total (the cost measure that does not depend on the machine)
     * @param residual   worst {@code ||A v - lambda v|| / lambda} over the wanted pairs
     * @param converged  every wanted pair reached the tolerance
     */
    public record Report(Start start, boolean fellBack, int iterations, long products, double residual,
                         boolean converged) {
    }

    /**
     * @param pairs the wanted pairs
     * @param basis the whole final block (wanted pairs and guard vectors): the best warm start for a nearby operator
     */
    public record Solution(Eigenpairs pairs, Matrix basis, Report report) {
    }

    /**
     * The {@code k} largest eigenpairs of {@code a}.
     *
     * @param warm n x w previous eigenvectors (any w; orthonormality not required), or null for a cold start
     */
    public static Solution solve(SymmetricOperator a, int k, Matrix warm, Options options) {
        int n = a.size();
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("need 1 <= k <= n, got k=" + k + " n=" + n);
        }
        int m = blockSize(k, n, options);
        if (3 * m >= n) {
            throw new IllegalArgumentException("a block of " + m + " vectors is too large for n=" + n
                    + "; decompose the formed matrix instead (SymmetricEigen)");
        }
        if (usableWarm(warm, n)) {
            Run run = new Run(a, k, m, options, Math.max(1, options.maxIterations() / 2));
            if (run.start(warm) && run.iterate()) {
                return run.solution(Start.WARM, false, 0, 0);
            }
            Run cold = new Run(a, k, m, options, options.maxIterations());
            cold.start(null);
            cold.iterate();
            return cold.solution(Start.COLD, true, run.iterations, run.products);
        }
        Run cold = new Run(a, k, m, options, options.maxIterations());
        cold.start(null);
        cold.iterate();
        return cold.solution(Start.COLD, warm != null, 0, 0);
    }

    /**
     * Whether previous eigenvectors can seed a solve on side {@code n}: the same rows, at least one column, and
     * finite throughout (a basis restored from a damaged store or a diverged checkpoint must not turn every later
     * solve into NaN). A warm start offered but not usable is reported as a fall-back to a cold one.
     */
    public static boolean usableWarm(Matrix warm, int n) {
        if (warm == null || warm.rows() != n || warm.cols() == 0) {
            return false;
        }
        for (double v : warm.data()) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Columns of the block for {@code k} wanted pairs: k plus the guard vectors, at most n. */
    public static int blockSize(int k, int n, Options options) {
        int guard = options.guard() > 0 ? options.guard() : Math.max(8, k / 8);
        return Math.min(n, k + guard);
    }

    /** One LOBPCG iteration sequence from one start. */
    private static final class Run {
        private final SymmetricOperator a;
        private final int k;
        private final int m;
        private final Options options;
        private final int budget;
        private Matrix x;
        private Matrix ax;
        private Matrix p;
        private Matrix ap;
        private double[] lambda;
        private double[] residuals;
        int iterations;
        long products;

        Run(SymmetricOperator a, int k, int m, Options options, int budget) {
            this.a = a;
            this.k = k;
            this.m = m;
            this.options = options;
            this.budget = budget;
        }

        /** Builds and Rayleigh-Ritz-rotates the start block; false when a warm start is too poor to keep. */
        boolean start(Matrix warm) {
            int n = a.size();
            Matrix x0 = new Matrix(n, m);
            SplittableRandom rng = new SplittableRandom(options.seed());
            double[] d = x0.data();
            // A few columns stay random even when warm: an exactly invariant but wrong warm subspace would
            // otherwise look converged; random directions expose any top direction it misses.
            int fromWarm = warm == null ? 0 : Math.min(Math.max(k, m - RANDOM_GUARD), warm.cols());
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    d[i * m + j] = j < fromWarm ? warm.get(i, j) : rng.nextDouble() - 0.5;
                }
            }
            x = orthonormalise(x0);
            if (x.cols() < m) {
                // A rank-deficient warm start: top up with fresh random directions.
                Matrix extra = new Matrix(n, m - x.cols());
                double[] e = extra.data();
                for (int i = 0; i < e.length; i++) {
                    e[i] = rng.nextDouble() - 0.5;
                }
                extra = orthonormalise(orthogonalise(extra, x));
                x = concat(x, extra);
            }
            ax = apply(x);
            rayleighRitz();
            residuals();
            return warm == null || medianWanted() <= options.poorWarmStart();
        }

        /** Iterates until every wanted pair converges (true) or the budget is spent (false). */
        boolean iterate() {
            while (true) {
                if (worstWanted() <= options.tolerance()) {
                    // Confirm on an exact product: the recurrences for A X drift by rounding.
                    ax = apply(x);
                    residuals();
                    if (worstWanted() <= options.tolerance()) {
                        return true;
                    }
                }
                if (iterations >= budget) {
                    return false;
                }
                iterations++;
                step();
                residuals();
            }
        }

        private void step() {
            int n = a.size();
            int[] active = activeColumns();
            Matrix r = new Matrix(n, active.length);
            double[] rd = r.data();
            double[] xd = x.data();
            double[] axd = ax.data();
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < active.length; c++) {
                    int j = active[c];
                    rd[i * active.length + c] = axd[i * m + j] - lambda[j] * xd[i * m + j];
                }
            }
            // W: the residuals of the unconverged columns, orthonormal to X and P (two passes for stability).
            Matrix w = r;
            for (int pass = 0; pass < 2 && w.cols() > 0; pass++) {
                w = project(w, x);
                if (p != null) {
                    w = project(w, p);
                }
                w = orthonormalise(w);
            }
            if (w.cols() == 0) {
                return;
            }
            rayleighRitz(w, apply(w), active);
        }

        /** Columns whose residual is above tolerance (guard columns included: they pull the wanted ones). */
        private int[] activeColumns() {
            int count = 0;
            int[] out = new int[m];
            for (int j = 0; j < m; j++) {
                if (residuals[j] > options.tolerance()) {
                    out[count++] = j;
                }
            }
            return Arrays.copyOf(out, count);
        }

        /** Rayleigh-Ritz of the start block X alone. */
        private void rayleighRitz() {
            Matrix h = Blas.multiply(x, true, ax, false);
            symmetrise(h);
            Eigenpairs e = SymmetricEigen.topRobust(h, m);
            x = Blas.multiply(x, false, e.vectors(), false);
            ax = Blas.multiply(ax, false, e.vectors(), false);
            lambda = Arrays.copyOf(e.values(), m);
            p = null;
            ap = null;
        }

        /**
         * Rayleigh-Ritz on the orthonormal basis {@code [X | P | W]}. X holds Ritz vectors, so its block of the
         * projected matrix is {@code diag(lambda)} and only the rows of Q = [P | W] are computed: with soft locking
         * Q shrinks as pairs converge, and a warm-started iteration costs little more than its operator products.
         * The new P (the LOBPCG search direction) keeps only the still-active columns.
         */
        private void rayleighRitz(Matrix w, Matrix aw, int[] active) {
            Matrix q = p == null ? w : concat(p, w);
            Matrix aq = p == null ? aw : concat(ap, aw);
            int qc = q.cols();
            int s = m + qc;
            Matrix hqx = Blas.multiply(q, true, ax, false);
            Matrix hqq = Blas.multiply(q, true, aq, false);
            Matrix h = new Matrix(s, s);
            double[] hd = h.data();
            for (int i = 0; i < m; i++) {
                hd[i * s + i] = lambda[i];
            }
            for (int i = 0; i < qc; i++) {
                for (int j = 0; j < m; j++) {
                    double v = hqx.get(i, j);
                    hd[(m + i) * s + j] = v;
                    hd[j * s + m + i] = v;
                }
                for (int j = 0; j < qc; j++) {
                    hd[(m + i) * s + m + j] = hqq.get(i, j);
                }
            }
            symmetrise(h);
            Eigenpairs e = SymmetricEigen.topRobust(h, m);
            Matrix c = e.vectors();
            Matrix cx = c.rowRange(0, m);
            Matrix cq = c.rowRange(m, s);
            Matrix newX = Blas.multiply(x, false, cx, false);
            Blas.gemm(1.0, q, false, cq, false, 1.0, newX);
            Matrix newAx = Blas.multiply(ax, false, cx, false);
            Blas.gemm(1.0, aq, false, cq, false, 1.0, newAx);
            Matrix cqActive = selectColumns(cq, active);
            Matrix newP = Blas.multiply(q, false, cqActive, false);
            Matrix newAp = Blas.multiply(aq, false, cqActive, false);
            // Orthogonalise P against the new X, carrying A P along the same linear combination.
            for (int pass = 0; pass < 2; pass++) {
                Matrix coef = Blas.multiply(newX, true, newP, false);
                Blas.gemm(-1.0, newX, false, coef, false, 1.0, newP);
                Blas.gemm(-1.0, newAx, false, coef, false, 1.0, newAp);
            }
            Matrix t = orthonormalisingTransform(newP);
            p = t == null ? null : Blas.multiply(newP, false, t, false);
            ap = t == null ? null : Blas.multiply(newAp, false, t, false);
            x = newX;
            ax = newAx;
            lambda = Arrays.copyOf(e.values(), m);
        }

        private void residuals() {
            int n = a.size();
            residuals = new double[m];
            double[] xd = x.data();
            double[] axd = ax.data();
            double scale = Math.abs(lambda[0]);
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    double r = axd[i * m + j] - lambda[j] * xd[i * m + j];
                    s += r * r;
                }
                // Relative to lambda_j, but not to a numerically zero eigenvalue of a rank-deficient kernel.
                residuals[j] = Math.sqrt(s) / Math.max(Math.abs(lambda[j]), ZERO_EIGENVALUE * scale + Double.MIN_NORMAL);
            }
        }

        private double medianWanted() {
            double[] r = Arrays.copyOf(residuals, k);
            Arrays.sort(r);
            return r[k / 2];
        }

        private double worstWanted() {
            double worst = 0;
            for (int j = 0; j < k; j++) {
                worst = Math.max(worst, residuals[j]);
            }
            return worst;
        }

        private Matrix apply(Matrix block) {
            products += block.cols();
            Matrix out = a.apply(block);
            if (out.rows() != block.rows() || out.cols() != block.cols()) {
                throw new IllegalArgumentException("operator returned " + out.shape() + " for a " + block.shape()
                        + " block");
            }
            return out;
        }

        Solution solution(Start start, boolean fellBack, int earlierIterations, long earlierProducts) {
            Matrix v = x.columns(0, k);
            double[] values = Arrays.copyOf(lambda, k);
            Columns.fixSigns(v);
            double worst = worstWanted();
            return new Solution(new Eigenpairs(values, v, worst), x,
                    new Report(start, fellBack, iterations + earlierIterations, products + earlierProducts, worst,
                            worst <= options.tolerance()));
        }
    }

    /** {@code w - q (q^T w)} once, q orthonormal. */
    private static Matrix project(Matrix w, Matrix q) {
        Matrix out = w.copy();
        Matrix coef = Blas.multiply(q, true, out, false);
        Blas.gemm(-1.0, q, false, coef, false, 1.0, out);
        return out;
    }

    private static Matrix selectColumns(Matrix a, int[] columns) {
        Matrix out = new Matrix(a.rows(), columns.length);
        for (int i = 0; i < a.rows(); i++) {
            for (int c = 0; c < columns.length; c++) {
                out.set(i, c, a.get(i, columns[c]));
            }
        }
        return out;
    }

    /** {@code w - q (q^T w)} twice (classical Gram-Schmidt with re-orthogonalisation), q orthonormal. */
    static Matrix orthogonalise(Matrix w, Matrix q) {
        Matrix out = w.copy();
        for (int pass = 0; pass < 2; pass++) {
            Matrix coef = Blas.multiply(q, true, out, false);
            Blas.gemm(-1.0, q, false, coef, false, 1.0, out);
        }
        return out;
    }

    /** An orthonormal basis of the columns of {@code w} (near-dependent directions dropped), by SVQB twice. */
    static Matrix orthonormalise(Matrix w) {
        Matrix out = w;
        for (int pass = 0; pass < 2 && out.cols() > 0; pass++) {
            Matrix t = orthonormalisingTransform(out);
            if (t == null) {
                return new Matrix(w.rows(), 0);
            }
            out = Blas.multiply(out, false, t, false);
        }
        return out;
    }

    /**
     * T with {@code (W T)^T (W T) = I}: from the eigen-decomposition of the Gram matrix, keeping directions whose
     * eigenvalue is above 1e-12 of the largest; null when none is.
     */
    private static Matrix orthonormalisingTransform(Matrix w) {
        int c = w.cols();
        if (c == 0) {
            return null;
        }
        Matrix g = Blas.multiply(w, true, w, false);
        symmetrise(g);
        Matrix chol = choleskyTransform(g);
        if (chol != null) {
            return chol;
        }
        Eigenpairs e = SymmetricEigen.topRobust(g, c);
        double[] d = e.values();
        if (!(d[0] > 0)) {
            return null;
        }
        int keep = 0;
        while (keep < c && d[keep] > 1e-12 * d[0]) {
            keep++;
        }
        Matrix t = new Matrix(c, keep);
        for (int i = 0; i < c; i++) {
            for (int j = 0; j < keep; j++) {
                t.set(i, j, e.vectors().get(i, j) / Math.sqrt(d[j]));
            }
        }
        return t;
    }

    /**
     * {@code L^{-T}} for the Cholesky factor of a well-conditioned Gram matrix (Cholesky QR: a c x c factorisation
     * instead of an eigen-decomposition), or null when the Gram matrix is too close to singular for it, in which
     * case the caller drops dependent directions through the eigen-decomposition instead.
     */
    private static Matrix choleskyTransform(Matrix g) {
        int c = g.rows();
        double[] l = g.data().clone();
        // Row-major lower = column-major upper; the factor is read back the same way.
        if (org.bytedeco.openblas.global.openblas.LAPACKE_dpotrf(org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR,
                (byte) 'L', c, l, c) != 0) {
            return null;
        }
        double min = Double.MAX_VALUE;
        double max = 0;
        for (int i = 0; i < c; i++) {
            double d = Math.abs(l[i * c + i]);
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        // diag(L)^2 tracks the Gram's conditioning; beyond 1e8 Cholesky QR loses orthogonality.
        if (!(min > 1e-4 * max)) {
            return null;
        }
        if (org.bytedeco.openblas.global.openblas.LAPACKE_dtrtri(org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR,
                (byte) 'L', (byte) 'N', c, l, c) != 0) {
            return null;
        }
        Matrix t = new Matrix(c, c);
        double[] td = t.data();
        for (int i = 0; i < c; i++) {
            for (int j = 0; j <= i; j++) {
                td[j * c + i] = l[i * c + j];
            }
        }
        return t;
    }

    /** Averages {@code h} with its transpose in place (rounding leaves products like Q^T A Q slightly asymmetric). */
    static Matrix symmetrise(Matrix h) {
        int s = h.rows();
        double[] d = h.data();
        for (int i = 0; i < s; i++) {
            for (int j = 0; j < i; j++) {
                double v = 0.5 * (d[i * s + j] + d[j * s + i]);
                d[i * s + j] = v;
                d[j * s + i] = v;
            }
        }
        return h;
    }

    private static Matrix concat(Matrix... blocks) {
        int rows = blocks[0].rows();
        int cols = 0;
        for (Matrix b : blocks) {
            cols += b.cols();
        }
        Matrix out = new Matrix(rows, cols);
        double[] od = out.data();
        int offset = 0;
        for (Matrix b : blocks) {
            int bc = b.cols();
            double[] bd = b.data();
            for (int i = 0; i < rows; i++) {
                System.arraycopy(bd, i * bc, od, i * cols + offset, bc);
            }
            offset += bc;
        }
        return out;
    }
}

package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.openblas.global.openblas;

import java.util.SplittableRandom;

/**
 * Dense symmetric eigensolver (LAPACK through OpenBLAS). One Householder tridiagonalisation serves both
 * requests: all eigenvalues by the root-free QR ({@code dsterf}) and only the leading eigenvectors, by inverse
 * iteration on the tridiagonal ({@code dstein}, or MRRR {@code dstemr} when the tridiagonal splits) plus
 * back-transformation. Asking for 200 values and 113 vectors of an 841 x 841 kernel costs about three
 * tridiagonalisations, not the full decomposition's seven.
 */
public final class SymmetricEigen {
    /** Random probe vectors of the residual estimate ({@link #estimatedResidual}). */
    private static final int RESIDUAL_PROBES = 4;

    private SymmetricEigen() {
    }

    /** All eigenpairs. */
    public static Eigenpairs full(Matrix a) {
        return top(a, a.rows(), a.rows());
    }

    /**
     * The {@code k} largest eigenvalues of {@code a} (descending) and the eigenvectors of the first
     * {@code vectors} of them. The result's residual is {@link #estimatedResidual}.
     */
    public static Eigenpairs top(Matrix a, int k, int vectors) {
        return top(a, k, vectors, Precision.FLOAT64);
    }

    /**
     * As {@link #top(Matrix, int, int)}, with the reduction and back-transformation in the given precision; the
     * residual is always measured against {@code a} in double precision.
     */
    public static Eigenpairs top(Matrix a, int k, int vectors, Precision precision) {
        int n = a.rows();
        if (a.cols() != n) {
            throw new IllegalArgumentException("eigen decomposition needs a square matrix, got " + a.shape());
        }
        if (k < 0 || vectors < 0 || vectors > k) {
            throw new IllegalArgumentException("need 0 <= vectors <= k, got k=" + k + " vectors=" + vectors);
        }
        k = Math.min(k, n);
        vectors = Math.min(vectors, k);
        if (n == 0 || k == 0) {
            return new Eigenpairs(new double[0], new Matrix(n, 0), 0.0);
        }
        for (double v : a.data()) {
            if (!Double.isFinite(v)) {
                throw new ArithmeticException("matrix has a non-finite entry (" + v + "); no spectrum");
            }
        }
        try (Reduction r = precision == Precision.FLOAT32 ? new Reduction32(a) : new Reduction64(a)) {
            return decompose(r, n, k, vectors, a::times);
        }
    }

    /**
     * As {@link #top(Matrix, int, int)} (float64) for a matrix known by its terms: formed once in this thread's native
     * scratch ({@link SymmetricOperator#addUpperTo}, the upper triangle only, which is all the reduction reads) and
     * reduced there in place. No n x n matrix is allocated on the heap or copied across (the heap path forms each
     * term, sums them, checks and copies the sum: about a fifth of a p = 29 checkpoint's analysis). The residual is
     * estimated on a native copy taken before the reduction.
     */
    public static Eigenpairs topFormed(SymmetricOperator a, int k, int vectors) {
        int n = a.size();
        if (k < 0 || vectors < 0 || vectors > k) {
            throw new IllegalArgumentException("need 0 <= vectors <= k, got k=" + k + " vectors=" + vectors);
        }
        k = Math.min(k, n);
        vectors = Math.min(vectors, k);
        if (n == 0 || k == 0) {
            return new Eigenpairs(new double[0], new Matrix(n, 0), 0.0);
        }
        long size = (long) n * n;
        NativeScratch scratch = NativeScratch.get();
        DoublePointer m = scratch.buffer(3, size);
        m.fill(0);
        a.addUpperTo(m, 1.0);
        java.nio.DoubleBuffer upper = FormedUpper.buffer(m, n);
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double v = upper.get(i * n + j);
                if (!Double.isFinite(v)) {
                    throw new ArithmeticException("matrix has a non-finite entry (" + v + "); no spectrum");
                }
            }
        }
        DoublePointer kept = scratch.buffer(KEPT_SLOT, size);
        org.bytedeco.javacpp.Pointer.memcpy(kept, m, size * Double.BYTES);
        try (Reduction r = new Reduction64(m, n)) {
            return decompose(r, n, k, vectors, x -> upperTimes(kept, n, x));
        }
    }

    /** Scratch slot of the copy {@link #topFormed} keeps for its residual (the reduction overwrites the matrix). */
    private static final int KEPT_SLOT = 4;

    /** {@code A X} for a symmetric A held as its upper triangle (row-major) in native memory. */
    private static Matrix upperTimes(DoublePointer a, int n, Matrix x) {
        int c = x.cols();
        Matrix y = new Matrix(n, c);
        try (DoublePointer px = new DoublePointer(x.data()); DoublePointer py = new DoublePointer((long) n * c)) {
            openblas.cblas_dsymm(openblas.CblasRowMajor, openblas.CblasLeft, openblas.CblasUpper, n, c, 1.0, a, n,
                    px, c, 0.0, py, c);
            py.get(y.data());
        }
        return y;
    }

    /** The eigenpairs from a reduction of an n x n matrix whose products with a block {@code times} gives. */
    private static Eigenpairs decompose(Reduction r, int n, int k, int vectors,
                                        java.util.function.UnaryOperator<Matrix> times) {
        double[] dd = r.diagonal();
        double[] ee = r.offDiagonal();
        double[] all = dd.clone();
        try (DoublePointer dv = new DoublePointer(all); DoublePointer ev = new DoublePointer(ee.clone())) {
            check("dsterf", openblas.LAPACKE_dsterf(n, dv, ev));
            dv.get(all);
        }
        double[] values = new double[k];
        for (int i = 0; i < k; i++) {
            values[i] = all[n - 1 - i];
        }
        if (vectors == 0) {
            return new Eigenpairs(values, new Matrix(n, 0), 0.0);
        }
        double[] zz = splits(dd, ee) ? mrrr(dd, ee, n, vectors) : inverseIteration(dd, ee, all, n, vectors);
        r.backTransform(zz, vectors);
        Matrix vec = new Matrix(n, vectors);
        double[] vd = vec.data();
        // The tridiagonal solvers return ascending order; column j of the result is the (j+1)-th largest.
        for (int j = 0; j < vectors; j++) {
            int src = (vectors - 1 - j) * n;
            double best = 0;
            for (int i = 0; i < n; i++) {
                double v = zz[src + i];
                if (Math.abs(v) > Math.abs(best)) {
                    best = v;
                }
            }
            double sign = best < 0 ? -1.0 : 1.0;
            for (int i = 0; i < n; i++) {
                vd[i * vectors + j] = sign * zz[src + i];
            }
        }
        return new Eigenpairs(values, vec, estimatedResidual(times, values, vec));
    }

    /**
     * A Householder tridiagonalisation {@code A = Q T Q^T} held in native memory: the tridiagonal in double
     * precision, and {@code Z <- Q Z} for eigenvectors of T.
     */
    private interface Reduction extends AutoCloseable {
        double[] diagonal();

        double[] offDiagonal();

        /** Applies Q to the first {@code vectors} columns of {@code zz} (n x vectors, column-major). */
        void backTransform(double[] zz, int vectors);

        @Override
        void close();
    }

    private static final class Reduction64 implements Reduction {
        private final int n;
        private final DoublePointer reflectors;
        private final DoublePointer tau;
        private final double[] d;
        private final double[] e;

        Reduction64(Matrix a) {
            // A symmetric row-major matrix is its own column-major transpose: LAPACK reads it in place.
            this(NativeScratch.get().copyOf(3, a.data()), a.rows());
        }

        /** Reduces the n x n matrix at {@code a} in place; only its row-major upper (column-major lower) triangle is read. */
        Reduction64(DoublePointer a, int n) {
            this.n = n;
            reflectors = a;
            tau = new DoublePointer(Math.max(1, n - 1));
            d = new double[n];
            e = new double[Math.max(1, n - 1)];
            try (DoublePointer dp = new DoublePointer(n); DoublePointer ep = new DoublePointer(Math.max(1, n - 1))) {
                check("dsytrd", openblas.LAPACKE_dsytrd(openblas.LAPACK_COL_MAJOR, (byte) 'L', n, reflectors, n,
                        dp, ep, tau));
                dp.get(d);
                ep.get(e);
            }
        }

        @Override
        public double[] diagonal() {
            return d;
        }

        @Override
        public double[] offDiagonal() {
            return e;
        }

        @Override
        public void backTransform(double[] zz, int vectors) {
            SymmetricEigen.backTransform(reflectors, tau, n, zz, vectors);
        }

        @Override
        public void close() {
            tau.close();
        }
    }

    /** Single-precision reduction ({@code ssytrd}/{@code sormtr}); T is widened to double for its own solve. */
    private static final class Reduction32 implements Reduction {
        private final int n;
        private final FloatPointer reflectors;
        private final FloatPointer tau;
        private final double[] d;
        private final double[] e;

        Reduction32(Matrix a) {
            n = a.rows();
            double[] src = a.data();
            float[] f = new float[src.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) src[i];
            }
            reflectors = NativeScratch.get().floatBuffer(0, f.length);
            reflectors.put(f, 0, f.length);
            tau = new FloatPointer(Math.max(1, n - 1));
            float[] fd = new float[n];
            float[] fe = new float[Math.max(1, n - 1)];
            try (FloatPointer dp = new FloatPointer(n); FloatPointer ep = new FloatPointer(Math.max(1, n - 1))) {
                check("ssytrd", openblas.LAPACKE_ssytrd(openblas.LAPACK_COL_MAJOR, (byte) 'L', n, reflectors, n,
                        dp, ep, tau));
                dp.get(fd);
                ep.get(fe);
            }
            d = new double[n];
            e = new double[fe.length];
            for (int i = 0; i < n; i++) {
                d[i] = fd[i];
            }
            for (int i = 0; i < fe.length; i++) {
                e[i] = fe[i];
            }
        }

        @Override
        public double[] diagonal() {
            return d;
        }

        @Override
        public double[] offDiagonal() {
            return e;
        }

        @Override
        public void backTransform(double[] zz, int vectors) {
            int half = vectors >= PARALLEL_BACK_TRANSFORM ? vectors / 2 : vectors;
            if (half == vectors) {
                applyQ32(reflectors, tau, n, zz, 0, vectors);
                return;
            }
            // Own copies for the second thread, for the reason given at backTransform (sormtr writes into them).
            FloatPointer ownReflectors = NativeScratch.get().floatBuffer(1, (long) n * n);
            org.bytedeco.javacpp.Pointer.memcpy(ownReflectors, reflectors, (long) n * n * Float.BYTES);
            try (FloatPointer ownTau = new FloatPointer(Math.max(1, n - 1))) {
                org.bytedeco.javacpp.Pointer.memcpy(ownTau, tau, (long) Math.max(1, n - 1) * Float.BYTES);
                java.util.concurrent.CompletableFuture<Void> other = java.util.concurrent.CompletableFuture.runAsync(
                        () -> applyQ32(ownReflectors, ownTau, n, zz, half, vectors));
                applyQ32(reflectors, tau, n, zz, 0, half);
                other.join();
            }
        }

        @Override
        public void close() {
            tau.close();
        }
    }

    private static void applyQ32(FloatPointer reflectors, FloatPointer tau, int n, double[] zz, int from, int to) {
        int cols = to - from;
        float[] f = new float[n * cols];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) zz[from * n + i];
        }
        try (FloatPointer z = new FloatPointer(f)) {
            check("sormtr", openblas.LAPACKE_sormtr(openblas.LAPACK_COL_MAJOR, (byte) 'L', (byte) 'L',
                    (byte) 'N', n, cols, reflectors, n, tau, z, n));
            z.get(f);
        }
        for (int i = 0; i < f.length; i++) {
            zz[from * n + i] = f[i];
        }
    }

    /**
     * The {@code k} largest eigenpairs of a small symmetric matrix by LAPACK {@code dsyevr} (MRRR with its own
     * bisection and inverse-iteration fallback): slower than {@link #top} on large kernels, but sure of the tight
     * clusters that Rayleigh-Ritz and Gram matrices of nearly orthonormal blocks produce; where MRRR itself gives
     * up (exact multiplicities), divide and conquer ({@code dsyevd}) takes over.
     */
    public static Eigenpairs topRobust(Matrix a, int k) {
        int n = a.rows();
        if (a.cols() != n || k < 0 || k > n) {
            throw new IllegalArgumentException("need a square matrix and 0 <= k <= n, got " + a.shape() + ", k=" + k);
        }
        if (k == 0) {
            return new Eigenpairs(new double[0], new Matrix(n, 0), 0.0);
        }
        double[] w = new double[n];
        double[] z = new double[n * k];
        int[] found = new int[1];
        int[] support = new int[2 * k];
        // Row-major symmetric input is its own column-major transpose; the output z is n x k column-major.
        int info = openblas.LAPACKE_dsyevr(openblas.LAPACK_COL_MAJOR, (byte) 'V', (byte) 'I', (byte) 'L', n,
                a.data().clone(), n, 0.0, 0.0, n - k + 1, n, 0.0, found, w, z, n, support);
        if (info > 0) {
            // MRRR gave up: seen on exact multiplicities (a read-out's dual repeats every eigenvalue once per
            // class). Divide and conquer handles them; all pairs are computed and the top k kept.
            double[] all = a.data().clone();
            check("dsyevd", openblas.LAPACKE_dsyevd(openblas.LAPACK_COL_MAJOR, (byte) 'V', (byte) 'L', n, all, n, w));
            // Ascending like dsyevr's output: the top k values and their columns are the last k.
            System.arraycopy(all, (n - k) * n, z, 0, n * k);
            System.arraycopy(w, n - k, w, 0, k);
        } else {
            check("dsyevr", info);
        }
        double[] values = new double[k];
        Matrix vec = new Matrix(n, k);
        double[] vd = vec.data();
        for (int j = 0; j < k; j++) {
            int src = (k - 1 - j) * n;
            values[j] = w[k - 1 - j];
            for (int i = 0; i < n; i++) {
                vd[i * k + j] = z[src + i];
            }
        }
        return new Eigenpairs(values, Columns.normaliseWithSign(vec), 0.0);
    }

    /** Columns at least this many: the back-transformation is split across two threads. */
    private static final int PARALLEL_BACK_TRANSFORM = 32;

    /**
     * {@code Z <- Q Z} with the Householder reflectors of {@code dsytrd}. Columns are independent, so two
     * halves run on two threads; each thread gets its own copy of the reflectors, because LAPACK's
     * {@code dorm2l}/{@code dorm2r} write a temporary 1 into the reflector array while applying it (sharing
     * the array between threads gives wrong, run-dependent vectors).
     */
    private static void backTransform(DoublePointer reflectors, DoublePointer tau, int n, double[] zz, int vectors) {
        int half = vectors >= PARALLEL_BACK_TRANSFORM ? vectors / 2 : vectors;
        if (half == vectors) {
            applyQ(reflectors, tau, n, zz, 0, vectors);
            return;
        }
        // The copy lives in this thread's reusable scratch (no fresh pages to fault in); this thread does not
        // touch that slot again before joining.
        DoublePointer ownReflectors = NativeScratch.get().buffer(1, (long) n * n);
        org.bytedeco.javacpp.Pointer.memcpy(ownReflectors, reflectors, (long) n * n * Double.BYTES);
        try (DoublePointer ownTau = new DoublePointer(Math.max(1, n - 1))) {
            org.bytedeco.javacpp.Pointer.memcpy(ownTau, tau, (long) Math.max(1, n - 1) * Double.BYTES);
            java.util.concurrent.CompletableFuture<Void> other = java.util.concurrent.CompletableFuture.runAsync(
                    () -> applyQ(ownReflectors, ownTau, n, zz, half, vectors));
            applyQ(reflectors, tau, n, zz, 0, half);
            other.join();
        }
    }

    private static void applyQ(DoublePointer reflectors, DoublePointer tau, int n, double[] zz, int from, int to) {
        int cols = to - from;
        try (DoublePointer z = new DoublePointer((long) n * cols)) {
            z.put(zz, from * n, cols * n);
            check("dormtr", openblas.LAPACKE_dormtr(openblas.LAPACK_COL_MAJOR, (byte) 'L', (byte) 'L',
                    (byte) 'N', n, cols, reflectors, n, tau, z, n));
            z.get(zz, from * n, cols * n);
        }
    }

    /** True when an off-diagonal entry is negligible, so the tridiagonal falls apart into blocks. */
    private static boolean splits(double[] d, double[] e) {
        double eps = Math.ulp(1.0);
        for (int i = 0; i + 1 < d.length; i++) {
            if (Math.abs(e[i]) <= eps * Math.sqrt(Math.abs(d[i])) * Math.sqrt(Math.abs(d[i + 1]))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Eigenvectors of the unsplit tridiagonal for its largest {@code vectors} eigenvalues (ascending). Inverse
     * iteration orthogonalises only within clusters of close eigenvalues, so the set is split at the widest
     * gap near its middle and the two halves run on two threads.
     */
    private static double[] inverseIteration(double[] d, double[] e, double[] ascending, int n, int vectors) {
        double[] w = new double[vectors];
        System.arraycopy(ascending, n - vectors, w, 0, vectors);
        int split = vectors >= PARALLEL_BACK_TRANSFORM ? clusterSafeSplit(w, oneNorm(d, e)) : -1;
        if (split < 0) {
            double[] z = stein(d, e, w, 0, vectors, n);
            return z != null ? z : mrrr(d, e, n, vectors);
        }
        java.util.concurrent.CompletableFuture<double[]> upper =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> stein(d, e, w, split, vectors, n));
        double[] lower = stein(d, e, w, 0, split, n);
        double[] high = upper.join();
        if (lower == null || high == null) {
            return mrrr(d, e, n, vectors);
        }
        double[] z = new double[n * vectors];
        System.arraycopy(lower, 0, z, 0, lower.length);
        System.arraycopy(high, 0, z, lower.length, high.length);
        return z;
    }

    /** The 1-norm of the tridiagonal, the scale of {@code dstein}'s cluster test. */
    private static double oneNorm(double[] d, double[] e) {
        double norm = 0;
        for (int i = 0; i < d.length; i++) {
            double v = Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i + 1 < d.length ? Math.abs(e[i]) : 0);
            norm = Math.max(norm, v);
        }
        return norm;
    }

    /**
     * An index in the middle third of the ascending values where the gap to the previous value is the widest,
     * or -1 when no gap there exceeds {@code dstein}'s cluster tolerance ({@code 1e-3 ||T||_1}): only then do
     * the two halves share no cluster, so no orthogonalisation is lost by solving them apart.
     */
    private static int clusterSafeSplit(double[] w, double oneNorm) {
        int best = -1;
        double bestGap = 0;
        double scale = oneNorm;
        for (int i = w.length / 3; i < 2 * w.length / 3; i++) {
            double gap = w[i] - w[i - 1];
            if (gap > bestGap) {
                bestGap = gap;
                best = i;
            }
        }
        return bestGap > 1e-3 * scale ? best : -1;
    }

    /** Inverse iteration for the ascending eigenvalues {@code w[from..to)}; null if it did not converge. */
    private static double[] stein(double[] d, double[] e, double[] w, int from, int to, int n) {
        int count = to - from;
        double[] ev = new double[n];
        System.arraycopy(e, 0, ev, 0, Math.min(e.length, n - 1));
        // LAPACK declares W(N) and LAPACKE_dstein NaN-checks all n entries, not the m used: a count-long buffer
        // made it read past its end (garbage, or a SIGSEGV when the buffer ended at a page). Zero-padded to n.
        double[] wn = new double[n];
        System.arraycopy(w, from, wn, 0, count);
        try (DoublePointer dp = new DoublePointer(d);
             DoublePointer ep = new DoublePointer(ev);
             DoublePointer wp = new DoublePointer(wn);
             IntPointer block = new IntPointer(n);
             IntPointer split = new IntPointer(n);
             DoublePointer z = new DoublePointer((long) n * count);
             IntPointer fail = new IntPointer(count)) {
            for (int i = 0; i < count; i++) {
                block.put(i, 1);
            }
            split.put(0, n);
            int info = openblas.LAPACKE_dstein(openblas.LAPACK_COL_MAJOR, n, dp, ep, count, wp, block, split, z, n,
                    fail);
            if (info != 0) {
                return null;
            }
            double[] zz = new double[n * count];
            z.get(zz);
            return zz;
        }
    }

    private static double[] mrrr(double[] d, double[] e, int n, int vectors) {
        try (DoublePointer dv = new DoublePointer(d.clone());
             DoublePointer ev = new DoublePointer(n);
             DoublePointer w = new DoublePointer(n);
             DoublePointer z = new DoublePointer((long) n * vectors);
             IntPointer m = new IntPointer(1);
             IntPointer isuppz = new IntPointer(2L * vectors);
             IntPointer tryrac = new IntPointer(1)) {
            ev.put(e, 0, Math.min(e.length, n - 1));
            tryrac.put(0, 1);
            check("dstemr", openblas.LAPACKE_dstemr(openblas.LAPACK_COL_MAJOR, (byte) 'V', (byte) 'I', n, dv, ev,
                    0.0, 0.0, n - vectors + 1, n, m, w, z, n, vectors, isuppz, tryrac));
            if (m.get() != vectors) {
                throw new ArithmeticException("dstemr found " + m.get() + " of " + vectors + " eigenvectors");
            }
            double[] zz = new double[n * vectors];
            z.get(zz);
            return zz;
        }
    }

    /** {@code ||A V - V diag(values)||_F / ||A V||_F} over the columns of {@code v}, exactly. */
    public static double residual(Matrix a, double[] values, Matrix v) {
        Matrix av = a.times(v);
        double num = 0;
        double den = 0;
        int n = v.rows();
        int c = v.cols();
        double[] avd = av.data();
        double[] vd = v.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                double x = avd[i * c + j];
                double r = x - values[j] * vd[i * c + j];
                num += r * r;
                den += x * x;
            }
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    /**
     * An unbiased estimate of the squared numerator and denominator of {@link #residual} from a few fixed
     * Gaussian combinations of the columns ({@code E ||R w||^2 = ||R||_F^2}): a handful of matrix-vector
     * products instead of a full product with every vector.
     */
    public static double estimatedResidual(Matrix a, double[] values, Matrix v) {
        return estimatedResidual(a::times, values, v);
    }

    private static double estimatedResidual(java.util.function.UnaryOperator<Matrix> a, double[] values, Matrix v) {
        int c = v.cols();
        if (c == 0) {
            return 0.0;
        }
        SplittableRandom rng = new SplittableRandom(0x5eed);
        Matrix w = new Matrix(c, RESIDUAL_PROBES);
        Matrix lw = new Matrix(c, RESIDUAL_PROBES);
        for (int j = 0; j < c; j++) {
            for (int t = 0; t < RESIDUAL_PROBES; t++) {
                double g = gaussian(rng);
                w.set(j, t, g);
                lw.set(j, t, values[j] * g);
            }
        }
        Matrix vw = v.times(w);
        Matrix avw = a.apply(vw);
        Matrix vlw = v.times(lw);
        double num = 0;
        double den = 0;
        double[] x = avw.data();
        double[] y = vlw.data();
        for (int i = 0; i < x.length; i++) {
            double r = x[i] - y[i];
            num += r * r;
            den += x[i] * x[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1.0 - rng.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * rng.nextDouble());
    }

    static void check(String routine, int info) {
        if (info != 0) {
            throw new ArithmeticException(routine + " failed with info=" + info);
        }
    }
}

package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.openblas.global.openblas;

/**
 * Dense symmetric eigensolver (LAPACK through OpenBLAS). One Householder tridiagonalisation serves both
 * requests: all eigenvalues by the root-free QR ({@code dsterf}) and only the leading eigenvectors by MRRR
 * ({@code dstemr}) plus back-transformation, so asking for 200 values and 113 vectors costs little more than
 * the tridiagonalisation itself.
 */
public final class SymmetricEigen {
    private SymmetricEigen() {
    }

    /** All eigenpairs. */
    public static Eigenpairs full(Matrix a) {
        return top(a, a.rows(), a.rows());
    }

    /**
     * The {@code k} largest eigenvalues of {@code a} (descending) and the eigenvectors of the first
     * {@code vectors} of them.
     */
    public static Eigenpairs top(Matrix a, int k, int vectors) {
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
        // A symmetric row-major matrix is its own column-major transpose: LAPACK reads it in place.
        try (DoublePointer pa = new DoublePointer(a.data());
             DoublePointer d = new DoublePointer(n);
             DoublePointer e = new DoublePointer(Math.max(1, n - 1));
             DoublePointer tau = new DoublePointer(Math.max(1, n - 1))) {
            check("dsytrd", openblas.LAPACKE_dsytrd(openblas.LAPACK_COL_MAJOR, (byte) 'L', n, pa, n, d, e, tau));
            double[] dd = new double[n];
            double[] ee = new double[Math.max(1, n - 1)];
            d.get(dd);
            e.get(ee);

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

            Matrix vec = new Matrix(n, vectors);
            try (DoublePointer dv = new DoublePointer(dd);
                 DoublePointer ev = new DoublePointer(n);
                 DoublePointer w = new DoublePointer(n);
                 DoublePointer z = new DoublePointer((long) n * vectors);
                 IntPointer m = new IntPointer(1);
                 IntPointer isuppz = new IntPointer(2L * vectors);
                 IntPointer tryrac = new IntPointer(1)) {
                ev.put(ee, 0, n - 1);
                tryrac.put(0, 1);
                check("dstemr", openblas.LAPACKE_dstemr(openblas.LAPACK_COL_MAJOR, (byte) 'V', (byte) 'I', n, dv, ev,
                        0.0, 0.0, n - vectors + 1, n, m, w, z, n, vectors, isuppz, tryrac));
                if (m.get() != vectors) {
                    throw new ArithmeticException("dstemr found " + m.get() + " of " + vectors + " eigenvectors");
                }
                check("dormtr", openblas.LAPACKE_dormtr(openblas.LAPACK_COL_MAJOR, (byte) 'L', (byte) 'L',
                        (byte) 'N', n, vectors, pa, n, tau, z, n));
                double[] zz = new double[n * vectors];
                z.get(zz);
                double[] wv = new double[vectors];
                w.get(wv);
                // dstemr returns ascending order; column j of the result is the (j+1)-th largest.
                double[] vd = vec.data();
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
                    // The MRRR value for this vector matches dsterf's to rounding; keep one source of truth.
                    values[j] = wv[vectors - 1 - j];
                }
            }
            return new Eigenpairs(values, vec, residual(a, values, vec));
        }
    }

    /** {@code ||A V - V diag(values)||_F / ||A V||_F} over the columns of {@code v}. */
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

    private static void check(String routine, int info) {
        if (info != 0) {
            throw new ArithmeticException(routine + " failed with info=" + info);
        }
    }
}

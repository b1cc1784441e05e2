package io.grokwatch.linalg;

import org.bytedeco.openblas.global.openblas;

/**
 * The leading eigenpairs of a Krylov solver's projected matrix, computed so that a convergence check pays only for
 * what it reads. A check needs the eigenvalues and the last block of rows of each eigenvector (a Ritz pair's
 * residual is {@code ||R s_last||}); the full eigenvectors are needed only at a restart or at the end. So the matrix
 * is reduced to tridiagonal form once ({@code H = Q T Q^T}), T's eigenpairs come from divide and conquer, and Q
 * is applied only to what is asked for: to a few unit vectors for the last rows, to all of
 * T's eigenvectors for the full ones. Against a full decomposition with eigenvectors this halves to thirds the
 * cost of a check on a thousand-vector basis.
 */
final class RitzDecomposition {
    private final int n;
    private final int count;
    /** Householder reflectors of Q below the diagonal (column-major), as dsytrd leaves them. */
    private final double[] reflectors;
    private final double[] tau;
    /** Eigenvalues, descending. */
    private final double[] values;
    /** Eigenvectors of T, n x count column-major, column j for values[j]. */
    private final double[] z;
    private Matrix vectors;

    private RitzDecomposition(int n, int count, double[] reflectors, double[] tau, double[] values, double[] z) {
        this.n = n;
        this.count = count;
        this.reflectors = reflectors;
        this.tau = tau;
        this.values = values;
        this.z = z;
    }

    /** The {@code count} largest eigenpairs of the symmetric {@code a} (only its lower triangle is read). */
    static RitzDecomposition of(Matrix a, int count) {
        int n = a.rows();
        if (a.cols() != n || count < 1 || count > n) {
            throw new IllegalArgumentException("need a square matrix and 1 <= count <= n, got " + a.shape()
                    + ", count=" + count);
        }
        // Row-major symmetric is its own column-major transpose.
        double[] h = a.data().clone();
        double[] d = new double[n];
        double[] e = new double[Math.max(1, n - 1)];
        double[] tau = new double[Math.max(1, n - 1)];
        SymmetricEigen.check("dsytrd", openblas.LAPACKE_dsytrd(openblas.LAPACK_COL_MAJOR, (byte) 'L', n, h, n, d, e,
                tau));
        // Divide and conquer for all of T's eigenpairs rather than MRRR for the wanted ones: after a thick restart
        // T carries the kept Ritz values with couplings at the residual level, which divide and conquer deflates
        // (measured faster per check at p = 113 and TMS m = 40: docs/benchmarks.md), and it has no trouble with
        // (near-)exact multiplicities.
        double[] all = new double[n * n];
        double[] dd = d.clone();
        SymmetricEigen.check("dstedc", openblas.LAPACKE_dstedc(openblas.LAPACK_COL_MAJOR, (byte) 'I', n, dd,
                java.util.Arrays.copyOf(e, n), all, n));
        double[] zAsc = java.util.Arrays.copyOfRange(all, (n - count) * n, n * n);
        double[] ascending = java.util.Arrays.copyOfRange(dd, n - count, n);
        double[] values = new double[count];
        double[] z = new double[n * count];
        for (int j = 0; j < count; j++) {
            values[j] = ascending[count - 1 - j];
            System.arraycopy(zAsc, (count - 1 - j) * n, z, j * n, n);
        }
        return new RitzDecomposition(n, count, h, tau, values, z);
    }

    /** Eigenvalues, descending. */
    double[] values() {
        return values;
    }

    /** The last {@code rows} rows of the eigenvectors: {@code rows x count}, row i is eigenvector row n-rows+i. */
    Matrix lastRows(int rows) {
        if (rows < 0 || rows > n) {
            throw new IllegalArgumentException("rows must be in 0.." + n + ", got " + rows);
        }
        // E^T Q Z = (Q^T E)^T Z with E the last unit vectors.
        double[] c = new double[n * Math.max(rows, 1)];
        for (int i = 0; i < rows; i++) {
            c[i * n + n - rows + i] = 1.0;
        }
        if (rows > 0 && n > 1) {
            SymmetricEigen.check("dormtr", openblas.LAPACKE_dormtr(openblas.LAPACK_COL_MAJOR, (byte) 'L', (byte) 'L',
                    (byte) 'T', n, rows, reflectors, n, tau, c, n));
        }
        Matrix out = new Matrix(rows, count);
        if (rows > 0) {
            // out (row-major rows x count) = C^T Z, i.e. column-major count x rows = Z^T C.
            openblas.cblas_dgemm(openblas.CblasColMajor, openblas.CblasTrans, openblas.CblasNoTrans, count, rows, n,
                    1.0, z, n, c, n, 0.0, out.data(), count);
        }
        return out;
    }

    /** The eigenvectors, n x count (column j for {@link #values()}[j]); computed once. */
    Matrix vectors() {
        if (vectors == null) {
            double[] qz = z.clone();
            if (n > 1) {
                SymmetricEigen.check("dormtr", openblas.LAPACKE_dormtr(openblas.LAPACK_COL_MAJOR, (byte) 'L',
                        (byte) 'L', (byte) 'N', n, count, reflectors, n, tau, qz, n));
            }
            Matrix v = new Matrix(n, count);
            double[] vd = v.data();
            for (int j = 0; j < count; j++) {
                for (int i = 0; i < n; i++) {
                    vd[i * count + j] = qz[j * n + i];
                }
            }
            vectors = v;
        }
        return vectors;
    }
}

package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kernel known by its terms, formed in native memory ({@link SymmetricOperator#addUpperTo}) and decomposed there
 * ({@link SymmetricEigen#topFormed}), against the same kernel formed on the heap and decomposed by
 * {@link SymmetricEigen#top}. Both are float64 dense decompositions of the same matrix up to the rounding of its
 * sums: eigenvalues agree to 1e-12 relative to the largest, vectors to 1e-9 in 1 - |cos|.
 */
class FormedKernelTest {
    private static final int N = 150;

    /** A read-out-like low-rank term, a one-hot sparse Hadamard Gram (scaled) and a dense symmetric matrix. */
    private static List<Object> terms() {
        Random r = new Random(7);
        Matrix f = gaussian(N, 40, r);
        Matrix g = gaussian(N, 12, r);
        // One-hot rows over 10 tokens, two per row, as the embedding of (a, b) pairs.
        Matrix a = new Matrix(N, 20);
        for (int i = 0; i < N; i++) {
            a.set(i, i % 10, 1.0);
            a.set(i, 10 + (i / 10) % 10, 1.0);
        }
        SparseHadamardGram sparse = SparseHadamardGram.of(g, a).orElseThrow();
        Matrix s = SymmetricEigenTest.withSpectrum(decaying(N), 3);
        SymmetricOperator op = SymmetricOperator.sum(List.of(SymmetricOperator.lowRank(f),
                SymmetricOperator.scaled(sparse, 0.3), SymmetricOperator.of(s)));
        Matrix dense = Blas.gram(f).addInPlace(0.3, sparse.formed()).addInPlace(1.0, s);
        return List.of(op, dense);
    }

    @Test
    void formedInNativeMemoryGivesTheSpectrumOfTheHeapMatrix() {
        List<Object> t = terms();
        SymmetricOperator op = (SymmetricOperator) t.get(0);
        Matrix dense = (Matrix) t.get(1);
        Eigenpairs got = SymmetricEigen.topFormed(op, 60, 25);
        Eigenpairs want = SymmetricEigen.top(dense, 60, 25);
        double top = want.values()[0];
        for (int i = 0; i < 60; i++) {
            assertEquals(want.values()[i], got.values()[i], 1e-12 * top, "eigenvalue " + i);
        }
        for (int j = 0; j < 25; j++) {
            double dot = 0;
            for (int i = 0; i < N; i++) {
                dot += want.vectors().get(i, j) * got.vectors().get(i, j);
            }
            assertTrue(1 - Math.abs(dot) < 1e-9, "vector " + j + ": |cos| " + Math.abs(dot));
        }
        assertTrue(got.residual() < 1e-12, "residual " + got.residual());
    }

    @Test
    void everyTermWritesTheUpperTriangleOfItsMatrix() {
        Random r = new Random(11);
        Matrix f = gaussian(N, 9, r);
        Matrix s = SymmetricEigenTest.withSpectrum(decaying(N), 5);
        // An operator known only by its products takes the default route through blocks of the identity.
        SymmetricOperator productsOnly = new SymmetricOperator() {
            @Override
            public int size() {
                return N;
            }

            @Override
            public Matrix apply(Matrix x) {
                return s.times(x);
            }
        };
        for (Object[] c : new Object[][] {{SymmetricOperator.lowRank(f), Blas.gram(f)},
                {SymmetricOperator.of(s), s}, {productsOnly, s},
                {SymmetricOperator.scaled(SymmetricOperator.of(s), -2.0), s.copy().scaleInPlace(-2.0)}}) {
            SymmetricOperator op = (SymmetricOperator) c[0];
            Matrix want = (Matrix) c[1];
            try (DoublePointer k = new DoublePointer((long) N * N)) {
                // A lower triangle that must stay as it was, and an upper one the term adds to.
                k.fill(0);
                for (int i = 0; i < N; i++) {
                    for (int j = 0; j < N; j++) {
                        k.put((long) i * N + j, j < i ? 42.0 : 1.0);
                    }
                }
                op.addUpperTo(k, 1.0);
                for (int i = 0; i < N; i++) {
                    for (int j = 0; j < N; j++) {
                        double expected = j < i ? 42.0 : 1.0 + want.get(i, j);
                        assertEquals(expected, k.get((long) i * N + j), 1e-12 * (1 + Math.abs(expected)),
                                op + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void aNonFiniteTermIsRefused() {
        Matrix f = gaussian(N, 4, new Random(2));
        f.set(3, 1, Double.NaN);
        assertThrows(ArithmeticException.class, () -> SymmetricEigen.topFormed(SymmetricOperator.lowRank(f), 5, 2));
    }

    private static Matrix gaussian(int rows, int cols, Random r) {
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextGaussian();
        }
        return m;
    }

    private static double[] decaying(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = Math.pow(0.95, i);
        }
        return v;
    }
}

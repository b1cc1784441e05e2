package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The formed operator's row-split product against one plain GEMM of the same matrix and block. */
class FormedOperatorTest {
    /** n = 701 with 16 or 33 columns is above {@link TwoWay#MIN_WORK}: split wherever there is a second core. */
    @Test
    void splitProductsEqualTheWholeProduct() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 701;
        Matrix a = new Matrix(n, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = r.nextDouble() - 0.5;
                a.set(i, j, v);
                a.set(j, i, v);
            }
        }
        SymmetricOperator op = SymmetricOperator.of(a);
        for (int b : new int[] {1, 16, 33}) {
            Matrix x = new Matrix(n, b);
            for (int i = 0; i < x.data().length; i++) {
                x.data()[i] = r.nextGaussian();
            }
            Matrix expected = Blas.multiply(a, false, x, false);
            // Twice: the second product reuses the native copy of the matrix.
            for (int round = 0; round < 2; round++) {
                Matrix got = op.apply(x);
                assertEquals(n, got.rows());
                assertEquals(b, got.cols());
                double worst = 0;
                for (int i = 0; i < got.data().length; i++) {
                    worst = Math.max(worst, Math.abs(got.data()[i] - expected.data()[i]));
                }
                // Same GEMM kernel on row halves: equal up to the order of summation (n terms of size ~1).
                assertTrue(worst < 1e-11, "b=" + b + " worst difference " + worst);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> op.apply(new Matrix(n - 1, 2)));
        assertThrows(IllegalArgumentException.class, () -> SymmetricOperator.of(new Matrix(3, 4)));
    }
}

package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code F F^T X} from the native factor against {@code (F F^T) X} or {@code F (F^T X)} formed in Java, to 1e-12 relative. */
class LowRankOperatorTest {

    @Test
    void appliesTheFormedGram() {
        Random r = new Random(4);
        Matrix f = gaussian(r, 60, 9);
        SymmetricOperator op = SymmetricOperator.lowRank(f);
        Matrix formed = Blas.multiply(f, false, f, true);
        for (int b : new int[] {1, 5, 32}) {
            Matrix x = gaussian(r, 60, b);
            // Twice: the second product reuses the native copy of the factor.
            for (int rep = 0; rep < 2; rep++) {
                Matrix expected = formed.times(x);
                Matrix actual = op.apply(x);
                double scale = 0;
                for (double v : expected.data()) {
                    scale = Math.max(scale, Math.abs(v));
                }
                assertEquals(0.0, expected.maxAbsDifference(actual), 1e-12 * scale, "block of " + b);
            }
        }
        assertEquals(60, op.size());
        assertEquals(0, op.apply(new Matrix(60, 0)).cols());
        assertThrows(IllegalArgumentException.class, () -> op.apply(new Matrix(59, 2)));
    }

    @Test
    void largeBlocksSplitOverTwoThreadsGiveTheSameProduct() {
        // 4,000 x 64 factor, blocks of 32: 8M multiply-adds per GEMM, above TwoWay's split threshold.
        Random r = new Random(8);
        Matrix f = gaussian(r, 4000, 64);
        Matrix x = gaussian(r, 4000, 32);
        Matrix expected = f.times(Blas.multiply(f, true, x, false));
        Matrix actual = SymmetricOperator.lowRank(f).apply(x);
        double scale = 0;
        for (double v : expected.data()) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertEquals(0.0, expected.maxAbsDifference(actual), 1e-12 * scale);
    }

    private static Matrix gaussian(Random r, int rows, int cols) {
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextGaussian();
        }
        return m;
    }
}

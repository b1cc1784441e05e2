package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float32 forms of the structured operators against their float64 products on the same block, large enough to
 * split across two threads: the difference must be at single-precision rounding (below 1e-6 of the largest entry of
 * the product; float32 has a unit roundoff of 6e-8) and not zero (the products really ran in float32).
 */
public class SinglePrecisionOperatorsTest {
    private static Matrix random(int rows, int cols, Random r) {
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextGaussian();
        }
        return m;
    }

    private static void assertSingleRounding(SymmetricOperator op, Matrix x) {
        assertSingleRounding(op, x, 1e-6);
    }

    /**
     * The operator's float32 form against its float64 product on {@code x}: within {@code tolerance} of the largest
     * entry, and not equal to it (so float32 arithmetic really ran).
     */
    public static void assertSingleRounding(SymmetricOperator op, Matrix x, double tolerance) {
        SymmetricOperator single = op.inFloat32().orElseThrow();
        assertEquals(op.size(), single.size());
        Matrix want = op.apply(x);
        Matrix got = single.apply(x);
        double scale = 0;
        for (double v : want.data()) {
            scale = Math.max(scale, Math.abs(v));
        }
        double diff = got.maxAbsDifference(want);
        assertTrue(diff <= tolerance * scale, "float32 product off by " + diff + " of scale " + scale);
        assertTrue(diff > 1e-12 * scale, "float32 product identical to float64 (" + diff + "): not single precision");
    }

    @Test
    void formedMatrix() {
        Random r = new Random(1);
        Matrix g = random(600, 300, r);
        Matrix a = Blas.multiply(g, false, g, true);
        assertSingleRounding(SymmetricOperator.of(a), random(600, 24, r));
    }

    @Test
    void lowRankFactor() {
        Random r = new Random(2);
        assertSingleRounding(SymmetricOperator.lowRank(random(3000, 200, r)), random(3000, 16, r));
    }

    @Test
    void sparseHadamardBlocksScaledAndSummed() {
        int p = 13;
        int n = p * p;
        Random r = new Random(3);
        Matrix a = new Matrix(n, 2 * p);
        for (int x = 0; x < n; x++) {
            a.set(x, x / p, 1.0);
            a.set(x, p + x % p, 1.0);
        }
        SymmetricOperator sparse = SparseHadamardGram.of(random(n, 30, r), a).orElseThrow();
        SymmetricOperator whole = SymmetricOperator.sum(List.of(SymmetricOperator.scaled(sparse, 0.25),
                SymmetricOperator.lowRank(random(n, 20, r))));
        assertSingleRounding(sparse, random(n, 8, r));
        assertSingleRounding(whole, random(n, 8, r));
    }

    @Test
    void aSumHasNoSinglePrecisionFormWhenATermHasNone() {
        SymmetricOperator opaque = new SymmetricOperator() {
            @Override
            public int size() {
                return 4;
            }

            @Override
            public Matrix apply(Matrix x) {
                return x.copy();
            }
        };
        SymmetricOperator sum = SymmetricOperator.sum(List.of(opaque, SymmetricOperator.of(Matrix.identity(4))));
        assertTrue(sum.inFloat32().isEmpty());
    }
}

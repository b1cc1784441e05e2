package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SymmetricOperator#applyTo}, the products block Lanczos takes in native memory, against
 * {@link SymmetricOperator#apply} on the heap, for every operator that overrides it and for the default. The blocks
 * sit at an offset inside larger buffers, as the solver's do, and the entries around the output stay untouched.
 */
class NativeProductsTest {
    private static final int BEFORE = 5;
    private static final int AFTER = 7;

    private static Matrix random(int rows, int cols, Random r) {
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextGaussian();
        }
        return m;
    }

    /** applyTo and apply agree to 1e-13 of the product's norm (only the order of additions may differ). */
    private static void agree(SymmetricOperator op, int b, Random r) {
        int n = op.size();
        Matrix x = random(n, b, r);
        Matrix want = op.apply(x);
        try (DoublePointer xs = new DoublePointer((long) n * b + BEFORE + AFTER);
             DoublePointer ys = new DoublePointer((long) n * b + BEFORE + AFTER)) {
            double[] sentinel = new double[n * b + BEFORE + AFTER];
            java.util.Arrays.fill(sentinel, 42.0);
            ys.put(sentinel);
            xs.position(BEFORE).put(x.data());
            op.applyTo(xs, b, new DoublePointer(ys).position(BEFORE));
            double[] got = new double[n * b + BEFORE + AFTER];
            ys.position(0).get(got);
            double diff = 0;
            for (int i = 0; i < n * b; i++) {
                diff = Math.max(diff, Math.abs(got[BEFORE + i] - want.data()[i]));
            }
            assertTrue(diff <= 1e-13 * Math.max(1.0, want.frobeniusNorm()), "max difference " + diff);
            for (int i = 0; i < BEFORE; i++) {
                assertEquals(42.0, got[i]);
            }
            for (int i = 0; i < AFTER; i++) {
                assertEquals(42.0, got[BEFORE + n * b + i]);
            }
        }
    }

    @Test
    void everyOperatorMultipliesANativeBlockAsItMultipliesAHeapOne() {
        Random r = new Random(21);
        int p = 41;
        int n = p * p;
        Matrix a = new Matrix(n, 2 * p);
        for (int x = 0; x < n; x++) {
            a.set(x, x / p, 1.0);
            a.set(x, p + x % p, 1.0);
        }
        SymmetricOperator hadamard = SparseHadamardGram.of(random(n, 12, r), a).orElseThrow();
        SymmetricOperator lowRank = SymmetricOperator.lowRank(random(n, 80, r));
        Matrix f = random(n, 30, r);
        SymmetricOperator formed = SymmetricOperator.of(Blas.multiply(f, false, f, true));
        // An operator with only apply: the default path through the heap.
        SymmetricOperator plain = new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                return Blas.multiply(f, false, Blas.multiply(f, true, x, false), false);
            }
        };
        SymmetricOperator sum = SymmetricOperator.sum(List.of(SymmetricOperator.scaled(hadamard, 0.25), lowRank,
                plain));
        for (SymmetricOperator op : List.of(hadamard, lowRank, formed, plain, sum)) {
            // 32 columns are enough work to split across two cores when a second one exists; 3 are not.
            agree(op, 32, r);
            agree(op, 3, r);
        }
    }
}

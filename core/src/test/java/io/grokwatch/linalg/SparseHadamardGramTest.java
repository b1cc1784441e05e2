package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sparse route against the definition: both N x N Grams formed in full and multiplied entry by entry
 * (agreement to 1e-13 of the largest entry); dense activations are left to the caller.
 */
class SparseHadamardGramTest {

    private static Matrix random(int rows, int cols, Random r) {
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextGaussian();
        }
        return m;
    }

    private static Matrix direct(Matrix f, Matrix a) {
        return Blas.multiply(f, false, f, true).hadamardInPlace(Blas.multiply(a, false, a, true));
    }

    @Test
    void oneHotPairsMatchTheFormedGrams() {
        int p = 11;
        int n = p * p;
        Random r = new Random(7);
        // Concatenated one-hot tokens with arbitrary (scaled) values, as an embedding layer sees them.
        Matrix a = new Matrix(n, 2 * p);
        for (int x = 0; x < n; x++) {
            a.set(x, x / p, 0.3 + r.nextDouble());
            a.set(x, p + x % p, -0.7 - r.nextDouble());
        }
        Matrix f = random(n, 40, r);
        Matrix sparse = SparseHadamardGram.of(f, a).orElseThrow().formed();
        Matrix want = direct(f, a);
        double scale = 0;
        for (double v : want.data()) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertTrue(sparse.maxAbsDifference(want) <= 1e-13 * scale,
                "max difference " + sparse.maxAbsDifference(want) + " of scale " + scale);
        // Exactly symmetric, like every kernel downstream expects.
        assertTrue(sparse.maxAbsDifference(sparse.transpose()) == 0.0);
    }

    @Test
    void irregularSupportsMatch() {
        Random r = new Random(3);
        int n = 150;
        Matrix a = new Matrix(n, 30);
        for (int x = 0; x < n; x++) {
            for (int j = 0; j < 30; j++) {
                if (r.nextDouble() < 0.05) {
                    a.set(x, j, r.nextGaussian());
                }
            }
        }
        Matrix f = random(n, 64, r);
        Matrix want = direct(f, a);
        SparseHadamardGram blocks = SparseHadamardGram.of(f, a).orElseThrow();
        Matrix got = blocks.formed();
        assertTrue(got.maxAbsDifference(want) <= 1e-12 * Math.max(1.0, want.frobeniusNorm()));
        // As an operator: the same products as the formed matrix, without forming it.
        Matrix x = random(n, 7, r);
        Matrix viaBlocks = blocks.apply(x);
        Matrix viaMatrix = Blas.multiply(want, false, x, false);
        assertTrue(viaBlocks.maxAbsDifference(viaMatrix) <= 1e-12 * Math.max(1.0, viaMatrix.frobeniusNorm()));
        assertTrue(blocks.storedEntries() < (long) n * n);
    }

    @Test
    void denseActivationsAreLeftToTheCaller() {
        Random r = new Random(5);
        assertTrue(SparseHadamardGram.of(random(100, 20, r), random(100, 8, r)).isEmpty());
    }

    @Test
    void oneHotProductsReadEvenlySpacedRowsInPlaceAndMatchTheFormedMatrix() {
        // p = 41 with 32 columns is enough work to split the blocks over two cores when a second one exists. Token
        // a's probes are rows a p .. a p + p - 1 (spacing 1), token b's rows b, p + b, ... (spacing p). One extra
        // column with an irregular support takes the gather-and-scatter route in the same product.
        int p = 41;
        int n = p * p;
        Random r = new Random(11);
        Matrix a = new Matrix(n, 2 * p + 1);
        for (int x = 0; x < n; x++) {
            a.set(x, x / p, 1.0);
            a.set(x, p + x % p, 0.5 + r.nextDouble());
            if (r.nextDouble() < 0.03) {
                a.set(x, 2 * p, r.nextGaussian());
            }
        }
        Matrix f = random(n, 24, r);
        SparseHadamardGram blocks = SparseHadamardGram.of(f, a).orElseThrow();
        Matrix x = random(n, 32, r);
        Matrix want = Blas.multiply(blocks.formed(), false, x, false);
        Matrix got = blocks.apply(x);
        assertTrue(got.maxAbsDifference(want) <= 1e-12 * want.frobeniusNorm(),
                "max difference " + got.maxAbsDifference(want) + " of norm " + want.frobeniusNorm());
        // Products are linear and repeatable: the same block twice gives the same answer to the last bit.
        assertTrue(blocks.apply(x).maxAbsDifference(got) == 0.0);
    }

    @Test
    void evenSpacingIsTheCommonDifferenceOrZero() {
        org.junit.jupiter.api.Assertions.assertEquals(1, SparseHadamardGram.evenSpacing(new int[]{4}));
        org.junit.jupiter.api.Assertions.assertEquals(1, SparseHadamardGram.evenSpacing(new int[]{4, 5, 6}));
        org.junit.jupiter.api.Assertions.assertEquals(7, SparseHadamardGram.evenSpacing(new int[]{2, 9, 16, 23}));
        org.junit.jupiter.api.Assertions.assertEquals(0, SparseHadamardGram.evenSpacing(new int[]{2, 9, 17}));
    }
}

package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Orthonormality to 1e-13; reconstruction of the input from Q Q^T to 1e-12 relative. */
class OrthonormalTest {
    @Test
    void basisIsOrthonormalAndSpansTheInput() {
        Matrix a = random(60, 12, 1);
        Matrix q = Orthonormal.columns(a);
        assertEquals(12, q.cols());
        assertTrue(Orthonormal.orthonormalityError(q) < 1e-13);
        Matrix projected = q.times(q.transposeTimes(a));
        assertTrue(projected.maxAbsDifference(a) < 1e-12 * a.frobeniusNorm());
    }

    @Test
    void nearlyDependentAndZeroColumnsAreDropped() {
        Matrix a = random(40, 3, 2);
        Matrix b = new Matrix(40, 5);
        for (int i = 0; i < 40; i++) {
            b.set(i, 0, a.get(i, 0));
            b.set(i, 1, a.get(i, 1));
            b.set(i, 2, a.get(i, 0) - 2 * a.get(i, 1));   // dependent
            b.set(i, 3, 0.0);                                 // zero
            b.set(i, 4, a.get(i, 2));
        }
        Matrix q = Orthonormal.columns(b);
        assertEquals(3, q.cols());
        assertTrue(Orthonormal.orthonormalityError(q) < 1e-13);
        assertEquals(0, Orthonormal.columns(new Matrix(5, 2)).cols());
    }

    @Test
    void anOrthonormalBasisComesBackUnchanged() {
        Matrix q = Orthonormal.columns(random(30, 6, 3));
        assertTrue(Orthonormal.columns(q).maxAbsDifference(q) < 1e-14);
    }

    @Test
    void toleranceMustBeAShare() {
        assertThrows(IllegalArgumentException.class, () -> Orthonormal.columns(new Matrix(2, 2), 1.0));
        assertThrows(IllegalArgumentException.class, () -> Orthonormal.columns(new Matrix(2, 2), Double.NaN));
    }

    private static Matrix random(int rows, int cols, long seed) {
        Random r = new Random(seed);
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = r.nextGaussian();
        }
        return m;
    }
}

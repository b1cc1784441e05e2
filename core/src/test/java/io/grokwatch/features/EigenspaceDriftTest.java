package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Drift as the mean squared sine of the principal angles, on spans whose angles are known; to 1e-12. */
class EigenspaceDriftTest {
    private static final double EXACT = 1e-12;

    @Test
    void theSameSpanInAnotherBasisHasNotMovedAndAnOrthogonalOneHasMovedAllTheWay() {
        Matrix q = Orthonormal.columns(Fixtures.gaussian(3000, 80, 1));
        Matrix rotated = Orthonormal.columns(q.times(Fixtures.gaussian(80, 80, 2)));
        assertEquals(0.0, EigenspaceDrift.between(q, rotated), EXACT);
        Matrix both = Orthonormal.columns(Fixtures.concat(q, Fixtures.gaussian(3000, 80, 3)));
        Matrix orthogonal = both.columns(80, 160);
        assertEquals(1.0, EigenspaceDrift.between(q, orthogonal), EXACT);
    }

    /** Two of four directions turned by 30 and 60 degrees: sin^2 = 1/4 and 3/4, mean over four = 1/4. */
    @Test
    void knownPrincipalAnglesGiveTheirMeanSquaredSine() {
        int n = 10;
        Matrix u = new Matrix(n, 4);
        Matrix v = new Matrix(n, 4);
        for (int j = 0; j < 4; j++) {
            u.set(j, j, 1.0);
            v.set(j, j, 1.0);
        }
        double[] angles = {Math.PI / 6, Math.PI / 3};
        for (int j = 0; j < 2; j++) {
            v.set(j, j, Math.cos(angles[j]));
            v.set(4 + j, j, Math.sin(angles[j]));
        }
        assertEquals(0.25, EigenspaceDrift.between(u, v), EXACT);
        // Only the leading min(cols) columns count: an extra current column changes nothing.
        Matrix wider = Fixtures.concat(v, Orthonormal.columns(Fixtures.gaussian(n, 1, 4)));
        assertEquals(0.25, EigenspaceDrift.between(u, wider), EXACT);
    }

    @Test
    void bothBasesMustLiveOnTheSameProbes() {
        assertThrows(IllegalArgumentException.class,
                () -> EigenspaceDrift.between(new Matrix(5, 2), new Matrix(6, 2)));
    }
}

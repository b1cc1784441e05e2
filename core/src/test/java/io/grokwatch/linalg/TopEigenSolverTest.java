package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LOBPCG against the dense LAPACK decomposition of the same matrix. Test matrices have the shape of eNTK
 * spectra: a few clusters (cliffs) of near-equal eigenvalues over a decaying tail.
 */
class TopEigenSolverTest {
    /** Q diag(values) Q^T with a seeded random orthogonal Q. */
    static Matrix withSpectrum(double[] values, long seed) {
        int n = values.length;
        SplittableRandom r = new SplittableRandom(seed);
        Matrix g = new Matrix(n, n);
        for (int i = 0; i < g.data().length; i++) {
            g.data()[i] = r.nextDouble() - 0.5;
        }
        Matrix q = TopEigenSolver.orthonormalise(g);
        Matrix qd = q.copy();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                qd.set(i, j, q.get(i, j) * values[j]);
            }
        }
        Matrix a = Blas.multiply(qd, false, q, true);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double v = 0.5 * (a.get(i, j) + a.get(j, i));
                a.set(i, j, v);
                a.set(j, i, v);
            }
        }
        return a;
    }

    /** A cliff of 20 values near 10, a cliff of 20 near 3, then a power-law tail; all distinct. */
    static double[] cliffSpectrum(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i < 20 ? 10 + 0.1 * r.nextDouble() : i < 40 ? 3 + 0.05 * r.nextDouble() : 1.0 / Math.pow(i - 38, 0.5);
        }
        return v;
    }

    @Test
    void coldSolveMatchesDenseDecompositionToTheStatedTolerance() {
        Matrix a = withSpectrum(cliffSpectrum(500, 1), 2);
        Eigenpairs dense = SymmetricEigen.full(a);
        TopEigenSolver.Solution s = TopEigenSolver.solve(SymmetricOperator.of(a), 45, null,
                TopEigenSolver.Options.DEFAULT);
        assertTrue(s.report().converged(), s.report().toString());
        assertEquals(TopEigenSolver.Start.COLD, s.report().start());
        // Eigenvalues: a residual of 1e-6 bounds their relative error by ~1e-12 / relative gap; 1e-9 stated here.
        for (int i = 0; i < 45; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-9 * dense.values()[i], "eigenvalue " + i);
        }
        // The reported residual is the true one, recomputed here per column.
        Matrix v = s.pairs().vectors();
        Matrix av = a.times(v);
        for (int j = 0; j < 45; j++) {
            double num = 0;
            for (int i = 0; i < 500; i++) {
                double r = av.get(i, j) - s.pairs().values()[j] * v.get(i, j);
                num += r * r;
            }
            assertTrue(Math.sqrt(num) / s.pairs().values()[j] <= 1e-6, "residual of pair " + j);
        }
        assertTrue(Orthonormal.orthonormalityError(v) < 1e-10);
        // The first cliff's subspace equals the dense one's: sin(angle) <= ||R||_F / gap = sqrt(20) 1e-6 10.1 / 6.9.
        assertEquals(0.0, projectorDistance(v.columns(0, 20), dense.vectors().columns(0, 20)), 7e-6);
    }

    @Test
    void warmStartFromANearbyMatrixConvergesInFewerIterationsToTheSameAccuracy() {
        double[] spectrum = cliffSpectrum(500, 3);
        Matrix a = withSpectrum(spectrum, 4);
        // A nearby operator: a small symmetric perturbation, as between consecutive checkpoints.
        Matrix e = withSpectrum(cliffSpectrum(500, 5), 6).scaleInPlace(1e-3);
        Matrix b = a.copy().addInPlace(1.0, e);
        TopEigenSolver.Solution previous = TopEigenSolver.solve(SymmetricOperator.of(a), 45, null,
                TopEigenSolver.Options.DEFAULT);
        TopEigenSolver.Solution cold = TopEigenSolver.solve(SymmetricOperator.of(b), 45, null,
                TopEigenSolver.Options.DEFAULT);
        TopEigenSolver.Solution warm = TopEigenSolver.solve(SymmetricOperator.of(b), 45,
                previous.basis(), TopEigenSolver.Options.DEFAULT);
        assertEquals(TopEigenSolver.Start.WARM, warm.report().start());
        assertFalse(warm.report().fellBack());
        assertTrue(warm.report().converged() && cold.report().converged());
        // A relative change of ~1e-3 leaves fewer orders of magnitude of residual to remove than a random start.
        assertTrue(warm.report().products() * 3 <= cold.report().products() * 2,
                "warm " + warm.report() + " vs cold " + cold.report());
        Eigenpairs dense = SymmetricEigen.full(b);
        for (int i = 0; i < 45; i++) {
            assertEquals(dense.values()[i], warm.pairs().values()[i], 1e-9 * dense.values()[i], "eigenvalue " + i);
        }
    }

    @Test
    void aPoorWarmStartFallsBackToColdAndSoDoesOneThatDoesNotFit() {
        Matrix a = withSpectrum(cliffSpectrum(400, 7), 8);
        // Vectors orthogonal to the top eigenspace are as poor as a warm start can be.
        Eigenpairs dense = SymmetricEigen.full(a);
        Matrix bottom = dense.vectors().columns(200, 260);
        TopEigenSolver.Solution s = TopEigenSolver.solve(SymmetricOperator.of(a), 40, bottom,
                TopEigenSolver.Options.DEFAULT);
        assertTrue(s.report().fellBack(), s.report().toString());
        assertEquals(TopEigenSolver.Start.COLD, s.report().start());
        assertTrue(s.report().converged());
        TopEigenSolver.Solution other = TopEigenSolver.solve(SymmetricOperator.of(a), 40, new Matrix(399, 40),
                TopEigenSolver.Options.DEFAULT);
        assertEquals(TopEigenSolver.Start.COLD, other.report().start());
        assertTrue(other.report().fellBack(), "a warm start of the wrong size was offered and not used");
        for (int i = 0; i < 40; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-9 * dense.values()[i]);
            assertEquals(dense.values()[i], other.pairs().values()[i], 1e-9 * dense.values()[i]);
        }
    }

    @Test
    void rankDeficientKernelsConvergeOnTheirZeroEigenvalues() {
        // A Gram matrix of rank 30 asked for its top 25 pairs: the block reaches into the null space.
        SplittableRandom r = new SplittableRandom(9);
        Matrix f = new Matrix(300, 30);
        for (int i = 0; i < f.data().length; i++) {
            f.data()[i] = r.nextDouble() - 0.5;
        }
        Matrix a = Blas.gram(f);
        TopEigenSolver.Solution s = TopEigenSolver.solve(SymmetricOperator.of(a), 25, null,
                TopEigenSolver.Options.DEFAULT);
        assertTrue(s.report().converged(), s.report().toString());
        Eigenpairs dense = SymmetricEigen.full(a);
        for (int i = 0; i < 25; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-9 * dense.values()[0]);
        }
    }

    @Test
    void optionsAndShapesAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> TopEigenSolver.Options.DEFAULT.withTolerance(0));
        Matrix a = Matrix.identity(30);
        assertThrows(IllegalArgumentException.class, () -> TopEigenSolver.solve(SymmetricOperator.of(a), 20, null,
                TopEigenSolver.Options.DEFAULT));
        assertThrows(IllegalArgumentException.class, () -> TopEigenSolver.solve(SymmetricOperator.of(a), 0, null,
                TopEigenSolver.Options.DEFAULT));
    }

    /** ||U U^T - V V^T||_F / sqrt(2 k) for orthonormal n x k blocks. */
    static double projectorDistance(Matrix u, Matrix v) {
        Matrix c = Blas.multiply(u, true, v, false);
        double s = c.frobeniusNorm();
        int k = u.cols();
        return Math.sqrt(Math.max(0, 2 * k - 2 * s * s) / (2.0 * k));
    }
}

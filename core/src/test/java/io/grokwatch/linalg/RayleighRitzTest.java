package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ritz pairs of a known spectrum: exact on an invariant subspace, first-order residuals on a perturbed one. */
class RayleighRitzTest {
    @Test
    void anInvariantSubspaceHasZeroResidualsAndItsEigenvalues() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(300, 2), 5);
        Eigenpairs dense = SymmetricEigen.full(a);
        RayleighRitz.Result r = RayleighRitz.of(SymmetricOperator.of(a), dense.vectors().columns(0, 20));
        for (int i = 0; i < 20; i++) {
            assertEquals(dense.values()[i], r.values()[i], 1e-12 * dense.values()[0], "value " + i);
        }
        assertTrue(r.worstResidual() < 1e-10, "worst residual " + r.worstResidual());
    }

    @Test
    void aPerturbedSubspaceHasResidualsOfThePerturbationsOrder() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(300, 2), 5);
        Eigenpairs dense = SymmetricEigen.full(a);
        Matrix v = dense.vectors().columns(0, 20).copy();
        SplittableRandom rng = new SplittableRandom(9);
        for (int i = 0; i < v.data().length; i++) {
            v.data()[i] += 1e-3 * rng.nextGaussian();
        }
        RayleighRitz.Result r = RayleighRitz.of(SymmetricOperator.of(a), v);
        // Each vector is ~1.7e-2 away from an eigenvector: residuals of that order (relative to lambda, so larger
        // for the small pairs), Ritz values below the true ones (Cauchy interlacing) by O(angle^2) of the spread.
        assertTrue(r.medianResidual() > 1e-3 && r.medianResidual() < 1, "median residual " + r.medianResidual());
        for (int i = 0; i < 20; i++) {
            assertTrue(r.values()[i] <= dense.values()[i] * (1 + 1e-12), "interlacing at " + i);
            assertEquals(dense.values()[i], r.values()[i], 1e-2 * dense.values()[0], "value " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> RayleighRitz.of(SymmetricOperator.of(a), new Matrix(10, 2)));
    }
}

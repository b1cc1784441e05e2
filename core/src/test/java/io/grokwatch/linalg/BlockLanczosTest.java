package io.grokwatch.linalg;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thick-restart block Lanczos against the dense LAPACK decomposition of the same matrix, on the eNTK-shaped
 * spectra of {@link TopEigenSolverTest} (cliffs of near-equal values over a decaying tail). Residuals are
 * recomputed explicitly from {@code A V}, so the Lanczos-relation estimate the solver reports is checked too.
 */
class BlockLanczosTest {
    private static final BlockLanczos.Options SMALL_BLOCKS = BlockLanczos.Options.DEFAULT.withBlockSize(8);

    /** Worst {@code ||A v - lambda v|| / lambda} over the returned pairs, from an explicit product. */
    private static double explicitResidual(Matrix a, Eigenpairs e) {
        Matrix av = Blas.multiply(a, false, e.vectors(), false);
        double worst = 0;
        for (int j = 0; j < e.vectorCount(); j++) {
            double s = 0;
            for (int i = 0; i < a.rows(); i++) {
                double r = av.get(i, j) - e.values()[j] * e.vectors().get(i, j);
                s += r * r;
            }
            worst = Math.max(worst, Math.sqrt(s) / e.values()[j]);
        }
        return worst;
    }

    @Test
    void coldSolveMatchesDenseDecompositionWithoutRestart() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(500, 1), 2);
        Eigenpairs dense = SymmetricEigen.full(a);
        TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.of(a), 45, null, SMALL_BLOCKS);
        assertTrue(s.report().converged(), s.report().toString());
        assertEquals(TopEigenSolver.Start.COLD, s.report().start());
        for (int i = 0; i < 45; i++) {
            // Eigenvalue error <= residual * lambda (Bauer-Fike for symmetric matrices); tolerance 1e-6.
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        // The reported residual is the Lanczos-relation estimate; the explicit one agrees to rounding.
        double explicit = explicitResidual(a, s.pairs());
        assertTrue(explicit <= 1e-6, "explicit residual " + explicit);
        assertEquals(s.report().residual(), explicit, 1e-9);
        assertTrue(Orthonormal.orthonormalityError(s.pairs().vectors()) < 1e-10);
    }

    /**
     * Many pairs in small blocks: 2.3 basis vectors per pair (the first look) lie past the basis size, and the basis
     * fills between two block boundaries; the full basis must still force a look and a restart.
     */
    @Test
    void firstLookComesWhenTheBasisFillsBeforeItsPlannedPoint() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(400, 5), 6);
        Eigenpairs dense = SymmetricEigen.full(a);
        BlockLanczos.Options o = BlockLanczos.Options.DEFAULT.withBlockSize(4);
        // 55 pairs: basis 2 * 55 + 4 * 4 = 126, planned first look at 127, blocks of 4 reach 124 then overflow.
        TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.of(a), 55, null, o);
        assertTrue(s.report().converged(), s.report().toString());
        for (int i = 0; i < 55; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        assertTrue(explicitResidual(a, s.pairs()) <= 1.01e-6);
    }

    @Test
    void thickRestartsConvergeToTheSamePairs() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(600, 3), 4);
        Eigenpairs dense = SymmetricEigen.full(a);
        // A basis of 80 for 45 pairs must restart several times.
        TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.of(a), 45, null, SMALL_BLOCKS.withMaxBasis(80));
        assertTrue(s.report().converged(), s.report().toString());
        assertTrue(s.report().products() > 80, "restarted: " + s.report());
        for (int i = 0; i < 45; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        assertTrue(explicitResidual(a, s.pairs()) <= 1.01e-6);
        for (int i = 0; i < 45; i++) {
            double dot = 0;
            for (int r = 0; r < 600; r++) {
                dot += dense.vectors().get(r, i) * s.pairs().vectors().get(r, i);
            }
            // Eigenvector error <= residual * lambda / gap; the cliffs' own pairs are 1e-3 apart at worst.
            if (i >= 40 || (i > 0 && i < 19) || (i > 20 && i < 39)) {
                continue;
            }
            assertTrue(Math.abs(dot) > 0.999, "vector " + i + " overlap " + dot);
        }
    }

    /**
     * Each block's image is projected first against the rows the recurrence couples it to, then once against the
     * whole basis. Over a long run with many restarts and four decades between the first and the last wanted
     * eigenvalue (where the projections cancel the most), the vectors must stay orthonormal to rounding and every
     * pair must still match the dense decomposition.
     */
    @Test
    void oneFullProjectionPassAfterTheRecurrencesKeepsTheBasisOrthonormalThroughManyRestarts() {
        int n = 700;
        double[] spectrum = new double[n];
        SplittableRandom r = new SplittableRandom(23);
        for (int i = 0; i < n; i++) {
            // Clusters of near-equal values decaying over four decades, as eNTK spectra do, then a flat tail.
            spectrum[i] = i < 60 ? 1e4 * Math.pow(10, -4.0 * (i / 5) / 11) * (1 + 1e-4 * r.nextDouble())
                    : 0.97 * (1 - 0.0005 * (i - 60));
        }
        Matrix a = TopEigenSolverTest.withSpectrum(spectrum, 24);
        Eigenpairs dense = SymmetricEigen.full(a);
        TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.of(a), 60, null, SMALL_BLOCKS.withMaxBasis(100));
        assertTrue(s.report().converged(), s.report().toString());
        assertTrue(s.report().products() > 250, "restarted many times: " + s.report());
        for (int i = 0; i < 60; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        assertTrue(explicitResidual(a, s.pairs()) <= 1.01e-6);
        // 8.7e-15 here, as with two full passes (8.4e-15); 1e-12 leaves room for rounding, not for lost orthogonality.
        double orth = Orthonormal.orthonormalityError(s.pairs().vectors());
        assertTrue(orth < 1e-12, "orthonormality error " + orth);
    }

    /**
     * The layer-1 eNTK's shape: a cliff of wanted vectors, a 20x drop, then a flat bulk whose first eigenvalue is
     * wanted for the gap ratio only. Its value needs the looser residual, which bounds its relative error
     * (Bauer-Fike), and the solve stops earlier than when every pair needs 1e-6.
     */
    @Test
    void valueOnlyPairsStopAtTheirOwnToleranceAndCarryNoVector() {
        int n = 500;
        int vectors = 40;
        double[] spectrum = new double[n];
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            spectrum[i] = i < vectors ? 1.0 + 0.4 * r.nextDouble() : 0.05 * (1 - 0.002 * (i - vectors));
        }
        Matrix a = TopEigenSolverTest.withSpectrum(spectrum, 12);
        Eigenpairs dense = SymmetricEigen.full(a);
        TopEigenSolver.Solution gapOnly = BlockLanczos.solve(SymmetricOperator.of(a), vectors + 1, 1, null,
                SMALL_BLOCKS);
        TopEigenSolver.Solution allExact = BlockLanczos.solve(SymmetricOperator.of(a), vectors + 1, null,
                SMALL_BLOCKS);
        assertTrue(gapOnly.report().converged(), gapOnly.report().toString());
        assertEquals(vectors + 1, gapOnly.pairs().count());
        assertEquals(vectors, gapOnly.pairs().vectorCount());
        for (int i = 0; i < vectors; i++) {
            assertEquals(dense.values()[i], gapOnly.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        assertTrue(explicitResidual(a, gapOnly.pairs()) <= 1.01e-6);
        double tail = dense.values()[vectors];
        double valueTolerance = SMALL_BLOCKS.valueTolerance();
        assertEquals(tail, gapOnly.pairs().values()[vectors], valueTolerance * tail, "value-only eigenvalue");
        assertTrue(gapOnly.report().products() < allExact.report().products(),
                gapOnly.report() + " vs " + allExact.report());
        assertEquals(tail, allExact.pairs().values()[vectors], 1e-6 * tail);
    }

    /**
     * Products with rounding noise (a float32 operator's, here 1e-6 of lambda_max per product): a tolerance below
     * what they can resolve is met at their floor, ten roundoffs of {@code lambda_max / lambda_j}, instead of
     * running to the step limit.
     */
    @Test
    void noisyProductsStopAtTheirFloorInsteadOfTheStepLimit() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(400, 3), 4);
        SymmetricOperator exact = SymmetricOperator.of(a);
        double roundoff = 1e-6;
        double lambdaMax = SymmetricEigen.full(a).values()[0];
        SplittableRandom noise = new SplittableRandom(5);
        SymmetricOperator noisy = new SymmetricOperator() {
            @Override
            public int size() {
                return exact.size();
            }

            @Override
            public Matrix apply(Matrix x) {
                Matrix y = exact.apply(x);
                for (int j = 0; j < x.cols(); j++) {
                    double xn = 0;
                    for (int i = 0; i < x.rows(); i++) {
                        xn += x.get(i, j) * x.get(i, j);
                    }
                    double amplitude = roundoff * lambdaMax * Math.sqrt(xn / x.rows());
                    for (int i = 0; i < x.rows(); i++) {
                        y.set(i, j, y.get(i, j) + amplitude * (noise.nextDouble() - 0.5));
                    }
                }
                return y;
            }
        };
        BlockLanczos.Options tight = SMALL_BLOCKS.withTolerance(1e-10).withMaxBlockSteps(120);
        TopEigenSolver.Solution floored = BlockLanczos.solve(noisy, 30, null, tight.withProductRoundoff(roundoff));
        TopEigenSolver.Solution blind = BlockLanczos.solve(noisy, 30, null, tight);
        assertTrue(floored.report().converged(), floored.report().toString());
        assertTrue(floored.report().iterations() < 120, floored.report().toString());
        assertTrue(!blind.report().converged() && blind.report().iterations() == 120, blind.report().toString());
        // What it reached is what the noise allows, and the eigenvalues are right to that level.
        Eigenpairs dense = SymmetricEigen.full(a);
        for (int j = 0; j < 30; j++) {
            double bound = BlockLanczos.PRODUCT_FLOOR * roundoff * lambdaMax;
            assertEquals(dense.values()[j], floored.pairs().values()[j], bound, "eigenvalue " + j);
        }
    }

    @Test
    void optionsRejectAValueToleranceBelowTheResidualTolerance() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BlockLanczos.Options.DEFAULT.withValueTolerance(1e-9));
        assertTrue(e.getMessage().contains("valueTolerance"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlockLanczos.solve(
                SymmetricOperator.of(TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(100, 1), 2)),
                10, 10, null, SMALL_BLOCKS));
    }

    @Test
    void largeOperatorsSplitTheirBlasWorkAndStillMatchTheExactSpectrum() {
        // Side 5,000 in blocks of 16 makes every projection, restart rotation and the final rotation large enough
        // to be split across two threads (TwoWay, on any machine with a second core). A diagonal operator has its
        // exact spectrum in plain sight.
        int n = 5000;
        double[] d = TopEigenSolverTest.cliffSpectrum(n, 7);
        SymmetricOperator diag = new SymmetricOperator() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public Matrix apply(Matrix x) {
                Matrix out = x.copy();
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < x.cols(); j++) {
                        out.set(i, j, d[i] * x.get(i, j));
                    }
                }
                return out;
            }
        };
        double[] sorted = d.clone();
        java.util.Arrays.sort(sorted);
        TopEigenSolver.Solution s = BlockLanczos.solve(diag, 60, null,
                BlockLanczos.Options.DEFAULT.withBlockSize(16).withMaxBasis(200));
        assertTrue(s.report().converged(), s.report().toString());
        assertTrue(s.report().products() > 200, "restarted: " + s.report());
        double worst = 0;
        Matrix v = s.pairs().vectors();
        for (int j = 0; j < 60; j++) {
            double lambda = s.pairs().values()[j];
            assertEquals(sorted[n - 1 - j], lambda, 1e-6 * sorted[n - 1 - j], "eigenvalue " + j);
            double r = 0;
            for (int i = 0; i < n; i++) {
                double e = (d[i] - lambda) * v.get(i, j);
                r += e * e;
            }
            worst = Math.max(worst, Math.sqrt(r) / lambda);
        }
        assertTrue(worst <= 1.01e-6, "explicit residual " + worst);
        assertEquals(s.report().residual(), worst, 1e-9);
        assertTrue(Orthonormal.orthonormalityError(v) < 1e-10);
    }

    @Test
    void convergenceChecksSpreadOutWhileTheResidualDecaysSteadily() {
        BlockLanczos.CheckSchedule schedule = new BlockLanczos.CheckSchedule(1e-6);
        assertEquals(2, schedule.stepsUntilNextCheck(10, 1e-1, false), "no history yet: check again soon");
        // 1e-1 -> 1e-2 over 4 steps: 16 more steps to 1e-6 predicted; a third of that.
        assertEquals(5, schedule.stepsUntilNextCheck(14, 1e-2, false));
        // Slow decay: the wait is capped.
        assertEquals(16, schedule.stepsUntilNextCheck(17, 0.9e-2, false));
        // Growing residual: back to the shortest wait.
        assertEquals(2, schedule.stepsUntilNextCheck(33, 2e-2, false));
        // Close to the tolerance, a thick restart makes the next steps converge faster than extrapolated.
        assertEquals(2, schedule.stepsUntilNextCheck(35, 1e-3, true));
    }

    @Test
    void warmStartFromANearbyMatrixConverges() {
        double[] spectrum = TopEigenSolverTest.cliffSpectrum(500, 5);
        Matrix a = TopEigenSolverTest.withSpectrum(spectrum, 6);
        Matrix b = a.copy();
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 500; i++) {
            for (int j = 0; j <= i; j++) {
                double d = 1e-3 * (r.nextDouble() - 0.5);
                b.add(i, j, d);
                if (i != j) {
                    b.add(j, i, d);
                }
            }
        }
        TopEigenSolver.Solution previous = BlockLanczos.solve(SymmetricOperator.of(a), 45, null, SMALL_BLOCKS);
        TopEigenSolver.Solution warm = BlockLanczos.solve(SymmetricOperator.of(b), 45, previous.basis(), SMALL_BLOCKS);
        assertEquals(TopEigenSolver.Start.WARM, warm.report().start());
        assertFalse(warm.report().fellBack(), warm.report().toString());
        assertTrue(warm.report().converged(), warm.report().toString());
        Eigenpairs dense = SymmetricEigen.full(b);
        for (int i = 0; i < 45; i++) {
            assertEquals(dense.values()[i], warm.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
    }

    /**
     * Where the matrix barely moved (late in a run), a warm solve looks at its Ritz pairs from 1.5 basis vectors per
     * pair and stops there, before the 2.0 per pair at which a cold solve first looks; it is as accurate.
     */
    @Test
    void aWarmStartFromAnAlmostUnchangedMatrixStopsBeforeAColdSolveFirstLooks() {
        int n = 500;
        int k = 45;
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(n, 5), 6);
        Matrix b = a.copy();
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double d = 1e-9 * (r.nextDouble() - 0.5);
                b.add(i, j, d);
                if (i != j) {
                    b.add(j, i, d);
                }
            }
        }
        TopEigenSolver.Solution previous = BlockLanczos.solve(SymmetricOperator.of(a), k, null, SMALL_BLOCKS);
        TopEigenSolver.Solution cold = BlockLanczos.solve(SymmetricOperator.of(b), k, null, SMALL_BLOCKS);
        TopEigenSolver.Solution warm = BlockLanczos.solve(SymmetricOperator.of(b), k, previous.basis(), SMALL_BLOCKS);
        assertEquals(TopEigenSolver.Start.WARM, warm.report().start());
        assertTrue(cold.report().converged() && warm.report().converged(), warm.report() + " " + cold.report());
        assertTrue(cold.report().products() >= 2 * k, cold.report().toString());
        assertTrue(warm.report().products() < 2 * k, warm.report() + " cold " + cold.report());
        Eigenpairs dense = SymmetricEigen.full(b);
        for (int i = 0; i < k; i++) {
            assertEquals(dense.values()[i], warm.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        assertTrue(explicitResidual(b, warm.pairs()) <= 1.01e-6);
    }

    /**
     * Eigenvectors from the bottom or the middle of the spectrum span (nearly) invariant subspaces that hold none of
     * the wanted pairs: Krylov iteration from them converges only through the seed's random rows, from further away
     * than a random start. The first step sees that their Ritz values lie below random directions' Rayleigh
     * quotients and restarts cold, losing one block of products.
     */
    @Test
    void aWarmStartFromTheWrongEndOfTheSpectrumFallsBackToColdAfterOneBlock() {
        int n = 1000;
        int k = 60;
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(n, 5), 6);
        Eigenpairs dense = SymmetricEigen.full(a);
        BlockLanczos.Options options = BlockLanczos.Options.DEFAULT.withBlockSize(16);
        TopEigenSolver.Solution cold = BlockLanczos.solve(SymmetricOperator.of(a), k, null, options);
        for (Matrix poor : new Matrix[] {dense.vectors().columns(n - 150, n), dense.vectors().columns(2 * k, 3 * k)}) {
            TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.of(a), k, poor, options);
            assertEquals(TopEigenSolver.Start.COLD, s.report().start(), s.report().toString());
            assertTrue(s.report().fellBack(), s.report().toString());
            assertTrue(s.report().converged(), s.report().toString());
            assertTrue(s.report().products() <= cold.report().products() + options.blockSize(),
                    s.report() + " against cold " + cold.report());
            for (int i = 0; i < k; i++) {
                assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
            }
            assertTrue(explicitResidual(a, s.pairs()) <= 1e-6);
        }
        // The leading eigenvectors themselves are kept.
        TopEigenSolver.Solution good = BlockLanczos.solve(SymmetricOperator.of(a), k, dense.vectors().columns(0, k),
                options);
        assertEquals(TopEigenSolver.Start.WARM, good.report().start());
        assertFalse(good.report().fellBack());
        assertTrue(good.report().products() < cold.report().products(), good.report() + " against " + cold.report());
    }

    /** A basis of another size, or one with a non-finite entry (a damaged store), must not reach the iteration. */
    @Test
    void warmStartsThatCannotBeUsedAreReportedAsFallBacks() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(400, 3), 4);
        Eigenpairs dense = SymmetricEigen.full(a);
        Matrix damaged = dense.vectors().columns(0, 30);
        damaged.set(17, 3, Double.NaN);
        for (Matrix unusable : new Matrix[] {damaged, new Matrix(399, 30), new Matrix(400, 30)}) {
            TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.of(a), 30, unusable, SMALL_BLOCKS);
            assertEquals(TopEigenSolver.Start.COLD, s.report().start());
            assertTrue(s.report().fellBack(), s.report().toString());
            for (int i = 0; i < 30; i++) {
                assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
            }
        }
        TopEigenSolver.Solution none = BlockLanczos.solve(SymmetricOperator.of(a), 30, null, SMALL_BLOCKS);
        assertFalse(none.report().fellBack(), "no warm start offered, none abandoned");
    }

    @Test
    void rankDeficientOperatorsFindTheirNullSpace() {
        // Rank 30, top 40 wanted: the Krylov space becomes invariant and is continued from random directions.
        SplittableRandom r = new SplittableRandom(9);
        Matrix f = new Matrix(300, 30);
        for (int i = 0; i < f.data().length; i++) {
            f.data()[i] = r.nextDouble() - 0.5;
        }
        Matrix a = Blas.gram(f);
        TopEigenSolver.Solution s = BlockLanczos.solve(SymmetricOperator.lowRank(f), 40, null, SMALL_BLOCKS);
        assertTrue(s.report().converged(), s.report().toString());
        Eigenpairs dense = SymmetricEigen.full(a);
        for (int i = 0; i < 40; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-9 * dense.values()[0], "eigenvalue " + i);
        }
    }

    @Test
    void rejectsWhatItCannotSolve() {
        Matrix a = TopEigenSolverTest.withSpectrum(TopEigenSolverTest.cliffSpectrum(100, 1), 2);
        assertThrows(IllegalArgumentException.class, () -> BlockLanczos.solve(SymmetricOperator.of(a), 80, null,
                SMALL_BLOCKS));
        assertThrows(IllegalArgumentException.class, () -> BlockLanczos.solve(SymmetricOperator.of(a), 0, null,
                SMALL_BLOCKS));
        assertThrows(IllegalArgumentException.class, () -> BlockLanczos.Options.DEFAULT.withBlockSize(0));
    }
}

package io.grokwatch.analysis;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Iterative solves with gap values: the spectrum of a layer-1 eNTK (a cliff of wanted vectors, a 20x drop, a flat
 * bulk whose first eigenvalue is read only in the end-of-cliff gap ratio), against the dense decomposition.
 */
class SpectrumSolverTest {
    private static final int N = 700;
    private static final int VECTORS = 60;

    /** {@code Q diag(values) Q^T} with a random orthonormal Q (the eigenvectors of a random symmetric matrix). */
    private static Matrix withSpectrum(double[] values, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Matrix g = new Matrix(N, N);
        for (int i = 0; i < N; i++) {
            for (int j = 0; j <= i; j++) {
                double v = r.nextDouble() - 0.5;
                g.set(i, j, v);
                g.set(j, i, v);
            }
        }
        Matrix q = SymmetricEigen.full(g).vectors();
        Matrix qd = q.copy();
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                qd.set(i, j, q.get(i, j) * values[j]);
            }
        }
        return Blas.multiply(qd, false, q, true);
    }

    private static double[] cliffThenFlatBulk(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] d = new double[N];
        for (int i = 0; i < N; i++) {
            d[i] = i < VECTORS ? 1.0 + 0.4 * r.nextDouble() : 0.05 * (1 - 0.001 * (i - VECTORS));
        }
        return d;
    }

    @Test
    void gapValuesNeedOnlyTheirOwnToleranceAndTheVectorsStillMeetTheFullOne() {
        Matrix k = withSpectrum(cliffThenFlatBulk(3), 4);
        Eigenpairs dense = SymmetricEigen.full(k);
        SymmetricOperator op = SymmetricOperator.of(k);
        SpectrumSolver.Solve gap = SpectrumSolver.iterative(op, VECTORS + 1, VECTORS, VECTORS, null);
        SpectrumSolver.Solve full = SpectrumSolver.iterative(op, VECTORS + 1, VECTORS, null);

        assertEquals(VECTORS + 1, gap.pairs().count());
        assertEquals(VECTORS, gap.pairs().vectorCount());
        assertTrue(gap.info().residual() <= SpectrumSolver.TOLERANCE, gap.info().toString());
        for (int i = 0; i < VECTORS; i++) {
            // Bauer-Fike: a relative residual of 1e-6 bounds the relative eigenvalue error.
            assertEquals(dense.values()[i], gap.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
        double tail = dense.values()[VECTORS];
        assertEquals(tail, gap.pairs().values()[VECTORS], SpectrumSolver.GAP_VALUE_TOLERANCE * tail, "gap value");
        assertEquals(tail, full.pairs().values()[VECTORS], 1e-6 * tail, "certified value");
        // The end-of-cliff ratio a summary reports, from either solve.
        double ratio = dense.values()[VECTORS - 1] / tail;
        assertEquals(ratio, gap.pairs().values()[VECTORS - 1] / gap.pairs().values()[VECTORS], 2e-3 * ratio);
    }

    /**
     * What the analyzer's spectra report for a stored basis that no longer fits (another probe count, a damaged
     * store) or points the wrong way: {@code start} cold, {@code fellBack} true, and the same accuracy as a cold solve.
     */
    @Test
    void aWarmStartTheSolverAbandonsIsReportedAsAFallBack() {
        Matrix k = withSpectrum(cliffThenFlatBulk(5), 6);
        Eigenpairs dense = SymmetricEigen.full(k);
        SymmetricOperator op = SymmetricOperator.of(k);
        SpectrumSolver.Solve good = SpectrumSolver.iterative(op, VECTORS, VECTORS, dense.vectors().columns(0, VECTORS));
        assertEquals("warm", good.info().start());
        assertFalse(good.info().fellBack());
        Matrix[] abandoned = {new Matrix(N - 1, VECTORS), dense.vectors().columns(N - VECTORS, N)};
        for (Matrix warm : abandoned) {
            SpectrumSolver.Solve s = SpectrumSolver.iterative(op, VECTORS, VECTORS, warm);
            assertEquals("cold", s.info().start(), s.info().toString());
            assertTrue(s.info().fellBack(), s.info().toString());
            assertTrue(s.info().residual() <= SpectrumSolver.TOLERANCE, s.info().toString());
            for (int i = 0; i < VECTORS; i++) {
                assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
            }
        }
    }

    /**
     * Float32 products: the solve stops at the float32 tolerance, and the residual it reports is the one measured on
     * the float64 operator (recomputed here), so it says what the option costs in accuracy.
     */
    @Test
    void float32ProductsReportTheResidualMeasuredInFloat64() {
        int n = 2300;
        SplittableRandom r = new SplittableRandom(8);
        Matrix g = new Matrix(n, 400);
        for (int i = 0; i < g.data().length; i++) {
            g.data()[i] = r.nextDouble() - 0.5;
        }
        Matrix k = Blas.multiply(g, false, g, true);
        int vectors = 50;
        SpectrumSolver.Solve single = SpectrumSolver.iterative(SymmetricOperator.of(k), vectors, vectors, vectors,
                null, Precision.FLOAT32);
        SpectrumSolver.Solve dbl = SpectrumSolver.iterative(SymmetricOperator.of(k), vectors, vectors, null);
        assertEquals(Precision.FLOAT32, single.info().precision());
        assertEquals(Precision.FLOAT64, dbl.info().precision());
        Matrix v = single.pairs().vectors();
        Matrix kv = Blas.multiply(k, false, v, false);
        double worst = 0;
        for (int j = 0; j < vectors; j++) {
            double sum = 0;
            double lambda = single.pairs().values()[j];
            for (int i = 0; i < n; i++) {
                double d = kv.get(i, j) - lambda * v.get(i, j);
                sum += d * d;
            }
            worst = Math.max(worst, Math.sqrt(sum) / lambda);
            // Eigenvalue error <= residual (Bauer-Fike); in practice about its square.
            assertEquals(dbl.pairs().values()[j], lambda, SpectrumSolver.FLOAT32_TOLERANCE * lambda, "eigenvalue " + j);
        }
        assertEquals(worst, single.info().residual(), 1e-9, "reported residual is the float64 one");
        assertTrue(worst <= 2 * SpectrumSolver.FLOAT32_TOLERANCE, "float64 residual " + worst);
        assertTrue(dbl.info().residual() <= SpectrumSolver.TOLERANCE);
    }

    /** Asked for values only, a float32 solve still measures every certified pair in float64, and reports it. */
    @Test
    void aValuesOnlyFloat32SolveReportsTheResidualOfItsCertifiedPairs() {
        int n = 2300;
        SplittableRandom r = new SplittableRandom(9);
        Matrix g = new Matrix(n, 300);
        for (int i = 0; i < g.data().length; i++) {
            g.data()[i] = r.nextDouble() - 0.5;
        }
        Matrix k = Blas.multiply(g, false, g, true);
        SpectrumSolver.Solve single = SpectrumSolver.iterative(SymmetricOperator.of(k), 30, 0, null,
                Precision.FLOAT32);
        assertEquals(Precision.FLOAT32, single.info().precision());
        assertEquals(0, single.pairs().vectorCount());
        double reported = single.info().residual();
        // float32 products resolve about 1e-7 of the kernel's norm: a measured residual is never zero.
        assertTrue(reported > 1e-9 && reported <= 2 * SpectrumSolver.FLOAT32_TOLERANCE, "residual " + reported);
        double[] dense = SymmetricEigen.top(k, 30, 0).values();
        for (int j = 0; j < 30; j++) {
            assertEquals(dense[j], single.pairs().values()[j], reported * dense[j], "eigenvalue " + j);
        }
    }

    @Test
    void anOperatorWithoutASinglePrecisionFormSolvesInFloat64AndSaysSo() {
        Matrix k = withSpectrum(cliffThenFlatBulk(9), 10);
        SymmetricOperator formed = SymmetricOperator.of(k);
        SymmetricOperator opaque = new SymmetricOperator() {
            @Override
            public int size() {
                return formed.size();
            }

            @Override
            public Matrix apply(Matrix x) {
                return formed.apply(x);
            }
        };
        SpectrumSolver.Solve s = SpectrumSolver.iterative(opaque, VECTORS, VECTORS, VECTORS, null, Precision.FLOAT32);
        assertEquals(Precision.FLOAT64, s.info().precision());
        assertTrue(s.info().residual() <= SpectrumSolver.TOLERANCE, s.info().toString());
    }

    @Test
    void certifyingEveryValueIsTheDefault() {
        Matrix k = withSpectrum(cliffThenFlatBulk(5), 6);
        Eigenpairs dense = SymmetricEigen.full(k);
        SpectrumSolver.Solve s = SpectrumSolver.iterative(SymmetricOperator.of(k), VECTORS + 1, VECTORS, null);
        assertTrue(s.info().residual() <= SpectrumSolver.TOLERANCE, s.info().toString());
        for (int i = 0; i <= VECTORS; i++) {
            assertEquals(dense.values()[i], s.pairs().values()[i], 1e-6 * dense.values()[i], "eigenvalue " + i);
        }
    }
}

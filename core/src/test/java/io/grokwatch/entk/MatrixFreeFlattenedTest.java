package io.grokwatch.entk;

import io.grokwatch.linalg.BlockLanczos;
import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SinglePrecisionOperatorsTest;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.linalg.TopEigenSolver;
import io.grokwatch.model.Network;
import io.grokwatch.probe.ModularAddition;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The matrix-free flattened kernel and dual (Jacobian-vector then vector-Jacobian products through the layer
 * structure) against the formed matrices of the same model: every product equal to 1e-10 relative, on the
 * modular-addition MLP (square activation, no biases), TMS (tied weights, bias, ReLU) and a deep MLP with biases.
 */
class MatrixFreeFlattenedTest {
    private static void assertProductsMatch(Matrix formed, SymmetricOperator op, Random r, String what) {
        assertEquals(formed.rows(), op.size(), what);
        for (int b : new int[] {1, 5}) {
            Matrix x = EntkTest.gaussian(r, formed.rows(), b, 1.0);
            EntkTest.assertClose(Blas.multiply(formed, false, x, false), op.apply(x), what + ", " + b + " columns");
        }
    }

    @Test
    void kernelAndDualProductsEqualTheFormedMatrices() {
        Random r = new Random(11);
        Object[][] cases = {
                {EntkTest.modularAddition(5, 8, 1), ModularAddition.inputs(5), null},
                {EntkTest.tms(6, 3, 2), EntkTest.gaussian(r, 30, 6, 0.5), Entk.importanceScale(0.8, 6, 0.33)},
                {EntkTest.deep(3), EntkTest.gaussian(r, 12, 4, 1.0), null},
        };
        for (Object[] c : cases) {
            Network net = (Network) c[0];
            Entk entk = new Entk(net, (Matrix) c[1]);
            double[] scale = (double[]) c[2];
            for (String g : new String[] {Entk.ALL, entk.groups().get(0)}) {
                String what = net.outputs() + " outputs, group " + g;
                assertProductsMatch(entk.flattened(g, scale), entk.flattenedOperator(g, scale), r, what + " kernel");
                DualGram dual = new DualGram(new LayerStructure(net, (Matrix) c[1]), entk.parameters(g),
                        scale == null ? ones(net.outputs()) : scale);
                assertProductsMatch(dual.gram(), dual.operator(), r, what + " dual");
            }
        }
    }

    @Test
    void lanczosOnTheMatrixFreeDualFindsTheDenseSpectrum() {
        Network net = EntkTest.tms(6, 3, 5);
        Matrix x = EntkTest.gaussian(new Random(4), 60, 6, 0.5);
        double[] scale = Entk.importanceScale(0.8, 6, 0.33);
        Entk entk = new Entk(net, x);
        DualGram dual = entk.flattenedDual(Entk.ALL, scale).orElseThrow();
        double[] dense = SymmetricEigen.top(dual.gram(), 8, 0).values();
        TopEigenSolver.Solution s = BlockLanczos.solve(dual.operator(), 8, null,
                BlockLanczos.Options.DEFAULT.withBlockSize(2));
        assertTrue(s.report().converged(), s.report().toString());
        for (int i = 0; i < 8; i++) {
            // Residual 1e-6 bounds the eigenvalue error by 1e-6 relative (Bauer-Fike); 1e-8 is observed.
            assertEquals(dense[i], s.pairs().values()[i], 1e-6 * dense[i], "eigenvalue " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> dual.operator().apply(new Matrix(dual.size() + 1, 1)));
        assertThrows(IllegalArgumentException.class,
                () -> entk.flattenedOperator(Entk.ALL, scale).apply(new Matrix(3, 1)));
    }

    /**
     * The float32 forms run the Jacobian GEMMs in single precision: each product within 1e-5 of the largest entry
     * of the float64 one (float32 rounds at 6e-8; the two GEMMs and the class sums compound it over a few hundred
     * terms) and not equal to it, so the float32 arithmetic really ran.
     */
    @Test
    void float32FormsOfBothOperatorsAgreeWithTheFloat64ProductsToSinglePrecision() {
        Random r = new Random(12);
        Network net = EntkTest.tms(6, 3, 2);
        Matrix x = EntkTest.gaussian(r, 40, 6, 0.5);
        double[] scale = Entk.importanceScale(0.8, 6, 0.33);
        Entk entk = new Entk(net, x);
        DualGram dual = new DualGram(new LayerStructure(net, x), entk.parameters(Entk.ALL), scale);
        for (SymmetricOperator op : new SymmetricOperator[] {entk.flattenedOperator(Entk.ALL, scale), dual.operator()}) {
            SymmetricOperator single = op.inFloat32().orElseThrow();
            assertTrue(single.inFloat32().orElseThrow() == single, "a float32 form is its own float32 form");
            SinglePrecisionOperatorsTest.assertSingleRounding(op, EntkTest.gaussian(r, op.size(), 7, 1.0), 1e-5);
        }
    }

    private static double[] ones(int n) {
        double[] o = new double[n];
        java.util.Arrays.fill(o, 1.0);
        return o;
    }
}

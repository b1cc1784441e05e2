package io.grokwatch.entk;

import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Op;
import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structured kernels against the explicit-Jacobian oracle. Tolerance: 1e-10 relative to the kernel's largest
 * entry (both sides are exact float64 computations that differ only in summation order).
 */
class EntkTest {
    private static final double TOL = 1e-10;

    static Matrix gaussian(Random r, int rows, int cols, double std) {
        Matrix m = new Matrix(rows, cols);
        for (int i = 0; i < m.data().length; i++) {
            m.data()[i] = std * r.nextGaussian();
        }
        return m;
    }

    static Network modularAddition(int p, int h, long seed) {
        Random r = new Random(seed);
        Parameters params = new Parameters()
                .putMatrix("net.0.weight", gaussian(r, h, 2 * p, 1.0))
                .putMatrix("net.3.weight", gaussian(r, p, h, 1.0));
        return new Network(ModelDescription.modularAddition(p, h), params);
    }

    static Network tms(int n, int m, long seed) {
        Random r = new Random(seed);
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            b[i] = 0.3 * r.nextGaussian();
        }
        Parameters params = new Parameters().putMatrix("W", gaussian(r, m, n, 0.7)).putVector("b", b);
        return new Network(ModelDescription.tms(n), params);
    }

    /** A deeper MLP with biases: no class-sum collapse for the first layer. */
    static Network deep(long seed) {
        Random r = new Random(seed);
        Parameters params = new Parameters()
                .putMatrix("l1.weight", gaussian(r, 7, 4, 0.8)).putVector("l1.bias", gaussian(r, 1, 7, 0.3).data())
                .putMatrix("l2.weight", gaussian(r, 6, 7, 0.8)).putVector("l2.bias", gaussian(r, 1, 6, 0.3).data())
                .putMatrix("l3.weight", gaussian(r, 3, 6, 0.8)).putVector("extra", gaussian(r, 1, 3, 0.3).data());
        ModelDescription d = new ModelDescription(4, List.of(
                new Op.Linear("l1.weight", Optional.of("l1.bias"), false), new Op.Relu(),
                new Op.Linear("l2.weight", Optional.of("l2.bias"), false), new Op.Square(), new Op.Scale(0.5),
                new Op.Linear("l3.weight", Optional.empty(), false), new Op.Bias("extra"), new Op.Relu()));
        return new Network(d, params);
    }

    static void assertClose(Matrix expected, Matrix actual, String what) {
        double scale = 0;
        for (double v : expected.data()) {
            scale = Math.max(scale, Math.abs(v));
        }
        double diff = expected.maxAbsDifference(actual);
        assertTrue(diff <= TOL * Math.max(scale, 1e-300), what + ": max |diff| " + diff + " vs scale " + scale);
    }

    @Test
    void classMeanMatchesOracleForModularAddition() {
        Network net = modularAddition(5, 8, 1);
        Matrix x = ModularAddition.inputs(5);
        Entk entk = new Entk(net, x);
        for (String g : List.of("net.0", "net.3", Entk.ALL)) {
            DenseJacobian j = new DenseJacobian(net, x, entk.parameters(g));
            assertClose(j.classMean(), entk.classMean(g), "class-mean " + g);
        }
    }

    @Test
    void unformedClassMeanOperatorsApplyTheOracleKernel() {
        // One-hot inputs (sparse blocks) and a read-out (low-rank factor): both structures, p = 7.
        Network net = modularAddition(7, 12, 3);
        Matrix x = ModularAddition.inputs(7);
        Entk entk = new Entk(net, x);
        Matrix block = gaussian(new Random(9), x.rows(), 5, 1.0);
        for (String g : List.of("net.0", "net.3", Entk.ALL)) {
            Matrix k = new DenseJacobian(net, x, entk.parameters(g)).classMean();
            assertClose(k.times(block), entk.classMeanOperator(g).orElseThrow().apply(block), "operator " + g);
        }
        // Tied weights (W used twice) have neither structure: no operator, callers form the kernel.
        assertTrue(new Entk(tms(6, 3, 2), gaussian(new Random(3), 9, 6, 1.0)).classMeanOperator(Entk.ALL).isEmpty());
    }

    /**
     * Output heads whose per-class gradients factor as {@code r_c(x) b_c} (a TMS decoder: tied W^T then bias and
     * ReLU; a linear layer then ReLU and a scale) sum over classes before probes; the dual Gram must still equal
     * {@code (SJ)^T (SJ)} of the dense Jacobian, block for block, to the suite's tolerance.
     */
    @Test
    void dualGramSummedOverClassesFirstMatchesOracle() {
        Random r = new Random(11);
        Parameters head = new Parameters().putMatrix("l1.weight", gaussian(r, 5, 4, 0.8))
                .putMatrix("l2.weight", gaussian(r, 7, 5, 0.8)).putVector("l2.bias", gaussian(r, 1, 7, 0.3).data());
        Network mlp = new Network(new ModelDescription(4, List.of(
                new Op.Linear("l1.weight", Optional.empty(), false),
                new Op.Linear("l2.weight", Optional.of("l2.bias"), false), new Op.Relu(), new Op.Scale(0.5))), head);
        for (Network net : List.of(tms(8, 3, 4), mlp)) {
            Matrix x = gaussian(new Random(13), 60, net.inputs(), 1.0);
            Entk entk = new Entk(net, x);
            double[] scale = Entk.importanceScale(0.8, net.outputs(), 0.5);
            DualGram dual = entk.flattenedDual(Entk.ALL, scale).orElseThrow();
            Matrix g = dual.gram();
            assertTrue(dual.factoredBlocks() > 0, "some block summed over classes first");
            Matrix sj = new DenseJacobian(net, x, entk.parameters(Entk.ALL)).flattenedJacobian(scale);
            assertClose(sj.transposeTimes(sj), g, "dual Gram");
        }
    }

    @Test
    void allKernelKindsMatchOracleForTiedWeights() {
        Network net = tms(6, 3, 2);
        Matrix x = gaussian(new Random(3), 9, 6, 1.0);
        Entk entk = new Entk(net, x);
        double[] scale = Entk.importanceScale(new double[] {1, .8, .64, .512, .41, .33}, 0.7);
        for (String g : List.of("W", "b", Entk.ALL)) {
            DenseJacobian j = new DenseJacobian(net, x, entk.parameters(g));
            assertClose(j.classMean(), entk.classMean(g), "class-mean " + g);
            assertClose(j.perClass(1, 4), entk.perClass(g, 1, 4), "per-class " + g);
            Matrix sj = j.flattenedJacobian(scale);
            assertClose(sj.timesTranspose(sj), entk.flattened(g, scale), "flattened " + g);
            assertClose(sj.transposeTimes(sj), entk.dualGram(g, scale), "dual Gram " + g);
        }
    }

    @Test
    void generalPathMatchesOracleForDeepNetworkWithBiases() {
        Network net = deep(4);
        Matrix x = gaussian(new Random(5), 11, 4, 1.0);
        Entk entk = new Entk(net, x);
        for (String g : List.of("l1", "l2", "l3", "extra", Entk.ALL)) {
            DenseJacobian j = new DenseJacobian(net, x, entk.parameters(g));
            assertClose(j.classMean(), entk.classMean(g), "class-mean " + g);
            assertClose(j.perClass(2, 0), entk.perClass(g, 2, 0), "per-class " + g);
            Matrix sj = j.flattenedJacobian(null);
            assertClose(sj.transposeTimes(sj), entk.dualGram(g, null), "dual Gram " + g);
        }
    }

    @Test
    void dualSideGivesTheSameEigenpairsAsTheFlattenedKernel() {
        // NC = 40 * 8 = 320 rows > P = 3*8 + 8 = 32 parameters: the dual side is taken.
        Network net = tms(8, 3, 6);
        Matrix x = gaussian(new Random(7), 40, 8, 1.0);
        Entk entk = new Entk(net, x);
        double[] scale = Entk.importanceScale(new double[] {1, .8, .64, .51, .41, .33, .26, .21}, 1.0);
        Eigenpairs viaDual = entk.flattenedTop(Entk.ALL, scale, 10, 10);
        Matrix k = entk.flattened(Entk.ALL, scale);
        Eigenpairs dense = SymmetricEigen.top(k, 10, 10);
        for (int i = 0; i < 10; i++) {
            assertEquals(dense.values()[i], viaDual.values()[i], 1e-10 * dense.values()[0], "eigenvalue " + i);
        }
        // K u = lambda u for the mapped vectors (relative residual 1e-9).
        double res = SymmetricEigen.residual(k, viaDual.values(), viaDual.vectors());
        assertTrue(res < 1e-9, "residual of dual-mapped eigenvectors " + res);
    }

    @Test
    void oracleJacobianMatchesFiniteDifferences() {
        Network net = deep(8);
        Matrix x = gaussian(new Random(9), 5, 4, 1.0);
        List<String> names = net.description().parameterNames();
        DenseJacobian j = new DenseJacobian(net, x, names);
        double h = 1e-6;
        int q = 0;
        for (String name : names) {
            double[] w = net.parameters().get(name).data();
            for (int i = 0; i < w.length; i++, q++) {
                double keep = w[i];
                w[i] = keep + h;
                Matrix plus = net.output(x);
                w[i] = keep - h;
                Matrix minus = net.output(x);
                w[i] = keep;
                for (int c = 0; c < net.outputs(); c++) {
                    for (int s = 0; s < x.rows(); s++) {
                        double fd = (plus.get(s, c) - minus.get(s, c)) / (2 * h);
                        double an = j.classBlock(c).get(s, q);
                        // Central differences: error O(h^2) ~ 1e-12 plus rounding ~1e-10 / h.
                        assertEquals(fd, an, 1e-6 * Math.max(1.0, Math.abs(an)), name + "[" + i + "] class " + c);
                    }
                }
            }
        }
    }
}

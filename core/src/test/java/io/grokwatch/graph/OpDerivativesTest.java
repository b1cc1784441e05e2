package io.grokwatch.graph;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every differentiable op against central finite differences of its own forward pass: the forward-mode
 * product along K = 3 random directions must match {@code (f(x + h t) - f(x - h t)) / 2h} (h = 1e-6, relative
 * tolerance 1e-6 of the largest entry), and the reverse-mode product must be its adjoint:
 * {@code <g, J t> = <J^T g, t>} to 1e-10 relative.
 */
class OpDerivativesTest {
    private static final int K = 3;
    private final Random rnd = new Random(7);

    private NdArray random(int... shape) {
        double[] d = new double[NdArray.size(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = rnd.nextGaussian();
        }
        return new NdArray(shape, d);
    }

    /** Values bounded away from zero (for kinks, logs and square roots). */
    private NdArray positive(int... shape) {
        NdArray x = random(shape);
        double[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = 0.3 + Math.abs(d[i]);
        }
        return x;
    }

    private NdArray awayFromZero(int... shape) {
        NdArray x = random(shape);
        double[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.signum(d[i]) * (0.2 + Math.abs(d[i]));
        }
        return x;
    }

    private static Node node(String op, Map<String, Object> attrs, int inputs, int outputs) {
        List<String> in = new java.util.ArrayList<>();
        for (int i = 0; i < inputs; i++) {
            in.add("i" + i);
        }
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            out.add("o" + i);
        }
        return new Node("test", op, in, out, attrs);
    }

    private void check(String op, Map<String, Object> attrs, NdArray... inputs) {
        check(op, attrs, 1, inputs);
    }

    private void check(String op, Map<String, Object> attrs, int outputs, NdArray... inputs) {
        Node n = node(op, attrs, inputs.length, outputs);
        GraphOp g = Ops.get(n);
        NdArray[] out = g.forward(n, inputs);
        NdArray[] t = new NdArray[inputs.length];
        boolean[] need = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] != null && !inputs[i].integer() && g.differentiable(n, i)) {
                t[i] = random(Shapes.prepend(K, inputs[i].dims()));
                need[i] = true;
            }
        }
        NdArray[] jvp = g.jvp(n, inputs, out, t, K);
        double h = 1e-6;
        for (int k = 0; k < K; k++) {
            NdArray[] plus = inputs.clone();
            NdArray[] minus = inputs.clone();
            for (int i = 0; i < inputs.length; i++) {
                if (t[i] != null) {
                    plus[i] = shifted(inputs[i], t[i], k, h);
                    minus[i] = shifted(inputs[i], t[i], k, -h);
                }
            }
            NdArray[] fp = g.forward(n, plus);
            NdArray[] fm = g.forward(n, minus);
            for (int o = 0; o < out.length; o++) {
                if (out[o] == null || out[o].integer()) {
                    continue;
                }
                int m = out[o].size();
                double scale = 1e-3;
                double err = 0;
                for (int j = 0; j < m; j++) {
                    double fd = (fp[o].data()[j] - fm[o].data()[j]) / (2 * h);
                    double an = jvp[o] == null ? 0 : jvp[o].data()[k * m + j];
                    scale = Math.max(scale, Math.abs(fd));
                    err = Math.max(err, Math.abs(fd - an));
                }
                assertTrue(err <= 1e-6 * scale, op + " " + attrs + ": forward mode differs from finite differences by "
                        + err + " (scale " + scale + ") in output " + o);
            }
        }
        // Adjoint check: <g, J t> = <J^T g, t>.
        NdArray[] cot = new NdArray[out.length];
        double lhs = 0;
        for (int o = 0; o < out.length; o++) {
            if (out[o] != null && !out[o].integer()) {
                cot[o] = random(Shapes.prepend(K, out[o].dims()));
                if (jvp[o] != null) {
                    lhs += dot(cot[o], jvp[o]);
                }
            }
        }
        NdArray[] vjp = g.vjp(n, inputs, out, cot, need, K);
        double rhs = 0;
        for (int i = 0; i < inputs.length; i++) {
            if (need[i]) {
                assertEquals(java.util.Arrays.toString(t[i].dims()), java.util.Arrays.toString(vjp[i].dims()),
                        op + ": reverse-mode result shape of input " + i);
                rhs += dot(vjp[i], t[i]);
            }
        }
        assertEquals(lhs, rhs, 1e-10 * Math.max(1, Math.abs(lhs)), op + " " + attrs + ": reverse mode is not the adjoint");
    }

    private static NdArray shifted(NdArray x, NdArray t, int k, double h) {
        double[] d = x.data().clone();
        int m = d.length;
        for (int i = 0; i < m; i++) {
            d[i] += h * t.data()[k * m + i];
        }
        return new NdArray(x.dims(), d);
    }

    private static double dot(NdArray a, NdArray b) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) {
            s += a.data()[i] * b.data()[i];
        }
        return s;
    }

    private static Map<String, Object> attrs(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void activations() {
        for (String op : List.of("Tanh", "Sigmoid", "Erf", "Exp", "Neg", "Sin", "Cos", "Softplus")) {
            check(op, Map.of(), random(3, 4));
        }
        for (String op : List.of("Relu", "Abs", "LeakyRelu", "Elu")) {
            check(op, Map.of(), awayFromZero(3, 4));
        }
        check("LeakyRelu", attrs("alpha", 0.2), awayFromZero(5));
        for (String op : List.of("Log", "Sqrt", "Reciprocal")) {
            check(op, Map.of(), positive(2, 5));
        }
        check("Gelu", Map.of(), random(4, 3));
        check("Gelu", attrs("approximate", "tanh"), random(4, 3));
    }

    @Test
    void arithmeticWithBroadcasting() {
        for (String op : List.of("Add", "Sub", "Mul")) {
            check(op, Map.of(), random(2, 3, 4), random(3, 4));
            check(op, Map.of(), random(3, 1), random(1, 4));
            check(op, Map.of(), random(2, 3), random());
        }
        check("Div", Map.of(), random(2, 3), positive(3));
        check("Div", Map.of(), random(4), positive());
        check("Pow", Map.of(), positive(3, 2), NdArray.scalar(2.0));
        check("Pow", Map.of(), positive(3, 2), positive(2));
    }

    @Test
    void matrixProducts() {
        check("MatMul", Map.of(), random(3, 4), random(4, 5));
        check("MatMul", Map.of(), random(2, 3, 4), random(4, 5));
        check("MatMul", Map.of(), random(2, 2, 3, 4), random(2, 1, 4, 5));
        check("MatMul", Map.of(), random(4), random(4, 3));
        check("MatMul", Map.of(), random(3, 4), random(4));
        check("MatMul", Map.of(), random(60, 40), random(40, 30));
        check("Gemm", attrs("transB", 1L), random(3, 4), random(5, 4), random(5));
        check("Gemm", attrs("transA", 1L, "alpha", 0.5, "beta", 2.0), random(4, 3), random(4, 5), random(3, 5));
        check("Gemm", attrs("transA", 1L, "transB", 1L), random(4, 3), random(5, 4), random(1, 5));
    }

    @Test
    void normalisations() {
        check("Softmax", attrs("axis", -1L), random(2, 3, 4));
        check("Softmax", attrs("axis", 1L), random(2, 3, 4));
        check("LogSoftmax", attrs("axis", -1L), random(3, 5));
        check("ReduceMean", attrs("axes", new long[] {-1}), random(2, 3, 4));
        check("ReduceMean", attrs("axes", new long[] {0, 2}, "keepdims", 0L), random(2, 3, 4));
        check("ReduceSum", Map.of(), random(2, 3), NdArray.ints(1));
        check("ReduceSum", attrs("keepdims", 0L), random(2, 3), NdArray.ints(0, 1));
        check("LayerNormalization", attrs("epsilon", 1e-5), random(2, 3, 4), random(4), random(4));
        check("LayerNormalization", attrs("axis", 1L), random(2, 3, 4), random(3, 4), random(3, 4));
    }

    @Test
    void movements() {
        check("Transpose", attrs("perm", new long[] {1, 0, 2}), random(2, 3, 4));
        check("Transpose", Map.of(), random(2, 3));
        check("Transpose", attrs("perm", new long[] {2, 0, 1}), random(2, 3, 4));
        check("Transpose", Map.of(), random(2, 3, 4));
        check("Reshape", Map.of(), random(2, 3, 4), NdArray.ints(0, -1, 2));
        check("Flatten", attrs("axis", 2L), random(2, 3, 4));
        check("Squeeze", Map.of(), random(2, 1, 3), NdArray.ints(1));
        check("Unsqueeze", Map.of(), random(2, 3), NdArray.ints(0, 3));
        check("Expand", Map.of(), random(3, 1), NdArray.ints(2, 3, 4));
        check("Slice", Map.of(), random(4, 6), NdArray.ints(1, -1), NdArray.ints(3, -6), NdArray.ints(0, 1),
                NdArray.ints(1, -2));
        check("Slice", Map.of(), random(4, 6), NdArray.ints(2), NdArray.ints(Long.MAX_VALUE), NdArray.ints(1));
        check("Gather", attrs("axis", 0L), random(5, 3), new NdArray(new int[] {2, 2}, new double[] {4, 0, 0, -1}, true));
        check("Gather", attrs("axis", 1L), random(2, 3, 4), new NdArray(new int[0], new double[] {-1}, true));
        check("Concat", attrs("axis", 1L), random(2, 3), random(2, 1), random(2, 2));
        check("Split", attrs("axis", 1L), 2, random(2, 5), NdArray.ints(2, 3));
        check("Split", attrs("axis", 0L), 3, random(6, 2));
        check("Where", Map.of(), new NdArray(new int[] {3, 1}, new double[] {1, 0, 1}, true), random(3, 4), random(4));
        check("Trilu", attrs("upper", 0L), random(2, 3, 3));
        check("Trilu", Map.of(), random(3, 4), new NdArray(new int[0], new double[] {1}, true));
        check("Cast", attrs("to", 11L), random(3));
        check("Identity", Map.of(), random(2, 2));
        check("Dropout", Map.of(), 2, random(4));
    }

    @Test
    void erfMatchesReferenceValues() {
        // Values of erf to 16 digits (Abramowitz and Stegun, Table 7.1, and the series at larger x).
        double[][] cases = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1.0, 0.8427007929497149},
                {2.0, 0.9953222650189527}, {2.4, 0.9993114861033550}, {2.6, 0.9997639655834707},
                {3.5, 0.9999992569016276}, {-1.5, -0.9661051464753108}};
        for (double[] c : cases) {
            assertEquals(c[1], ElementwiseOps.erf(c[0]), 2e-15, "erf(" + c[0] + ")");
        }
    }

    @Test
    void integerShapeArithmeticTruncates() {
        Node div = node("Div", Map.of(), 2, 1);
        NdArray q = Ops.get(div).forward(div, new NdArray[] {NdArray.ints(7, -7), NdArray.ints(2, 2)})[0];
        assertTrue(q.integer());
        assertEquals(3, q.data()[0]);
        assertEquals(-3, q.data()[1]);
    }
}

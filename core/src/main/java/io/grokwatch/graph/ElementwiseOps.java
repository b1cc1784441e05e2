package io.grokwatch.graph;

import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/** Element-wise ops: activations, arithmetic with numpy broadcasting, comparisons and logic. */
final class ElementwiseOps {
    private ElementwiseOps() {
    }

    /** The derivative of a unary function from its input x and output y. */
    @FunctionalInterface
    interface Derivative {
        double at(double x, double y);
    }

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2.0 * Math.PI);

    static void register(Map<String, GraphOp> ops) {
        ops.put("Relu", new Unary(x -> x > 0 ? x : 0, (x, y) -> x > 0 ? 1 : 0));
        ops.put("Tanh", new Unary(Math::tanh, (x, y) -> 1 - y * y));
        ops.put("Sigmoid", new Unary(ElementwiseOps::sigmoid, (x, y) -> y * (1 - y)));
        ops.put("Erf", new Unary(ElementwiseOps::erf, (x, y) -> 2 / Math.sqrt(Math.PI) * Math.exp(-x * x)));
        ops.put("Exp", new Unary(Math::exp, (x, y) -> y));
        ops.put("Log", new Unary(Math::log, (x, y) -> 1 / x));
        ops.put("Sqrt", new Unary(Math::sqrt, (x, y) -> 0.5 / y));
        ops.put("Neg", new Unary(x -> -x, (x, y) -> -1));
        ops.put("Abs", new Unary(Math::abs, (x, y) -> x > 0 ? 1 : x < 0 ? -1 : 0));
        ops.put("Reciprocal", new Unary(x -> 1 / x, (x, y) -> -y * y));
        ops.put("Sin", new Unary(Math::sin, (x, y) -> Math.cos(x)));
        ops.put("Cos", new Unary(Math::cos, (x, y) -> -Math.sin(x)));
        ops.put("Softplus", new Unary(x -> x > 30 ? x : Math.log1p(Math.exp(x)), (x, y) -> sigmoid(x)));
        ops.put("LeakyRelu", new Parametric((n, x) -> x >= 0 ? x : n.floatAttr("alpha", 0.01) * x,
                (n, x, y) -> x >= 0 ? 1 : n.floatAttr("alpha", 0.01)));
        ops.put("Elu", new Parametric((n, x) -> x >= 0 ? x : n.floatAttr("alpha", 1.0) * Math.expm1(x),
                (n, x, y) -> x >= 0 ? 1 : n.floatAttr("alpha", 1.0) * Math.exp(x)));
        ops.put("Gelu", new Parametric(ElementwiseOps::gelu, ElementwiseOps::geluDerivative));

        ops.put("Add", new Binary(Double::sum, (a, b) -> 1, (a, b) -> 1, false, 1, 1));
        ops.put("Sub", new Binary((a, b) -> a - b, (a, b) -> 1, (a, b) -> -1, false, 1, -1));
        ops.put("Mul", new Binary((a, b) -> a * b, (a, b) -> b, (a, b) -> a, false));
        ops.put("Div", new Binary((a, b) -> a / b, (a, b) -> 1 / b, (a, b) -> -a / (b * b), true));
        ops.put("Pow", new Binary(Math::pow, (a, b) -> b == 2 ? 2 * a : b * Math.pow(a, b - 1),
                (a, b) -> Math.pow(a, b) * Math.log(a), false));

        ops.put("Equal", new Logic((a, b) -> a == b ? 1 : 0));
        ops.put("Less", new Logic((a, b) -> a < b ? 1 : 0));
        ops.put("LessOrEqual", new Logic((a, b) -> a <= b ? 1 : 0));
        ops.put("Greater", new Logic((a, b) -> a > b ? 1 : 0));
        ops.put("GreaterOrEqual", new Logic((a, b) -> a >= b ? 1 : 0));
        ops.put("And", new Logic((a, b) -> a != 0 && b != 0 ? 1 : 0));
        ops.put("Or", new Logic((a, b) -> a != 0 || b != 0 ? 1 : 0));
        ops.put("Not", new ConstantOps.Function((n, in) -> {
            double[] d = in[0].data().clone();
            for (int i = 0; i < d.length; i++) {
                d[i] = d[i] != 0 ? 0 : 1;
            }
            return new NdArray[] {new NdArray(in[0].dims(), d, true)};
        }));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** GELU, exact ({@code approximate="none"}) or its tanh form ({@code approximate="tanh"}). */
    static double gelu(Node n, double x) {
        if ("tanh".equals(n.stringAttr("approximate", "none"))) {
            return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
        }
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    static double geluDerivative(Node n, double x, double y) {
        if ("tanh".equals(n.stringAttr("approximate", "none"))) {
            double u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
            double t = Math.tanh(u);
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
        }
        return 0.5 * (1 + erf(x / Math.sqrt(2))) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    }

    /**
     * The error function to double precision: its Maclaurin series for |x| < 2.5, where the terms stay
     * well-conditioned, and the continued fraction of erfc beyond.
     */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (Double.isNaN(x)) {
            return x;
        }
        if (ax > 6) {
            return Math.signum(x);
        }
        double r;
        if (ax < 2.5) {
            double term = ax;
            double sum = ax;
            double x2 = ax * ax;
            for (int k = 1; k < 200; k++) {
                term *= -x2 / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated backwards.
            double f = ax;
            for (int k = 60; k >= 1; k--) {
                f = ax + (k / 2.0) / f;
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    /** {@code y = f(x)} with {@code dy/dx = f'(x, y)}. */
    static class Unary implements GraphOp {
        private final DoubleUnaryOperator f;
        private final Derivative df;

        Unary(DoubleUnaryOperator f, Derivative df) {
            this.f = f;
            this.df = df;
        }

        double value(Node n, double x) {
            return f.applyAsDouble(x);
        }

        double derivative(Node n, double x, double y) {
            return df.at(x, y);
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            double[] x = in[0].data();
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                y[i] = value(node, x[i]);
            }
            return new NdArray[] {new NdArray(in[0].dims(), y)};
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return true;
        }

        private double[] derivatives(Node node, NdArray in, NdArray out) {
            double[] x = in.data();
            double[] y = out.data();
            double[] d = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                d[i] = derivative(node, x[i], y[i]);
            }
            return d;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            return new NdArray[] {scaleEach(t[0], derivatives(node, in[0], out[0]), k)};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            return new NdArray[] {scaleEach(g[0], derivatives(node, in[0], out[0]), k)};
        }
    }

    /** Multiplies each of the k slices of {@code t} element-wise by {@code d}. */
    static NdArray scaleEach(NdArray t, double[] d, int k) {
        double[] src = t.data();
        double[] r = new double[src.length];
        int m = d.length;
        for (int kk = 0; kk < k; kk++) {
            int off = kk * m;
            for (int i = 0; i < m; i++) {
                r[off + i] = src[off + i] * d[i];
            }
        }
        return new NdArray(t.dims(), r);
    }

    /** A unary op whose function reads the node's attributes. */
    @FunctionalInterface
    interface NodeFunction {
        double apply(Node n, double x);
    }

    @FunctionalInterface
    interface NodeDerivative {
        double at(Node n, double x, double y);
    }

    static final class Parametric extends Unary {
        private final NodeFunction f;
        private final NodeDerivative df;

        Parametric(NodeFunction f, NodeDerivative df) {
            super(x -> x, (x, y) -> 1);
            this.f = f;
            this.df = df;
        }

        @Override
        double value(Node n, double x) {
            return f.apply(n, x);
        }

        @Override
        double derivative(Node n, double x, double y) {
            return df.at(n, x, y);
        }
    }

    /** A broadcasting binary op with its two partial derivatives. */
    static final class Binary implements GraphOp {
        private final DoubleBinaryOperator f;
        private final DoubleBinaryOperator da;
        private final DoubleBinaryOperator db;
        private final boolean truncatesIntegers;
        /** The partial derivatives when they are constants (Add, Sub), else 0. */
        private final double[] constantPartials;

        Binary(DoubleBinaryOperator f, DoubleBinaryOperator da, DoubleBinaryOperator db, boolean truncatesIntegers) {
            this(f, da, db, truncatesIntegers, 0, 0);
        }

        Binary(DoubleBinaryOperator f, DoubleBinaryOperator da, DoubleBinaryOperator db, boolean truncatesIntegers,
               double constantA, double constantB) {
            this.f = f;
            this.da = da;
            this.db = db;
            this.truncatesIntegers = truncatesIntegers;
            this.constantPartials = new double[] {constantA, constantB};
        }

        @Override
        public NdArray[] forward(Node node, NdArray[] in) {
            NdArray a = in[0];
            NdArray b = in[1];
            int[] out = broadcast(node, a, b);
            boolean integer = a.integer() && b.integer();
            double[] ad = a.data();
            double[] bd = b.data();
            double[] d = new double[NdArray.size(out)];
            if (bd.length == 1) {
                double bv = bd[0];
                for (int i = 0; i < d.length; i++) {
                    d[i] = f.applyAsDouble(ad[i], bv);
                }
            } else {
                int[] ia = Shapes.broadcastIndex(a.dims(), out);
                int[] ib = Shapes.broadcastIndex(b.dims(), out);
                for (int i = 0; i < d.length; i++) {
                    d[i] = f.applyAsDouble(ad[ia[i]], bd[ib[i]]);
                }
            }
            if (integer && truncatesIntegers) {
                for (int i = 0; i < d.length; i++) {
                    d[i] = (double) (long) d[i];
                }
            }
            return new NdArray[] {new NdArray(out, d, integer)};
        }

        private static int[] broadcast(Node node, NdArray a, NdArray b) {
            try {
                return Shapes.broadcast(a.dims(), b.dims());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(node.label() + ": " + e.getMessage(), e);
            }
        }

        @Override
        public boolean differentiable(Node node, int i) {
            return true;
        }

        @Override
        public NdArray[] jvp(Node node, NdArray[] in, NdArray[] out, NdArray[] t, int k) {
            int[] os = out[0].dims();
            int m = out[0].size();
            double[] r = new double[k * m];
            for (int side = 0; side < 2; side++) {
                if (t[side] == null) {
                    continue;
                }
                int[] idx = Shapes.broadcastIndex(in[side].dims(), os);
                double[] p = partials(in, os, side);
                double[] ts = t[side].data();
                int size = in[side].size();
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < m; j++) {
                        r[kk * m + j] += p[j] * ts[kk * size + idx[j]];
                    }
                }
            }
            return new NdArray[] {new NdArray(Shapes.prepend(k, os), r)};
        }

        @Override
        public NdArray[] vjp(Node node, NdArray[] in, NdArray[] out, NdArray[] g, boolean[] need, int k) {
            int[] os = out[0].dims();
            int m = out[0].size();
            double[] gd = g[0].data();
            NdArray[] r = new NdArray[2];
            for (int side = 0; side < 2; side++) {
                if (!need[side]) {
                    continue;
                }
                double constant = constantPartials[side];
                if (constant != 0 && java.util.Arrays.equals(in[side].dims(), os)) {
                    // Add and Sub pass the cotangent through (negated for Sub's subtrahend); nothing mutates it.
                    r[side] = constant == 1 ? g[0] : scaleEach(g[0], filled(m, constant), k);
                    continue;
                }
                int[] idx = Shapes.broadcastIndex(in[side].dims(), os);
                double[] p = partials(in, os, side);
                int size = in[side].size();
                double[] acc = new double[k * size];
                for (int kk = 0; kk < k; kk++) {
                    for (int j = 0; j < m; j++) {
                        acc[kk * size + idx[j]] += p[j] * gd[kk * m + j];
                    }
                }
                r[side] = new NdArray(Shapes.prepend(k, in[side].dims()), acc);
            }
            return r;
        }

        private static double[] filled(int m, double v) {
            double[] d = new double[m];
            java.util.Arrays.fill(d, v);
            return d;
        }

        private double[] partials(NdArray[] in, int[] os, int side) {
            int[] ia = Shapes.broadcastIndex(in[0].dims(), os);
            int[] ib = Shapes.broadcastIndex(in[1].dims(), os);
            double[] ad = in[0].data();
            double[] bd = in[1].data();
            DoubleBinaryOperator d = side == 0 ? da : db;
            double[] p = new double[ia.length];
            for (int j = 0; j < p.length; j++) {
                p[j] = d.applyAsDouble(ad[ia[j]], bd[ib[j]]);
            }
            return p;
        }
    }

    /** A comparison or logical op: boolean output, no derivative. */
    static final class Logic extends ConstantOps.Function {
        Logic(DoubleBinaryOperator f) {
            super((n, in) -> {
                int[] out = Shapes.broadcast(in[0].dims(), in[1].dims());
                int[] ia = Shapes.broadcastIndex(in[0].dims(), out);
                int[] ib = Shapes.broadcastIndex(in[1].dims(), out);
                double[] d = new double[ia.length];
                for (int i = 0; i < d.length; i++) {
                    d[i] = f.applyAsDouble(in[0].data()[ia[i]], in[1].data()[ib[i]]);
                }
                return new NdArray[] {new NdArray(out, d, true)};
            });
        }
    }
}

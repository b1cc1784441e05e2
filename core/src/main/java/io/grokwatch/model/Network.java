package io.grokwatch.model;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Matrix;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link ModelDescription} bound to parameter values whose shapes have been checked: forward pass,
 * reverse-mode gradients for training, and the per-class back-propagated output gradients the eNTK engine
 * needs.
 */
public final class Network {
    private final ModelDescription description;
    private final Parameters parameters;
    private final int[] widths;

    public Network(ModelDescription description, Parameters parameters) {
        this.description = description;
        this.parameters = parameters;
        this.widths = description.widths(parameters.shapes());
    }

    public ModelDescription description() {
        return description;
    }

    public Parameters parameters() {
        return parameters;
    }

    public List<Op> ops() {
        return description.ops();
    }

    public int inputs() {
        return widths[0];
    }

    public int outputs() {
        return widths[widths.length - 1];
    }

    /** Width of the activation entering op {@code i} ({@code i = ops().size()} gives the output width). */
    public int width(int i) {
        return widths[i];
    }

    /** Activations of one forward pass: {@code z(i)} enters op i, {@code z(ops.size())} is the output. */
    public static final class Activations {
        private final List<Matrix> z;

        Activations(List<Matrix> z) {
            this.z = z;
        }

        public Matrix z(int i) {
            return z.get(i);
        }

        public Matrix output() {
            return z.get(z.size() - 1);
        }

        public int samples() {
            return z.get(0).rows();
        }
    }

    public Activations forward(Matrix x) {
        if (x.cols() != inputs()) {
            throw new IllegalArgumentException("inputs have width " + x.cols() + ", the model takes " + inputs());
        }
        List<Matrix> z = new ArrayList<>(ops().size() + 1);
        z.add(x);
        Matrix cur = x;
        for (Op op : ops()) {
            cur = apply(op, cur);
            z.add(cur);
        }
        return new Activations(z);
    }

    public Matrix output(Matrix x) {
        return forward(x).output();
    }

    private Matrix apply(Op op, Matrix in) {
        if (op instanceof Op.Linear l) {
            Matrix w = parameters.get(l.weight());
            Matrix out = isSparse(in) ? sparseTimes(in, l.transpose() ? w : w.transpose())
                    : Blas.multiply(in, false, w, !l.transpose());
            l.bias().ifPresent(b -> addRowVector(out, parameters.get(b)));
            return out;
        }
        if (op instanceof Op.Bias b) {
            Matrix out = in.copy();
            addRowVector(out, parameters.get(b.bias()));
            return out;
        }
        Matrix out = in.copy();
        double[] d = out.data();
        if (op instanceof Op.Scale s) {
            double f = s.factor();
            for (int i = 0; i < d.length; i++) {
                d[i] *= f;
            }
        } else if (op instanceof Op.Square) {
            for (int i = 0; i < d.length; i++) {
                d[i] *= d[i];
            }
        } else if (op instanceof Op.Relu) {
            for (int i = 0; i < d.length; i++) {
                d[i] = d[i] > 0 ? d[i] : 0.0;
            }
        }
        return out;
    }

    /** Inputs at most this dense (share of non-zero entries) are multiplied row by row over their non-zeros. */
    static final double SPARSE_INPUT_DENSITY = 0.05;

    /**
     * Whether {@code m} is sparse enough for {@link #sparseTimes}: one-hot tokens (modular addition's two of 2p
     * entries) make the dense GEMM mostly multiplications by zero (p = 113: 1.5 G multiply-adds for 13 M that count).
     * Stops reading as soon as the answer is no: a dense activation is read only up to its first 5% of non-zeros.
     */
    static boolean isSparse(Matrix m) {
        double[] d = m.data();
        long allowed = (long) (SPARSE_INPUT_DENSITY * d.length);
        long nonZero = 0;
        for (double v : d) {
            if (v != 0.0 && ++nonZero > allowed) {
                return false;
            }
        }
        return d.length > 0;
    }

    /** {@code x W} for a sparse {@code x} (N x d) and {@code W} (d x out): each row sums the rows of W it selects. */
    static Matrix sparseTimes(Matrix x, Matrix w) {
        if (x.cols() != w.rows()) {
            throw new IllegalArgumentException("cannot multiply " + x.shape() + " by " + w.shape());
        }
        int d = x.cols();
        int c = w.cols();
        Matrix out = new Matrix(x.rows(), c);
        double[] xd = x.data();
        double[] wd = w.data();
        double[] od = out.data();
        for (int i = 0; i < x.rows(); i++) {
            int dst = i * c;
            for (int j = 0; j < d; j++) {
                double a = xd[i * d + j];
                if (a != 0.0) {
                    int src = j * c;
                    for (int k = 0; k < c; k++) {
                        od[dst + k] += a * wd[src + k];
                    }
                }
            }
        }
        return out;
    }

    private static void addRowVector(Matrix m, Matrix row) {
        double[] d = m.data();
        double[] b = row.data();
        int c = m.cols();
        for (int i = 0; i < m.rows(); i++) {
            int base = i * c;
            for (int j = 0; j < c; j++) {
                d[base + j] += b[j];
            }
        }
    }

    /**
     * Derivative of an element-wise op at its input, for every sample and unit ({@code N x d}), or null for
     * ops whose derivative is the constant {@link #constantDerivative(Op)}.
     */
    public static Matrix elementwiseDerivative(Op op, Matrix in) {
        if (op instanceof Op.Square) {
            Matrix d = in.copy();
            d.scaleInPlace(2.0);
            return d;
        }
        if (op instanceof Op.Relu) {
            Matrix d = new Matrix(in.rows(), in.cols());
            double[] src = in.data();
            double[] dst = d.data();
            for (int i = 0; i < src.length; i++) {
                dst[i] = src[i] > 0 ? 1.0 : 0.0;
            }
            return d;
        }
        return null;
    }

    /** The constant derivative of scale and bias ops (1 for a bias). */
    public static double constantDerivative(Op op) {
        if (op instanceof Op.Scale s) {
            return s.factor();
        }
        if (op instanceof Op.Bias) {
            return 1.0;
        }
        throw new IllegalArgumentException(op.name() + " has no constant derivative");
    }

    /**
     * Back-propagates {@code g} (rows = samples, or {@code samples x repeats} rows ordered sample-major) from
     * the output of op {@code i} to its input.
     */
    public Matrix backThrough(int i, Activations acts, Matrix g, int repeats) {
        Op op = ops().get(i);
        if (op instanceof Op.Linear l) {
            return Blas.multiply(g, false, parameters.get(l.weight()), l.transpose());
        }
        Matrix deriv = elementwiseDerivative(op, acts.z(i));
        Matrix out = g.copy();
        if (deriv == null) {
            double c = constantDerivative(op);
            if (c != 1.0) {
                out.scaleInPlace(c);
            }
            return out;
        }
        double[] o = out.data();
        double[] dv = deriv.data();
        int w = out.cols();
        for (int r = 0; r < out.rows(); r++) {
            int src = (r / repeats) * w;
            int dst = r * w;
            for (int j = 0; j < w; j++) {
                o[dst + j] *= dv[src + j];
            }
        }
        return out;
    }

    /** Gradient of a loss with respect to every parameter, given {@code dLoss/dOutput} ({@code N x C}). */
    public Parameters gradient(Activations acts, Matrix gradOutput) {
        if (gradOutput.rows() != acts.samples() || gradOutput.cols() != outputs()) {
            throw new IllegalArgumentException("output gradient " + gradOutput.shape() + " does not match "
                    + acts.samples() + " x " + outputs());
        }
        Parameters grads = parameters.zerosLike();
        Matrix g = gradOutput;
        for (int i = ops().size() - 1; i >= 0; i--) {
            Op op = ops().get(i);
            if (op instanceof Op.Linear l) {
                Matrix gw = grads.get(l.weight());
                // y = x W^T: dW = g^T x;  y = x W: dW = x^T g.
                if (l.transpose()) {
                    Blas.gemm(1.0, acts.z(i), true, g, false, 1.0, gw);
                } else {
                    Blas.gemm(1.0, g, true, acts.z(i), false, 1.0, gw);
                }
                if (l.bias().isPresent()) {
                    addColumnSums(grads.get(l.bias().get()), g);
                }
            } else if (op instanceof Op.Bias b) {
                addColumnSums(grads.get(b.bias()), g);
            }
            if (i > 0) {
                g = backThrough(i, acts, g, 1);
            }
        }
        return grads;
    }

    private static void addColumnSums(Matrix target, Matrix g) {
        double[] t = target.data();
        double[] d = g.data();
        int c = g.cols();
        for (int r = 0; r < g.rows(); r++) {
            int base = r * c;
            for (int j = 0; j < c; j++) {
                t[j] += d[base + j];
            }
        }
    }

    /**
     * Per-class gradients of the outputs with respect to the activation leaving op {@code i}:
     * row {@code x * C + c} holds {@code d f_c(x) / d z_{i+1}(x)} ({@code N*C x width(i+1)}).
     */
    public Matrix classGradients(Activations acts, int i) {
        int n = acts.samples();
        int c = outputs();
        Matrix g = new Matrix(n * c, c);
        double[] gd = g.data();
        for (int x = 0; x < n; x++) {
            for (int k = 0; k < c; k++) {
                gd[(x * c + k) * c + k] = 1.0;
            }
        }
        for (int j = ops().size() - 1; j > i; j--) {
            g = backThrough(j, acts, g, c);
        }
        return g;
    }
}

package io.grokwatch.entk;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Network;
import io.grokwatch.model.Op;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The per-layer quantities the eNTK is built from, for one network on one probe set: the activation each
 * parameter multiplies and the per-class output gradients at each op's output. Every Jacobian entry is a
 * product of the two, so no N x C x P Jacobian is ever formed.
 */
final class LayerStructure {
    private final Network net;
    private final Network.Activations acts;
    private final int n;
    private final int c;
    private final List<ParameterUse> uses = new ArrayList<>();
    private final Map<Integer, Matrix> classGradients = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Optional<Matrix>> collapsed = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Optional<ClassFactor>> factors = new java.util.concurrent.ConcurrentHashMap<>();
    private final Matrix ones;

    LayerStructure(Network net, Matrix probes) {
        this.net = net;
        this.acts = net.forward(probes);
        this.n = probes.rows();
        this.c = net.outputs();
        this.ones = new Matrix(n, 1);
        java.util.Arrays.fill(ones.data(), 1.0);
        List<Op> ops = net.ops();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            if (op instanceof Op.Linear l) {
                uses.add(new ParameterUse(l.weight(), i, !l.transpose(), false));
                if (l.bias().isPresent()) {
                    uses.add(new ParameterUse(l.bias().get(), i, true, true));
                }
            } else if (op instanceof Op.Bias b) {
                uses.add(new ParameterUse(b.bias(), i, true, true));
            }
        }
    }

    Network network() {
        return net;
    }

    Network.Activations activations() {
        return acts;
    }

    int samples() {
        return n;
    }

    int classes() {
        return c;
    }

    List<ParameterUse> uses() {
        return uses;
    }

    List<ParameterUse> usesOf(String parameter) {
        List<ParameterUse> r = new ArrayList<>();
        for (ParameterUse u : uses) {
            if (u.parameter().equals(parameter)) {
                r.add(u);
            }
        }
        return r;
    }

    /** The activation a parameter multiplies ({@code N x d_a}); a column of ones for a bias. */
    Matrix activation(ParameterUse u) {
        if (u.bias()) {
            return ones;
        }
        return acts.z(u.op());
    }

    int deltaWidth(ParameterUse u) {
        return net.width(u.op() + 1);
    }

    /** Row {@code x*C + c} = {@code d f_c(x) / d z_{op+1}(x)}; equivalently an {@code N x (C*d)} matrix. */
    Matrix classGradients(int op) {
        return classGradients.computeIfAbsent(op, i -> net.classGradients(acts, i));
    }

    /** {@code d f_cls / d z_{op+1}} for every probe, {@code N x d}. */
    Matrix classBlock(int op, int cls) {
        Matrix g = classGradients(op);
        int d = g.cols();
        Matrix b = new Matrix(n, d);
        double[] src = g.data();
        double[] dst = b.data();
        for (int x = 0; x < n; x++) {
            System.arraycopy(src, (x * c + cls) * d, dst, x * d, d);
        }
        return b;
    }

    /**
     * Output gradients that factor as {@code delta_c(x) = r_c(x) b_c}: a fixed direction per class times a per-probe
     * rate.
     *
     * @param directions d x C, column c is {@code b_c}
     * @param rates      N x C, {@code r_c(x)}
     */
    record ClassFactor(Matrix directions, Matrix rates) {
    }

    /**
     * {@link ClassFactor} of the gradients at the output of {@code op}, when the ops after it are at most one linear
     * map followed only by element-wise ops, scales and biases (an MLP's output head, a TMS decoder): output c then
     * depends on the activation only through the linear map's row c, scaled by the derivatives of the element-wise
     * tail at output c. Empty otherwise. Dual Grams use it to sum over classes before probes.
     */
    Optional<ClassFactor> classFactor(int op) {
        return factors.computeIfAbsent(op, this::factor);
    }

    private Optional<ClassFactor> factor(int op) {
        List<Op> ops = net.ops();
        int d = net.width(op + 1);
        int j = op + 1;
        Matrix directions;
        if (j < ops.size() && ops.get(j) instanceof Op.Linear l) {
            Matrix w = net.parameters().get(l.weight());
            // y = z W^T: dy_c/dz = W[c, :], so the directions are W^T; tied y = z W: the columns of W.
            directions = l.transpose() ? w.copy() : w.transpose();
            j++;
        } else {
            directions = new Matrix(d, d);
            for (int i = 0; i < d; i++) {
                directions.set(i, i, 1.0);
            }
        }
        if (directions.rows() != d || directions.cols() != c) {
            return Optional.empty();
        }
        Matrix rates = new Matrix(n, c);
        java.util.Arrays.fill(rates.data(), 1.0);
        for (; j < ops.size(); j++) {
            Op after = ops.get(j);
            if (after instanceof Op.Linear) {
                return Optional.empty();
            }
            Matrix dj = Network.elementwiseDerivative(after, acts.z(j));
            if (dj == null) {
                rates.scaleInPlace(Network.constantDerivative(after));
            } else {
                rates.hadamardInPlace(dj);
            }
        }
        return Optional.of(new ClassFactor(directions, rates));
    }

    /**
     * A factor {@code Phi} ({@code N x d}) with {@code sum_c delta_c(x) . delta_c(x') = Phi Phi^T}, when the
     * ops after {@code op} are element-wise ops, then at most one linear map, then only scales and biases.
     * The class sum then collapses through the read-out: {@code Phi = D(x) * sqrt(s^2 colnorm2(M))} where D is
     * the product of the element-wise derivatives. Otherwise empty, and callers use {@link #classGradients}.
     */
    Optional<Matrix> collapsedFactor(int op) {
        return collapsed.computeIfAbsent(op, this::collapse);
    }

    private Optional<Matrix> collapse(int op) {
        List<Op> ops = net.ops();
        int d = net.width(op + 1);
        Matrix deriv = new Matrix(n, d);
        java.util.Arrays.fill(deriv.data(), 1.0);
        int j = op + 1;
        for (; j < ops.size() && !(ops.get(j) instanceof Op.Linear); j++) {
            Matrix dj = Network.elementwiseDerivative(ops.get(j), acts.z(j));
            if (dj == null) {
                deriv.scaleInPlace(Network.constantDerivative(ops.get(j)));
            } else {
                deriv.hadamardInPlace(dj);
            }
        }
        double[] weights = new double[d];
        if (j == ops.size()) {
            java.util.Arrays.fill(weights, 1.0);
        } else {
            Op.Linear readout = (Op.Linear) ops.get(j);
            double s = 1.0;
            for (int k = j + 1; k < ops.size(); k++) {
                Op after = ops.get(k);
                if (after instanceof Op.Scale || after instanceof Op.Bias) {
                    s *= Network.constantDerivative(after);
                } else {
                    return Optional.empty();
                }
            }
            Matrix w = net.parameters().get(readout.weight());
            // Jacobian of the read-out is W (out x in) or, transposed, W^T: column norms over the d inputs.
            double[] wd = w.data();
            for (int r = 0; r < w.rows(); r++) {
                for (int col = 0; col < w.cols(); col++) {
                    double v = wd[r * w.cols() + col];
                    weights[readout.transpose() ? r : col] += v * v;
                }
            }
            for (int k = 0; k < d; k++) {
                weights[k] *= s * s;
            }
        }
        double[] dd = deriv.data();
        for (int x = 0; x < n; x++) {
            for (int k = 0; k < d; k++) {
                dd[x * d + k] *= Math.sqrt(weights[k]);
            }
        }
        return Optional.of(deriv);
    }
}

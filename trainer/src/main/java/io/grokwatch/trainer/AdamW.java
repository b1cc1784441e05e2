package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Parameters;

import java.util.Arrays;

/**
 * Adam with decoupled weight decay, as {@code torch.optim.AdamW} (and, with weight decay 0,
 * {@code torch.optim.Adam}). Per tensor element, at step {@code t = 1, 2, ...}:
 *
 * <pre>
 * p *= 1 - lr * weightDecay
 * m  = beta1 m + (1 - beta1) g
 * v  = beta2 v + (1 - beta2) g^2
 * p -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)
 * </pre>
 *
 * The arithmetic follows PyTorch's and the test fixtures' numpy ({@code adam_reference.py}) operation by
 * operation. The state (step count, first and second moments) is exposed as {@link Parameters} so that it can
 * be saved next to a checkpoint and {@linkplain #restore restored}.
 */
public final class AdamW implements Optimizer {
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPS = 1e-8;

    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private long steps;
    private Parameters m;
    private Parameters v;

    public AdamW(double lr, double beta1, double beta2, double eps, double weightDecay) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("lr must be a finite number > 0, got " + lr);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(eps >= 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("eps must be a finite number >= 0, got " + eps);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be a finite number >= 0, got " + weightDecay);
        }
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** AdamW with PyTorch's default betas (0.9, 0.999) and eps 1e-8. */
    public static AdamW withDefaults(double lr, double weightDecay) {
        return new AdamW(lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, weightDecay);
    }

    /** Plain Adam ({@code torch.optim.Adam} without L2 penalty): AdamW with weight decay 0. */
    public static AdamW adam(double lr, double beta1, double beta2, double eps) {
        return new AdamW(lr, beta1, beta2, eps, 0.0);
    }

    /** Plain Adam with PyTorch's default betas (0.9, 0.999) and eps 1e-8. */
    public static AdamW adam(double lr) {
        return adam(lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS);
    }

    public double lr() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public long stepCount() {
        return steps;
    }

    /** A copy of the first-moment estimates ({@code exp_avg}), or null before the first step. */
    public Parameters firstMoment() {
        return m == null ? null : m.copy();
    }

    /** A copy of the second-moment estimates ({@code exp_avg_sq}), or null before the first step. */
    public Parameters secondMoment() {
        return v == null ? null : v.copy();
    }

    /**
     * Replaces the state with a saved one (copied). {@code firstMoment} and {@code secondMoment} must have the
     * same names and shapes; both may be null only together with {@code stepCount == 0}.
     */
    public void restore(long stepCount, Parameters firstMoment, Parameters secondMoment) {
        if (stepCount < 0) {
            throw new IllegalArgumentException("stepCount must be >= 0, got " + stepCount);
        }
        if (firstMoment == null || secondMoment == null) {
            if (stepCount != 0 || firstMoment != secondMoment) {
                throw new IllegalArgumentException("moments may be missing only before the first step, got step "
                        + stepCount);
            }
            this.steps = 0;
            this.m = null;
            this.v = null;
            return;
        }
        requireSameTensors("second moment", firstMoment, "first moment", secondMoment);
        this.steps = stepCount;
        this.m = firstMoment.copy();
        this.v = secondMoment.copy();
    }

    @Override
    public void step(Parameters params, Parameters grads) {
        requireSameTensors("gradients", grads, "parameters", params);
        if (m == null) {
            m = params.zerosLike();
            v = params.zerosLike();
        } else {
            requireSameTensors("parameters", params, "optimizer state", m);
        }
        long t = steps + 1;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        double decay = 1 - lr * weightDecay;
        double c1 = 1 - beta1;
        double c2 = 1 - beta2;
        for (String name : params.names()) {
            double[] p = params.get(name).data();
            double[] g = grads.get(name).data();
            double[] mm = m.get(name).data();
            double[] vv = v.get(name).data();
            for (int i = 0; i < p.length; i++) {
                double gi = g[i];
                p[i] *= decay;
                mm[i] = beta1 * mm[i] + c1 * gi;
                vv[i] = beta2 * vv[i] + c2 * gi * gi;
                double mh = mm[i] / bc1;
                double vh = vv[i] / bc2;
                p[i] -= lr * mh / (Math.sqrt(vh) + eps);
            }
        }
        steps = t;
    }

    private static void requireSameTensors(String what, Parameters a, String against, Parameters b) {
        if (!a.names().equals(b.names())) {
            throw new IllegalArgumentException(what + " hold tensors " + a.names() + " but the " + against
                    + " hold " + b.names());
        }
        for (String name : a.names()) {
            Matrix x = a.get(name);
            Matrix y = b.get(name);
            if (x.rows() != y.rows() || x.cols() != y.cols()) {
                throw new IllegalArgumentException(what + ": tensor '" + name + "' has shape "
                        + Arrays.toString(a.shape(name)) + ", the " + against + " have "
                        + Arrays.toString(b.shape(name)));
            }
        }
    }

    @Override
    public String toString() {
        return "AdamW[lr=" + lr + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weightDecay="
                + weightDecay + ", step=" + steps + "]";
    }
}

package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Parameters;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loss gradients against central finite differences {@code (L(q + h) - L(q - h)) / 2h}, h = 1e-5, over every
 * parameter of a tiny model. Pass criterion: relative error {@code ||g - g_fd||_2 / ||g_fd||_2 < 1e-6}.
 */
class GradientCheckTest {
    private static final double STEP = 1e-5;
    private static final double MAX_RELATIVE_ERROR = 1e-6;

    @Test
    void modularAdditionGradientMatchesFiniteDifferences() {
        ModularAdditionTask task = ModularAdditionTask.create(
                new ModularAdditionTask.Config(5, 8, 0.7, 0.05, 0.01, 10, 3));
        Parameters params = task.parameters();
        Parameters fd = finiteDifferences(params, p -> task.lossAndGradient(p).loss());
        assertRelativeError(fd, task.lossAndGradient(params).gradient(), "one-hot fast path");
        assertRelativeError(fd, task.lossAndGradientGeneric(params).gradient(), "generic network path");
    }

    @Test
    void modularAdditionFastPathEqualsGenericPathAtPaperSize() {
        ModularAdditionTask task = ModularAdditionTask.create(ModularAdditionTask.Config.defaults().withSeed(7));
        for (int e = 0; e < 3; e++) {
            task.step();
        }
        Parameters params = task.parameters();
        LossGradient fast = task.lossAndGradient(params);
        LossGradient generic = task.lossAndGradientGeneric(params);
        assertTrue(Math.abs(fast.loss() - generic.loss()) <= 1e-12 * generic.loss());
        assertRelativeError(generic.gradient(), fast.gradient(), 1e-12, "fast vs generic path (rounding only, ~1e-16 seen)");
    }

    @Test
    void tmsGradientMatchesFiniteDifferences() {
        TmsTask.Config config = new TmsTask.Config(6, 3, 0.3, 0.8, 40, 10, 1e-3, 9);
        TmsTask task = TmsTask.create(config);
        Parameters params = task.parameters();
        // Move b off zero so that the gradient of b is exercised and ReLU inputs sit away from the kink.
        SplittableRandom rng = new SplittableRandom(11);
        double[] b = params.get(TmsTask.B).data();
        for (int i = 0; i < b.length; i++) {
            b[i] = 0.1 * rng.nextGaussian();
        }
        assertTrue(minAbsPreActivation(task.dataset(), params) > 5e-3,
                "finite differences need every ReLU input at least 5e-3 from 0 (seed chosen for that)");
        Parameters fd = finiteDifferences(params, p -> task.lossAndGradient(p).loss());
        assertRelativeError(fd, task.lossAndGradient(params).gradient(), "TMS");
    }

    private static double minAbsPreActivation(Matrix x, Parameters params) {
        Matrix w = params.get(TmsTask.W);
        Matrix z = x.timesTranspose(w).times(w);
        double[] b = params.get(TmsTask.B).data();
        double min = Double.POSITIVE_INFINITY;
        for (int r = 0; r < z.rows(); r++) {
            for (int c = 0; c < z.cols(); c++) {
                min = Math.min(min, Math.abs(z.get(r, c) + b[c]));
            }
        }
        return min;
    }

    static Parameters finiteDifferences(Parameters params, ToDoubleFunction<Parameters> loss) {
        Parameters fd = params.zerosLike();
        for (String name : params.names()) {
            double[] q = params.get(name).data();
            double[] g = fd.get(name).data();
            for (int i = 0; i < q.length; i++) {
                double keep = q[i];
                q[i] = keep + STEP;
                double plus = loss.applyAsDouble(params);
                q[i] = keep - STEP;
                double minus = loss.applyAsDouble(params);
                q[i] = keep;
                g[i] = (plus - minus) / (2 * STEP);
            }
        }
        return fd;
    }

    static void assertRelativeError(Parameters expected, Parameters actual, String what) {
        assertRelativeError(expected, actual, MAX_RELATIVE_ERROR, what);
    }

    static void assertRelativeError(Parameters expected, Parameters actual, double tolerance, String what) {
        double diff = 0;
        double norm = 0;
        for (String name : expected.names()) {
            double[] e = expected.get(name).data();
            double[] a = actual.get(name).data();
            for (int i = 0; i < e.length; i++) {
                diff += (e[i] - a[i]) * (e[i] - a[i]);
                norm += e[i] * e[i];
            }
        }
        double rel = Math.sqrt(diff / norm);
        assertTrue(norm > 0, what + ": reference gradient is zero");
        assertTrue(rel < tolerance, what + ": relative error " + rel + " >= " + tolerance);
    }
}

package io.grokwatch.entk;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;

import java.util.ArrayList;
import java.util.List;

/**
 * The explicit Jacobian, one back-propagation per (probe, class). Far too slow and large for real use; it
 * is the oracle the structured kernels are tested against and the naive baseline of the benchmark.
 */
public final class DenseJacobian {
    private final List<Matrix> perClass;
    private final int classes;

    /** Jacobian of every output with respect to {@code parameters} (in that order, each row-major). */
    public DenseJacobian(Network net, Matrix probes, List<String> parameters) {
        int n = probes.rows();
        this.classes = net.outputs();
        long pl = 0;
        for (String p : parameters) {
            Matrix m = net.parameters().get(p);
            pl += (long) m.rows() * m.cols();
        }
        int pCount = Math.toIntExact(pl);
        perClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            perClass.add(new Matrix(n, pCount));
        }
        for (int x = 0; x < n; x++) {
            Network.Activations acts = net.forward(probes.rowRange(x, x + 1));
            for (int c = 0; c < classes; c++) {
                Matrix seed = new Matrix(1, classes);
                seed.set(0, c, 1.0);
                Parameters g = net.gradient(acts, seed);
                double[] row = perClass.get(c).data();
                int off = x * pCount;
                for (String p : parameters) {
                    double[] gd = g.get(p).data();
                    System.arraycopy(gd, 0, row, off, gd.length);
                    off += gd.length;
                }
            }
        }
    }

    /** {@code J_c}: N x P. */
    public Matrix classBlock(int c) {
        return perClass.get(c);
    }

    public int classes() {
        return classes;
    }

    public Matrix classMean() {
        Matrix k = null;
        for (Matrix j : perClass) {
            Matrix t = j.timesTranspose(j);
            k = k == null ? t : k.addInPlace(1.0, t);
        }
        return k.scaleInPlace(1.0 / classes);
    }

    public Matrix perClass(int c, int d) {
        return perClass.get(c).timesTranspose(perClass.get(d));
    }

    /** The stacked {@code S J} with channel-major rows {@code c*N + x}. */
    public Matrix flattenedJacobian(double[] scale) {
        int n = perClass.get(0).rows();
        int p = perClass.get(0).cols();
        Matrix j = new Matrix(n * classes, p);
        for (int c = 0; c < classes; c++) {
            double s = scale == null ? 1.0 : scale[c];
            double[] src = perClass.get(c).data();
            double[] dst = j.data();
            for (int i = 0; i < src.length; i++) {
                dst[c * n * p + i] = s * src[i];
            }
        }
        return j;
    }
}

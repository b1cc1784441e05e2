package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;

import java.util.EnumMap;
import java.util.Map;

/**
 * Ground-truth Fourier features of modular addition mod {@code p}, evaluated on the full probe set of
 * {@code p^2} input pairs. Row {@code x = a p + b} is the input {@code (a, b)} (numpy
 * {@code meshgrid(..., indexing="ij").ravel()} order, the order the eNTK kernels use).
 *
 * <p>For every {@link Family} the columns {@code cos(2 pi k v / p), sin(2 pi k v / p)}, {@code k = 1 .. floor(p/2)},
 * are centred and orthonormalised into an {@code N x (p-1)} basis: the subspace a cliff of the eNTK
 * spectrum is compared with. The per-frequency blocks {@code [cos_k, sin_k]} (each column centred and
 * normalised) measure which single mode a vector is, independent of its phase.
 */
public final class FourierFamilies {
    private final int p;
    /**
     * Both built on first use: the overlaps need neither (they use level sets, below), and at p = 113 building them
     * took most of every run analyzer's start (docs/benchmarks.md).
     */
    private final Map<Family, Matrix> bases = new EnumMap<>(Family.class);
    private final Map<Family, Matrix[]> blocks = new EnumMap<>(Family.class);

    private FourierFamilies(int p) {
        this.p = p;
    }

    private synchronized Matrix[] blocksOf(Family family) {
        return blocks.computeIfAbsent(family, f -> {
            Matrix[] perFrequency = new Matrix[maxFrequency()];
            for (int k = 1; k <= perFrequency.length; k++) {
                perFrequency[k - 1] = Orthonormal.columns(centredPair(f, k));
            }
            return perFrequency;
        });
    }

    /** The centred columns {@code cos(2 pi k v / p), sin(2 pi k v / p)} of one frequency, N x 2. */
    private Matrix centredPair(Family family, int k) {
        Matrix pair = new Matrix(p * p, 2);
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                double angle = 2 * Math.PI * k * family.value(a, b, p) / p;
                int x = a * p + b;
                pair.set(x, 0, Math.cos(angle));
                pair.set(x, 1, Math.sin(angle));
            }
        }
        centreColumns(pair);
        return pair;
    }

    private synchronized Matrix basisOf(Family family) {
        return bases.computeIfAbsent(family, f -> {
            int kMax = maxFrequency();
            Matrix raw = new Matrix(p * p, 2 * kMax);
            for (int k = 1; k <= kMax; k++) {
                Matrix pair = centredPair(f, k);
                for (int x = 0; x < p * p; x++) {
                    raw.set(x, 2 * (k - 1), pair.get(x, 0));
                    raw.set(x, 2 * (k - 1) + 1, pair.get(x, 1));
                }
            }
            return Orthonormal.columns(raw);
        });
    }

    /** The families for modulus {@code p >= 2} (prime in the experiment; any modulus works). */
    public static FourierFamilies of(int p) {
        if (p < 2 || p > 46_340) {
            throw new IllegalArgumentException("modulus p must be in 2..46340 (p^2 probe rows), got " + p);
        }
        return new FourierFamilies(p);
    }

    public int p() {
        return p;
    }

    /** {@code N = p^2}, the number of probe inputs (rows of every basis). */
    public int probeCount() {
        return p * p;
    }

    /** Row of input {@code (a, b)}: {@code a p + b}. */
    public int probeIndex(int a, int b) {
        if (a < 0 || a >= p || b < 0 || b >= p) {
            throw new IllegalArgumentException("input (" + a + ", " + b + ") outside 0.." + (p - 1));
        }
        return a * p + b;
    }

    /** {@code floor(p/2)}: frequencies run {@code 1 .. maxFrequency()}. */
    public int maxFrequency() {
        return p / 2;
    }

    /** Orthonormal basis of the family, {@code N x (p-1)} (a copy). */
    public Matrix basis(Family family) {
        return basisOf(family).copy();
    }

    /**
     * The centred, normalised {@code [cos_k, sin_k]} columns of one frequency, {@code N x 2} (a copy). For even
     * {@code p} and {@code k = p/2} the sine vanishes and the block has one column.
     */
    public Matrix frequencyBlock(Family family, int k) {
        return blockView(family, k).copy();
    }

    /**
     * {@code || [cos_k, sin_k]^T u ||}: how much of {@code u} is the frequency-{@code k} mode of the family, whatever
     * its phase. Equals {@code ||u||} when {@code u} lies in the mode's plane.
     */
    public double alignment(double[] u, Family family, int k) {
        if (u.length != p * p) {
            throw new IllegalArgumentException("vector has " + u.length + " entries, the probe set has " + p * p);
        }
        return alignmentUnchecked(u, blockView(family, k));
    }

    /**
     * {@code ||F^T Q||_F^2} for the family's orthonormal basis F, without F: the family's modes span exactly the
     * mean-zero functions of {@code v(a, b)}, and every value of v is taken by p inputs, so projecting a column onto
     * the family replaces each entry by the mean over its level set of v, less the column's mean. That is
     * {@code sum_v S_v^2 / p - S^2 / N} per column (S_v its sum over a level set, S its total): N additions per
     * column instead of a product with the N x (p-1) basis (measured an order of magnitude faster at p = 113).
     */
    double capturedSquaredNorm(Matrix q, Family family) {
        if (q.rows() != p * p) {
            throw new IllegalArgumentException("vectors " + q.shape() + " do not live on the " + p * p
                    + " probe inputs of p=" + p);
        }
        int c = q.cols();
        double[] sums = new double[p * c];
        double[] qd = q.data();
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                int src = (a * p + b) * c;
                int dst = family.value(a, b, p) * c;
                for (int j = 0; j < c; j++) {
                    sums[dst + j] += qd[src + j];
                }
            }
        }
        double captured = 0;
        double[] total = new double[c];
        for (int v = 0; v < p; v++) {
            for (int j = 0; j < c; j++) {
                double s = sums[v * c + j];
                captured += s * s;
                total[j] += s;
            }
        }
        captured /= p;
        for (double t : total) {
            captured -= t * t / ((double) p * p);
        }
        return Math.max(0.0, captured);
    }

    /**
     * Dimension of the family's subspace, {@code p - 1}: the mean-zero functions of the p values of v (for even p
     * the top frequency has a cosine and no sine).
     */
    int dimension(Family family) {
        return p - 1;
    }

    Matrix blockView(Family family, int k) {
        if (k < 1 || k > maxFrequency()) {
            throw new IllegalArgumentException("frequency " + k + " outside 1.." + maxFrequency() + " for p=" + p);
        }
        return blocksOf(family)[k - 1];
    }

    static double alignmentUnchecked(double[] u, Matrix block) {
        int c = block.cols();
        double[] bd = block.data();
        double s = 0;
        for (int j = 0; j < c; j++) {
            double dot = 0;
            for (int i = 0; i < u.length; i++) {
                dot += bd[i * c + j] * u[i];
            }
            s += dot * dot;
        }
        return Math.sqrt(s);
    }

    private static void centreColumns(Matrix m) {
        int n = m.rows();
        for (int j = 0; j < m.cols(); j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += m.get(i, j);
            }
            mean /= n;
            for (int i = 0; i < n; i++) {
                m.add(i, j, -mean);
            }
        }
    }
}

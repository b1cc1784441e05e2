package io.grokwatch.features;

import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;
import io.grokwatch.linalg.SymmetricEigen;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Disentangles a cliff into single Fourier modes by two-stage graph smoothness (docs/science.md). A cliff's
 * eigenvectors span a feature subspace in an arbitrary basis, because the eigenvalues inside a plateau are
 * nearly equal. The first Laplacian splits the span into the family it cannot see (energy 0: the m modes under
 * {@code L_n}, the diff modes under {@code L_sum}) and the family it resolves by frequency; the second Laplacian
 * then resolves the smoother half. Each resulting vector should be one (family, k) cos/sin pair.
 */
public final class CliffRotation {
    /** A vector whose best mode alignment reaches this counts as clean in the summary. */
    public static final double CLEAN_ALIGNMENT = 0.9;

    private final FourierFamilies families;
    private final TorusLaplacian first;
    private final TorusLaplacian second;

    private CliffRotation(FourierFamilies families, TorusLaplacian first, TorusLaplacian second) {
        if (first.p() != families.p() || second.p() != families.p()) {
            throw new IllegalArgumentException("Laplacians " + first + ", " + second + " do not match families of p="
                    + families.p());
        }
        this.families = families;
        this.first = first;
        this.second = second;
    }

    /** First cliff (n and m modes): {@code L_n} then {@code L_m}. */
    public static CliffRotation firstCliff(FourierFamilies families) {
        return new CliffRotation(families, TorusLaplacian.alongN(families.p()), TorusLaplacian.alongM(families.p()));
    }

    /** Second cliff (sum and diff modes): {@code L_sum} then {@code L_diff}. */
    public static CliffRotation secondCliff(FourierFamilies families) {
        return new CliffRotation(families, TorusLaplacian.alongSum(families.p()),
                TorusLaplacian.alongDiff(families.p()));
    }

    /** Any pair of stages, for experiments with other graphs. */
    public static CliffRotation of(FourierFamilies families, TorusLaplacian first, TorusLaplacian second) {
        return new CliffRotation(families, first, second);
    }

    /**
     * Rotates the span of {@code cliffBasis} ({@code N x d}, not necessarily orthonormal) and reports every
     * rotated vector's alignment with every (family, frequency) mode.
     */
    public RotatedCliff rotate(Matrix cliffBasis) {
        if (cliffBasis.rows() != families.probeCount()) {
            throw new IllegalArgumentException("cliff basis " + cliffBasis.shape() + " does not live on the "
                    + families.probeCount() + " probe inputs of p=" + families.p());
        }
        Matrix q = Orthonormal.columns(cliffBasis);
        if (q.cols() == 0) {
            throw new IllegalArgumentException("cliff basis " + cliffBasis.shape() + " spans nothing");
        }
        Matrix byFirst = q.times(ascendingEigenvectors(first.restrictedTo(q)));
        int d = byFirst.cols();
        int half = d / 2;
        Matrix lower = byFirst.columns(0, half);
        Matrix lowerBySecond = half == 0 ? lower : lower.times(ascendingEigenvectors(second.restrictedTo(lower)));
        Matrix rotated = concatColumns(lowerBySecond, byFirst.columns(half, d));
        return describe(rotated);
    }

    private RotatedCliff describe(Matrix rotated) {
        int d = rotated.cols();
        Matrix firstApplied = first.apply(rotated);
        Matrix secondApplied = second.apply(rotated);
        int kMax = families.maxFrequency();
        Family[] all = Family.values();
        List<RotatedVector> reports = new ArrayList<>(d);
        Set<ModeKey> clean = new HashSet<>();
        double sumBest = 0;
        double minBest = Double.POSITIVE_INFINITY;
        int cleanCount = 0;
        for (int j = 0; j < d; j++) {
            double[] u = rotated.column(j);
            double[][] alignments = new double[all.length][kMax];
            ModeAlignment best = null;
            for (Family family : all) {
                for (int k = 1; k <= kMax; k++) {
                    double a = FourierFamilies.alignmentUnchecked(u, families.blockView(family, k));
                    alignments[family.ordinal()][k - 1] = a;
                    if (best == null || a > best.alignment()) {
                        best = new ModeAlignment(family, k, a);
                    }
                }
            }
            if (best == null) {
                throw new IllegalStateException("p=" + families.p() + " has no frequencies to align with");
            }
            reports.add(new RotatedVector(j, dot(u, firstApplied.column(j)), dot(u, secondApplied.column(j)),
                    alignments, best));
            sumBest += best.alignment();
            minBest = Math.min(minBest, best.alignment());
            if (best.alignment() >= CLEAN_ALIGNMENT) {
                cleanCount++;
                clean.add(new ModeKey(best.family(), best.frequency()));
            }
        }
        RotationSummary summary = new RotationSummary(sumBest / d, minBest, CLEAN_ALIGNMENT, cleanCount,
                clean.size(), d);
        return new RotatedCliff(rotated, reports, summary);
    }

    private record ModeKey(Family family, int frequency) {
    }

    /** Eigenvectors of a small symmetric matrix, columns ordered by ascending eigenvalue. */
    private static Matrix ascendingEigenvectors(Matrix symmetric) {
        Eigenpairs e = SymmetricEigen.full(symmetric);
        Matrix v = e.vectors();
        int n = v.rows();
        int c = v.cols();
        Matrix asc = new Matrix(n, c);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                asc.set(i, j, v.get(i, c - 1 - j));
            }
        }
        return asc;
    }

    private static Matrix concatColumns(Matrix left, Matrix right) {
        int n = left.rows();
        int w = left.cols() + right.cols();
        Matrix m = new Matrix(n, w);
        for (int i = 0; i < n; i++) {
            System.arraycopy(left.data(), i * left.cols(), m.data(), i * w, left.cols());
            System.arraycopy(right.data(), i * right.cols(), m.data(), i * w + left.cols(), right.cols());
        }
        return m;
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }
}

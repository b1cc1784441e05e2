package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Orthonormal;

import java.util.EnumMap;
import java.util.Map;

/**
 * How much of a feature subspace a set of eigenvectors captures: with both sides orthonormalised,
 * {@code ||Q^T F||_F^2 / f}, the mean squared cosine of the principal angles, in {@code [0, 1]}. It is 1 when
 * the span of {@code Q} contains the family and does not depend on which basis of either span is passed, so
 * degenerate or sign-flipped eigenvectors give the same number.
 */
public final class SubspaceOverlap {
    private SubspaceOverlap() {
    }

    /**
     * The share of the family {@code F} (N x f) captured by the span of {@code q} (N x d). Both are
     * orthonormalised here (a basis that is already orthonormal is returned unchanged), numerically
     * dependent columns are dropped, and {@code f} is the family's numerical rank.
     */
    public static double overlap(Matrix q, Matrix family) {
        requireSameRows(q, family);
        Matrix f = Orthonormal.columns(family);
        if (f.cols() == 0) {
            throw new IllegalArgumentException("feature family " + family.shape() + " spans nothing");
        }
        return overlapOrthonormal(Orthonormal.columns(q), f);
    }

    /** The overlap of the span of {@code q} with every Fourier family of {@code families}. */
    public static Map<Family, Double> overlaps(Matrix q, FourierFamilies families) {
        if (q.rows() != families.probeCount()) {
            throw new IllegalArgumentException("vectors " + q.shape() + " do not live on the " + families.probeCount()
                    + " probe inputs of p=" + families.p());
        }
        Matrix qo = Orthonormal.columns(q);
        Map<Family, Double> out = new EnumMap<>(Family.class);
        for (Family family : Family.values()) {
            out.put(family, familyOverlap(qo, families, family));
        }
        return out;
    }

    /**
     * As {@link #overlaps(Matrix, FourierFamilies)} for columns that are already orthonormal (eigenvectors of
     * a symmetric solve), skipping the re-orthonormalisation that dominates the cost.
     */
    public static Map<Family, Double> overlapsOfOrthonormal(Matrix q, FourierFamilies families) {
        if (q.rows() != families.probeCount()) {
            throw new IllegalArgumentException("vectors " + q.shape() + " do not live on the " + families.probeCount()
                    + " probe inputs of p=" + families.p());
        }
        Map<Family, Double> out = new EnumMap<>(Family.class);
        for (Family family : Family.values()) {
            out.put(family, familyOverlap(q, families, family));
        }
        return out;
    }

    private static double familyOverlap(Matrix orthonormal, FourierFamilies families, Family family) {
        if (orthonormal.cols() == 0) {
            return 0.0;
        }
        // Rounding can push a full capture a hair above 1.
        return Math.min(1.0, families.capturedSquaredNorm(orthonormal, family) / families.dimension(family));
    }

    private static double overlapOrthonormal(Matrix q, Matrix f) {
        if (q.cols() == 0) {
            return 0.0;
        }
        double s = q.transposeTimes(f).frobeniusNorm();
        // Rounding can push a full capture a hair above 1.
        return Math.min(1.0, s * s / f.cols());
    }

    private static void requireSameRows(Matrix q, Matrix family) {
        if (q.rows() != family.rows()) {
            throw new IllegalArgumentException("vectors " + q.shape() + " and feature family " + family.shape()
                    + " must have the same number of rows");
        }
    }
}

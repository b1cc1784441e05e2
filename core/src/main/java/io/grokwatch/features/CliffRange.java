package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

/** Eigenvector indices {@code first .. last} (0-based, inclusive) that make up one cliff's plateau. */
public record CliffRange(int first, int last) {
    public CliffRange {
        if (first < 0 || last < first) {
            throw new IllegalArgumentException("cliff range needs 0 <= first <= last, got " + first + ".." + last);
        }
    }

    public int size() {
        return last - first + 1;
    }

    /** The range's columns of an eigenvector matrix (column j = eigenvector j). */
    public Matrix columnsOf(Matrix eigenvectors) {
        if (eigenvectors.cols() <= last) {
            throw new IllegalArgumentException("cliff " + first + ".." + last + " needs at least " + (last + 1)
                    + " eigenvectors, got " + eigenvectors.shape());
        }
        return eigenvectors.columns(first, last + 1);
    }
}

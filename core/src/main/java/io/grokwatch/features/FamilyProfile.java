package io.grokwatch.features;

import io.grokwatch.linalg.Matrix;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where each Fourier family lives in a spectrum: the leading eigenvectors cut into consecutive bands of
 * equal width, and for each band the share of every family it captures. A family's shares add up over the
 * bands to the share the whole top-k eigenspace captures, so a profile shows at which eigenvalue ranks a
 * model keeps, say, the sum family, whatever the architecture (the fixed cliff positions of
 * {@link ModularAdditionCliffs} come from the paper's MLP).
 */
public record FamilyProfile(int bandWidth, List<Band> bands) {
    public FamilyProfile {
        if (bandWidth < 1) {
            throw new IllegalArgumentException("band width must be >= 1, got " + bandWidth);
        }
        bands = List.copyOf(bands);
    }

    /** Eigenvectors {@code from} (inclusive) to {@code to} (exclusive), ranked by eigenvalue from 0. */
    public record Band(int from, int to, Map<Family, Double> shares) {
        public Band {
            if (from < 0 || to <= from) {
                throw new IllegalArgumentException("band " + from + ".." + to + " is empty");
            }
            shares = Map.copyOf(shares);
        }
    }

    /**
     * @param eigenvectors orthonormal eigenvectors on the probe grid, in descending eigenvalue order
     * @param bandWidth    eigenvectors per band; the last band may be narrower
     */
    public static FamilyProfile of(Matrix eigenvectors, FourierFamilies families, int bandWidth) {
        if (bandWidth < 1) {
            throw new IllegalArgumentException("band width must be >= 1, got " + bandWidth);
        }
        List<Band> bands = new ArrayList<>();
        for (int from = 0; from < eigenvectors.cols(); from += bandWidth) {
            int to = Math.min(eigenvectors.cols(), from + bandWidth);
            bands.add(new Band(from, to, SubspaceOverlap.overlapsOfOrthonormal(eigenvectors.columns(from, to),
                    families)));
        }
        return new FamilyProfile(bandWidth, bands);
    }
}

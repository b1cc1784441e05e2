package io.grokwatch.features;

/**
 * Where the cliffs of the modular-addition eNTK sit for prime {@code p} (docs/science.md): eigenvector 0 is
 * constant-like, the first cliff {@code 1 .. 2(p-1)} holds the n and m modes, the second
 * {@code 2(p-1)+1 .. 4(p-1)} the sum and diff modes. Fixed ranges make overlaps comparable across checkpoints
 * even before the gaps have opened.
 */
public record ModularAdditionCliffs(int p) {
    public ModularAdditionCliffs {
        if (p < 2) {
            throw new IllegalArgumentException("modulus p must be >= 2, got " + p);
        }
    }

    /** The n and m modes: {@code 1 .. 2(p-1)}. */
    public CliffRange first() {
        return new CliffRange(1, 2 * (p - 1));
    }

    /** The sum and diff modes: {@code 2(p-1)+1 .. 4(p-1)}. */
    public CliffRange second() {
        return new CliffRange(2 * (p - 1) + 1, 4 * (p - 1));
    }

    /**
     * {@code lambda_(4(p-1)) / lambda_(4(p-1)+1)}, the gap that opens at the end of the second cliff when the
     * network groks (1.00 before, above 1.05 after; see docs/science.md). Needs {@code 4(p-1)+2} eigenvalues.
     */
    /** {@code lambda_2(p-1) / lambda_2(p-1)+1}: the gap below the first cliff (the n/m modes). */
    public double endOfFirstCliffGap(double[] eigenvaluesDescending) {
        int last = first().last();
        if (eigenvaluesDescending.length < last + 2) {
            throw new IllegalArgumentException("the end-of-first-cliff gap for p=" + p + " needs " + (last + 2)
                    + " eigenvalues, got " + eigenvaluesDescending.length);
        }
        return Cliffs.ratio(eigenvaluesDescending, last);
    }

    public double endOfSecondCliffGap(double[] eigenvaluesDescending) {
        int last = second().last();
        if (eigenvaluesDescending.length < last + 2) {
            throw new IllegalArgumentException("the end-of-second-cliff gap for p=" + p + " needs " + (last + 2)
                    + " eigenvalues, got " + eigenvaluesDescending.length);
        }
        return Cliffs.ratio(eigenvaluesDescending, last);
    }
}

package io.grokwatch.features;

/**
 * The four Fourier feature families of modular addition, each a function {@code v(a, b) mod p} of the input
 * pair whose cos/sin modes a generalising network is expected to use.
 */
public enum Family {
    /** {@code v = a}: the first operand. */
    N("n"),
    /** {@code v = b}: the second operand. */
    M("m"),
    /** {@code v = a + b}: the answer's phase. */
    SUM("sum"),
    /** {@code v = a - b}. */
    DIFF("diff");

    private final String label;

    Family(String label) {
        this.label = label;
    }

    /** The name used in reports and by the numpy reference: "n", "m", "sum", "diff". */
    public String label() {
        return label;
    }

    /** {@code v(a, b)} reduced into {@code 0 .. p-1}. */
    public int value(int a, int b, int p) {
        int v = switch (this) {
            case N -> a;
            case M -> b;
            case SUM -> a + b;
            case DIFF -> a - b;
        };
        return Math.floorMod(v, p);
    }

    /** The family with this label. */
    public static Family ofLabel(String label) {
        for (Family f : values()) {
            if (f.label.equals(label)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown feature family '" + label + "', expected n, m, sum or diff");
    }

    @Override
    public String toString() {
        return label;
    }
}

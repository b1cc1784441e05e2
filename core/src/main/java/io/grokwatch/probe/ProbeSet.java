package io.grokwatch.probe;

import io.grokwatch.linalg.Matrix;

/**
 * The inputs an eNTK is evaluated on ({@code N x inputs}, one probe per row), with the spec it came from
 * (e.g. {@code modular-addition:p=29}) so that results can say what they were measured on.
 */
public record ProbeSet(String spec, Matrix inputs) {
    public ProbeSet {
        if (inputs.rows() == 0) {
            throw new IllegalArgumentException("probe set '" + spec + "' is empty");
        }
    }

    public int size() {
        return inputs.rows();
    }

    /**
     * Parses a generator spec. Known generators: {@code modular-addition:p=P} (all p^2 pairs, row a*p+b is
     * concat(one_hot(a), one_hot(b))) and {@code modular-addition:p=P,tokens} (the same pairs as token ids
     * {@code (a, b, p)}, p standing for "=", as a transformer reads them).
     */
    public static ProbeSet parse(String spec) {
        Generator g = generator(spec);
        return g.tokens() ? new ProbeSet("modular-addition:p=" + g.p() + ",tokens", ModularAddition.tokens(g.p()))
                : new ProbeSet("modular-addition:p=" + g.p(), ModularAddition.inputs(g.p()));
    }

    /**
     * The shape {@code {probes, inputs}} the generator spec would produce, without producing it: what a size limit
     * is checked against before any memory is spent on the probes.
     */
    public static long[] shape(String spec) {
        Generator g = generator(spec);
        return new long[] {(long) g.p() * g.p(), g.tokens() ? 3 : 2L * g.p()};
    }

    private record Generator(int p, boolean tokens) {
    }

    private static Generator generator(String spec) {
        String s = spec.trim();
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        String args = colon < 0 ? "" : s.substring(colon + 1);
        if (!kind.equals("modular-addition")) {
            throw new IllegalArgumentException("unknown probe generator '" + kind
                    + "', expected modular-addition:p=<modulus>[,tokens] (or give a probe file)");
        }
        long p = -1;
        boolean tokens = false;
        for (String kv : args.split(",")) {
            if (kv.isBlank()) {
                continue;
            }
            if (kv.trim().equals("tokens")) {
                tokens = true;
                continue;
            }
            String[] parts = kv.split("=", 2);
            if (parts.length != 2 || !parts[0].trim().equals("p")) {
                throw new IllegalArgumentException("probe '" + spec + "': unknown argument '" + kv
                        + "', expected p=<modulus> and optionally tokens");
            }
            try {
                // Read as a long so that a modulus past int's range is reported as out of range, not garbled.
                p = Long.parseLong(parts[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("probe '" + spec + "': p must be an integer, got '" + parts[1] + "'");
            }
        }
        if (p < 2 || p > MAX_MODULUS) {
            throw new IllegalArgumentException("probe '" + spec + "': needs p=<modulus> with 2 <= p <= " + MAX_MODULUS
                    + (p > MAX_MODULUS ? " (p^2 = " + p * p + " probes)" : ""));
        }
        return new Generator((int) p, tokens);
    }

    /** Largest modulus a generator accepts: p^2 probes must stay a probe set one analysis can hold. */
    public static final int MAX_MODULUS = 1000;
}

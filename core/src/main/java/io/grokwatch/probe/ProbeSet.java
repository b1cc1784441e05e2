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
        String s = spec.trim();
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        String args = colon < 0 ? "" : s.substring(colon + 1);
        if (kind.equals("modular-addition")) {
            int p = -1;
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
                    p = Integer.parseInt(parts[1].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("probe '" + spec + "': p must be an integer, got '" + parts[1] + "'");
                }
            }
            if (p < 2 || p > MAX_MODULUS) {
                throw new IllegalArgumentException("probe '" + spec + "': needs p=<modulus> with 2 <= p <= " + MAX_MODULUS);
            }
            return tokens ? new ProbeSet("modular-addition:p=" + p + ",tokens", ModularAddition.tokens(p))
                    : new ProbeSet("modular-addition:p=" + p, ModularAddition.inputs(p));
        }
        throw new IllegalArgumentException("unknown probe generator '" + kind
                + "', expected modular-addition:p=<modulus>[,tokens] (or give a probe file)");
    }

    /** Largest modulus a generator accepts: p^2 probes must stay a probe set one analysis can hold. */
    public static final int MAX_MODULUS = 1000;
}

package io.grokwatch.entk;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Which slice of the (N, N, C, C) eNTK to analyse. */
public enum KernelKind {
    /** {@code K(x,x') = (1/C) sum_c J_c(x) . J_c(x')}, N x N. */
    CLASS_MEAN("class-mean"),
    /** {@code K[(c,x),(d,x')] = s_c s_d J_c(x) . J_d(x')}, NC x NC, rows channel-major {@code c*N + x}. */
    FLATTENED("flattened"),
    /** One (c, d) block {@code J_c(x) . J_d(x')}, N x N. */
    PER_CLASS("per-class");

    private final String id;

    KernelKind(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static KernelKind parse(String s) {
        for (KernelKind k : values()) {
            if (k.id.equals(s)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown kernel kind '" + s + "', expected one of "
                + Arrays.stream(values()).map(KernelKind::id).collect(Collectors.joining(", ")));
    }
}

package io.grokwatch.observability;

import java.util.Objects;

/**
 * One answer of {@code /healthz} or {@code /readyz}: whether the service is healthy (or ready), and why, for the
 * response body.
 */
public record Health(boolean ok, String detail) {
    public Health {
        Objects.requireNonNull(detail, "detail");
    }

    public static Health ok(String detail) {
        return new Health(true, detail);
    }

    public static Health failing(String detail) {
        return new Health(false, detail);
    }
}

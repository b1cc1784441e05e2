package io.grokwatch.notify;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongUnaryOperator;

/**
 * Exponential backoff with full jitter: retry {@code n} (0-based) waits a uniformly random time in
 * {@code [0, min(cap, base * 2^n)]}, so receivers recovering from an outage are not hit by every sender at
 * once. The ceiling stops growing at the cap (no overflow however many retries).
 */
public final class Backoff {
    private final long baseMs;
    private final long capMs;
    private final LongUnaryOperator random;

    /**
     * @param random given a bound {@code b >= 0}, a value in {@code [0, b]} (injectable so tests can pin it)
     */
    Backoff(Duration base, Duration cap, LongUnaryOperator random) {
        this.baseMs = Objects.requireNonNull(base, "base").toMillis();
        this.capMs = Objects.requireNonNull(cap, "cap").toMillis();
        this.random = Objects.requireNonNull(random, "random");
        if (baseMs < 1 || capMs < baseMs) {
            throw new IllegalArgumentException("backoff needs 1 <= base <= cap, got base " + baseMs + " ms, cap "
                    + capMs + " ms");
        }
    }

    public Backoff(Duration base, Duration cap) {
        this(base, cap, bound -> java.util.concurrent.ThreadLocalRandom.current().nextLong(bound + 1));
    }

    /** The upper bound of the wait before retry {@code n}: {@code min(cap, base * 2^n)}. */
    public long ceilingMillis(int retry) {
        if (retry < 0) {
            throw new IllegalArgumentException("retry must be >= 0, got " + retry);
        }
        // base * 2^n reaches the cap before 63 doublings of a base >= 1 ms.
        if (retry >= 62 || baseMs > (capMs >> Math.min(retry, 62))) {
            return capMs;
        }
        return Math.min(capMs, baseMs << retry);
    }

    /** The wait before retry {@code n}, drawn from {@code [0, ceilingMillis(n)]}. */
    public Duration delay(int retry) {
        long ceiling = ceilingMillis(retry);
        long d = random.applyAsLong(ceiling);
        return Duration.ofMillis(Math.max(0, Math.min(ceiling, d)));
    }
}

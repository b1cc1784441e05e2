package io.grokwatch.notify;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {
    @Test
    void ceilingDoublesFromTheBaseUpToTheCap() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
        assertEquals(100, b.ceilingMillis(0));
        assertEquals(200, b.ceilingMillis(1));
        assertEquals(3200, b.ceilingMillis(5));
        assertEquals(5000, b.ceilingMillis(6));
        assertEquals(5000, b.ceilingMillis(63));
        assertEquals(5000, b.ceilingMillis(Integer.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> b.ceilingMillis(-1));
    }

    @Test
    void fullJitterDrawsFromZeroToTheCeiling() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
        for (int retry = 0; retry < 12; retry++) {
            long ceiling = b.ceilingMillis(retry);
            long min = Long.MAX_VALUE;
            long max = 0;
            for (int i = 0; i < 2000; i++) {
                long d = b.delay(retry).toMillis();
                assertTrue(d >= 0 && d <= ceiling, "retry " + retry + ": " + d + " outside [0, " + ceiling + "]");
                min = Math.min(min, d);
                max = Math.max(max, d);
            }
            // Spread over the whole range, not clustered at the ceiling.
            assertTrue(min < ceiling / 10 + 1 && max > ceiling * 9 / 10, "retry " + retry + ": " + min + ".." + max);
        }
    }

    @Test
    void injectedRandomnessIsClampedToTheRange() {
        assertEquals(Duration.ofMillis(400), new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), x -> x).delay(2));
        assertEquals(Duration.ZERO, new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), x -> -7).delay(2));
        assertEquals(Duration.ofSeconds(1), new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), x -> x * 9).delay(9));
    }

    @Test
    void rejectsACapBelowTheBase() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("base 2000 ms, cap 1000 ms"), e.getMessage());
    }
}

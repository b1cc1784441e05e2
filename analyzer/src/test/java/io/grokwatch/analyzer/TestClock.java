package io.grokwatch.analyzer;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;

/** A wall clock that stands still until the test moves it on: time-dependent decisions without sleeps. */
final class TestClock implements InstantSource {
    /** Where tests start: any fixed instant will do. */
    static final Instant START = Instant.parse("2026-06-01T12:00:00Z");

    private Instant now;

    TestClock() {
        this(START);
    }

    TestClock(Instant start) {
        this.now = start;
    }

    @Override
    public Instant instant() {
        return now;
    }

    /** Moves the clock on by {@code d}. */
    void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("a clock does not go back: " + d);
        }
        now = now.plus(d);
    }
}

package io.grokwatch.analyzer;

import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same failure past the retry limit gives up; different or spaced-out failures do not add up. */
class RepeatedFailuresTest {
    private final TestClock clock = new TestClock();

    private static StreamsException atOffset(long offset) {
        return new StreamsException("Exception caught in process. taskId=0_0, topic=grokwatch.checkpoints, "
                + "partition=0, offset=" + offset, new IllegalStateException("store closed"));
    }

    @Test
    void theSameFailureRetriedPastTheLimitGivesUp() {
        RepeatedFailures f = new RepeatedFailures(2, clock);
        assertFalse(f.failed(atOffset(41)));
        assertFalse(f.failed(atOffset(41)));
        assertTrue(f.failed(atOffset(41)));
        assertEquals("the same failure 3 time(s) in a row (max-record-retries = 2): "
                + "org.apache.kafka.streams.errors.StreamsException: Exception caught in process. taskId=0_0, "
                + "topic=grokwatch.checkpoints, partition=0, offset=41; caused by java.lang.IllegalStateException: "
                + "store closed", f.exhausted().orElseThrow());
    }

    @Test
    void anotherFailureBetweenStartsTheCountAgain() {
        RepeatedFailures f = new RepeatedFailures(1, clock);
        assertFalse(f.failed(atOffset(41)));
        assertFalse(f.failed(atOffset(42)));
        assertFalse(f.failed(atOffset(41)));
        assertTrue(f.exhausted().isEmpty());
    }

    @Test
    void failuresFarApartDoNotAddUp() {
        RepeatedFailures f = new RepeatedFailures(1, clock);
        assertFalse(f.failed(atOffset(41)));
        clock.advance(RepeatedFailures.WINDOW.plus(Duration.ofSeconds(1)));
        assertFalse(f.failed(atOffset(41)));
        assertTrue(f.failed(atOffset(41)));
    }

    @Test
    void retriableFailuresLikeABrokerOutageNeverCount() {
        RepeatedFailures f = new RepeatedFailures(0, clock);
        for (int i = 0; i < 10; i++) {
            assertFalse(f.failed(new StreamsException("task 0_0 failed", new org.apache.kafka.common.errors
                    .TimeoutException("Timeout expired after 60000ms while awaiting InitProducerId"))));
        }
        assertTrue(f.exhausted().isEmpty());
    }

    @Test
    void noRetriesGivesUpAtTheFirstFailure() {
        assertTrue(new RepeatedFailures(0, clock).failed(atOffset(1)));
    }

    @Test
    void aNegativeLimitIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new RepeatedFailures(-1, clock));
        assertEquals("max-record-retries must be >= 0, got -1", e.getMessage());
    }
}

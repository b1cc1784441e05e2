package io.grokwatch.observability;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Per-run meters: registered once, labelled with the run, removed after the run has been idle for the retention. */
class RunMetersTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MockClock clock = new MockClock();
    private final RunMeters meters = new RunMeters(registry, Duration.ofMinutes(30), clock);

    @Test
    void gaugesAndCountersAreRegisteredOnceWithTheRunLabel() {
        RunMeters.Value v = meters.gauge("r1", "grokwatch.test.value", "a value", "layer", "all");
        assertSame(v, meters.gauge("r1", "grokwatch.test.value", "a value", "layer", "all"));
        v.set(2.5);
        meters.counter("r1", "grokwatch.test.events", "events", "type", "x").increment();
        meters.counter("r1", "grokwatch.test.events", "events", "type", "x").increment();
        String text = registry.scrape();
        assertTrue(text.contains("grokwatch_test_value{layer=\"all\",run=\"r1\"} 2.5"), text);
        assertTrue(text.contains("grokwatch_test_events_total{run=\"r1\",type=\"x\"} 2.0"), text);
        assertEquals(2, registry.getMeters().size());
    }

    @Test
    void anIdleRunLosesAllItsMetersAfterTheRetentionAndOthersKeepTheirs() {
        meters.gauge("old", "grokwatch.test.value", "", "layer", "all").set(1);
        meters.counter("old", "grokwatch.test.events", "", "type", "x");
        clock.add(20, TimeUnit.MINUTES);
        meters.gauge("new", "grokwatch.test.value", "", "layer", "all").set(2);
        assertEquals(List.of(), meters.expire());
        clock.add(10, TimeUnit.MINUTES);
        assertEquals(List.of("old"), meters.expire());
        String text = registry.scrape();
        assertFalse(text.contains("run=\"old\""), text);
        assertTrue(text.contains("run=\"new\""), text);
        assertEquals(1, meters.runs());
        assertEquals(1, registry.getMeters().size());
        // Activity restarts the clock; a run seen again after expiry gets fresh meters.
        clock.add(25, TimeUnit.MINUTES);
        meters.touch("new");
        clock.add(25, TimeUnit.MINUTES);
        assertEquals(List.of(), meters.expire());
        meters.gauge("old", "grokwatch.test.value", "", "layer", "all").set(3);
        assertTrue(registry.scrape().contains("grokwatch_test_value{layer=\"all\",run=\"old\"} 3.0"));
    }

    @Test
    void retentionParsesShortFormsAndIsoAndRejectsTheRestNamingTheOption() {
        assertEquals(Duration.ofMinutes(30), RunMeters.parseRetention("30m"));
        assertEquals(Duration.ofSeconds(90), RunMeters.parseRetention("90s"));
        assertEquals(Duration.ofHours(2), RunMeters.parseRetention("2h"));
        assertEquals(Duration.ofMinutes(45), RunMeters.parseRetention("PT45M"));
        for (String bad : new String[] {"", "0s", "-PT1M", "ten minutes", "99999999999999999999d"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> RunMeters.parseRetention(bad), bad);
            assertTrue(e.getMessage().contains(RunMeters.RETENTION_OPTION), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new RunMeters(registry, Duration.ZERO, clock));
    }
}

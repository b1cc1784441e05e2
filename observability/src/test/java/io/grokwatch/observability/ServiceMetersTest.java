package io.grokwatch.observability;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process meters and the build info, as Prometheus scrapes them. */
class ServiceMetersTest {
    @Test
    void scrapeHasBuildInfoAndTheJvmAndProcessSeries() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ServiceMeters meters = ServiceMeters.bind(registry);
        try {
            String scrape = registry.scrape();
            assertTrue(Pattern.compile("(?m)^grokwatch_build_info\\{java_version=\"[^\"]+\",version=\""
                    + Pattern.quote(ServiceMeters.VERSION) + "\"} 1(\\.0)?$").matcher(scrape).find(), scrape);
            // The series the service-health dashboard charts.
            for (String series : List.of("jvm_memory_used_bytes{", "jvm_memory_max_bytes{", "jvm_gc_memory_allocated_bytes_total",
                    "jvm_gc_overhead", "jvm_threads_live_threads", "jvm_classes_loaded_classes",
                    "process_cpu_usage", "process_uptime_seconds", "process_start_time_seconds",
                    "process_files_open_files", "system_cpu_count", "jvm_info{")) {
                assertTrue(scrape.contains("\n" + series), series + " in\n" + scrape);
            }
        } finally {
            meters.close();
        }
    }

    @Test
    void versionIsTheProjectVersionFromTheBuild() {
        assertNotEquals("unknown", ServiceMeters.VERSION);
        assertTrue(ServiceMeters.VERSION.matches("\\d+\\.\\d+\\.\\d+.*"), ServiceMeters.VERSION);
    }
}

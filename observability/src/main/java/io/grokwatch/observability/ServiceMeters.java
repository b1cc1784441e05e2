package io.grokwatch.observability;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The meters of the process itself, next to a service's own: JVM memory, GC, threads, classes, CPU, uptime, open
 * files ({@code jvm_*}, {@code process_*}, {@code system_*}), and {@code grokwatch_build_info{version,java_version} 1}
 * so that a dashboard or an alert can tell which release is running. {@link #close()} detaches the GC listeners
 * (they would otherwise outlive the registry in a JVM that starts several services, as the tests do).
 */
public final class ServiceMeters implements AutoCloseable {
    /** The project's version, as the build wrote it; "unknown" in a build that did not filter resources. */
    public static final String VERSION = readVersion();

    private final JvmGcMetrics gc;
    private final JvmHeapPressureMetrics heapPressure;

    private ServiceMeters(JvmGcMetrics gc, JvmHeapPressureMetrics heapPressure) {
        this.gc = gc;
        this.heapPressure = heapPressure;
    }

    /** Binds the process meters and the build info to {@code registry}. */
    public static ServiceMeters bind(MeterRegistry registry) {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        JvmHeapPressureMetrics heapPressure = new JvmHeapPressureMetrics();
        heapPressure.bindTo(registry);
        Gauge.builder("grokwatch.build.info", () -> 1)
                .description("Always 1; its labels say which grokwatch release and Java runtime run here")
                .tag("version", VERSION)
                .tag("java_version", System.getProperty("java.runtime.version", "unknown"))
                .strongReference(true)
                .register(registry);
        return new ServiceMeters(gc, heapPressure);
    }

    private static String readVersion() {
        try (InputStream in = ServiceMeters.class.getResourceAsStream("build.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (IOException e) {
            throw new UncheckedIOException("reading build.properties", e);
        }
    }

    @Override
    public void close() {
        gc.close();
        heapPressure.close();
    }
}

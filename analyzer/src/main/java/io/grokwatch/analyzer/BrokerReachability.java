package io.grokwatch.analyzer;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Whether the broker answers, asked in the background every {@link #INTERVAL} so that {@code /readyz} answers at once:
 * Kafka Streams stays RUNNING through a broker outage (it retries), so its state alone said ready throughout one.
 */
final class BrokerReachability implements AutoCloseable {
    static final Duration INTERVAL = Duration.ofSeconds(5);
    static final Duration TIMEOUT = Duration.ofSeconds(3);

    private final Admin admin;
    private final ScheduledExecutorService checks;
    private volatile String unreachable;

    BrokerReachability(String bootstrapServers) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "grokwatch-analyzer-readiness");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        this.admin = Admin.create(p);
        this.checks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "grokwatch-broker-check");
            t.setDaemon(true);
            return t;
        });
        checks.scheduleWithFixedDelay(this::check, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void check() {
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) TIMEOUT.toMillis())).clusterId()
                    .get(TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
            unreachable = null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            unreachable = "the broker did not answer within " + TIMEOUT.toSeconds() + " s: " + e;
        }
    }

    /** Why the broker is not reachable, or null when its last check answered. */
    String unreachable() {
        return unreachable;
    }

    @Override
    public void close() {
        checks.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}

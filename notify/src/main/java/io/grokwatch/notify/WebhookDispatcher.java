package io.grokwatch.notify;

import io.grokwatch.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.common.errors.InterruptException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Delivers every alert of the alerts topic to every configured webhook receiver.
 *
 * <p>Each receiver has its own consumer group ({@code <group prefix>-<16 hex digits of SHA-256 of its URL>}),
 * consumer and thread. An alert's offset is committed only once the receiver answered 2xx or the alert was given
 * up (older than the max age, if one is set), so what was pending when the process stopped is read and sent again
 * by the next one, and a receiver that is slow, down or refusing holds back only its own group. Retries wait with
 * exponential backoff and full jitter ({@link Backoff}); a refusal (a 4xx other than 408/429, e.g. a wrong secret)
 * is retried at the backoff cap, so fixing either side delivers it. While waiting the consumer keeps polling, so
 * it stays in its group and counts what is pending behind the alert. Delivery is at least once: a repeat carries
 * the same {@code webhook-id}, and every request is signed as {@link WebhookSignature} describes.
 *
 * <p>Meters, tagged {@code receiver} = {@code host:port} (never the URL, which may hold a token):
 * {@code grokwatch_webhook_deliveries_total}, {@code grokwatch_webhook_delivery_failures_total} (every failed
 * attempt), {@code grokwatch_webhook_dropped_total{reason}} and the gauge {@code grokwatch_webhook_pending}
 * (alerts on the topic not yet done with: consumer lag plus the fetched batch).
 *
 * <p>Owns its threads, consumers and HTTP clients; {@link #close()} stops them and removes its gauges.
 */
public final class WebhookDispatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);

    /** How long {@link #start} waits for every receiver's consumer to join its group. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** How long {@link #close} waits for a receiver thread before it is woken up forcibly. */
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(15);

    private final List<ReceiverWorker> workers;
    private boolean closed;

    private WebhookDispatcher(List<ReceiverWorker> workers) {
        this.workers = workers;
    }

    /** {@link #start(WebhookConfig, String, Topics, MeterRegistry, DeliveryListener, Duration)} with the default timeout. */
    public static WebhookDispatcher start(WebhookConfig config, String bootstrapServers, Topics topics,
            MeterRegistry registry, DeliveryListener listener) {
        return start(config, bootstrapServers, topics, registry, listener, START_TIMEOUT);
    }

    /**
     * Starts one delivery thread per receiver and waits until each has joined its consumer group and fixed its
     * start position (so an alert produced after this returns is delivered).
     *
     * @throws IllegalStateException if a receiver does not join within {@code startTimeout} (all are stopped)
     * @throws InterruptException    if interrupted while waiting (all are stopped, the interrupt flag is set)
     */
    public static WebhookDispatcher start(WebhookConfig config, String bootstrapServers, Topics topics,
            MeterRegistry registry, DeliveryListener listener, Duration startTimeout) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(startTimeout, "startTimeout");
        DeliveryListener l = listener == null ? DeliveryListener.NONE : listener;
        List<String> names = receiverNames(config.urls());
        List<ReceiverWorker> workers = new ArrayList<>();
        WebhookDispatcher dispatcher = new WebhookDispatcher(workers);
        try {
            for (int i = 0; i < config.urls().size(); i++) {
                URI url = config.urls().get(i);
                ReceiverWorker w = new ReceiverWorker(i, names.get(i), url, groupId(config.groupPrefix(), url),
                        config, bootstrapServers, topics.alerts(), registry, l);
                workers.add(w);
                w.start();
            }
            long deadline = System.nanoTime() + startTimeout.toNanos();
            for (ReceiverWorker w : workers) {
                w.awaitJoined(deadline);
            }
        } catch (InterruptedException e) {
            dispatcher.close();
            throw new InterruptException("interrupted while starting webhook delivery", e);
        } catch (RuntimeException e) {
            boolean interrupted = Thread.interrupted();
            try {
                dispatcher.close();
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            throw e;
        }
        LOG.info("webhook delivery to {} started (group prefix {}, {})", names, config.groupPrefix(),
                config.secret() == null ? "unsigned" : "signed");
        return dispatcher;
    }

    /** The receivers' metric names, in configuration order. */
    public List<String> receivers() {
        return workers.stream().map(ReceiverWorker::name).toList();
    }

    /** Alerts not yet done with, over all receivers (the sum of the pending gauges). */
    public long pending() {
        return workers.stream().mapToLong(ReceiverWorker::pending).sum();
    }

    /**
     * Stops every receiver: an alert being retried stays uncommitted and is delivered by the next dispatcher on
     * the same groups. Waits for the threads; if interrupted, finishes closing and sets the interrupt flag again.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        workers.forEach(ReceiverWorker::requestStop);
        boolean interrupted = false;
        for (ReceiverWorker w : workers) {
            interrupted |= w.awaitStopped(CLOSE_TIMEOUT);
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The consumer group of a receiver: stable for one URL, different for two, and without the URL's text (which
     * may carry a token).
     */
    public static String groupId(String prefix, URI url) {
        return prefix + "-" + AlertmanagerPayload.sha256Hex(url.toString()).substring(0, 16);
    }

    /** {@code host:port} per URL (the scheme's default port if none), {@code #2}, {@code #3}... on repeats. */
    static List<String> receiverNames(List<URI> urls) {
        Map<String, Integer> seen = new HashMap<>();
        List<String> names = new ArrayList<>();
        for (URI u : urls) {
            int port = u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
            String base = u.getHost().toLowerCase(Locale.ROOT) + ":" + port;
            int n = seen.merge(base, 1, Integer::sum);
            names.add(n == 1 ? base : base + "#" + n);
        }
        return names;
    }

    static long millisLeft(long deadlineNanos) {
        return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    }
}

package io.grokwatch.cli;

import io.grokwatch.records.AlertRecord;

import io.grokwatch.kafka.Topics;
import io.grokwatch.notify.AlertmanagerPayload;
import io.grokwatch.notify.DeliveryListener;
import io.grokwatch.notify.WebhookConfig;
import io.grokwatch.notify.WebhookDispatcher;
import io.micrometer.core.instrument.MeterRegistry;
import picocli.CommandLine.Option;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * {@code --webhook-url} and {@code --webhook-secret}: POST every alert to webhook receivers (Alertmanager format,
 * signed, retried until delivered; pending deliveries wait in Kafka across restarts).
 */
final class WebhookOptions {
    static final String ENV_URLS = "GROKWATCH_WEBHOOK_URLS";
    static final String ENV_SECRET = "GROKWATCH_WEBHOOK_SECRET";

    @Option(names = "--webhook-url", paramLabel = "URL", description = "POST every alert to this http(s) URL as an "
            + "Alertmanager webhook (version 4), retried with backoff until delivered; undelivered alerts wait in Kafka "
            + "across restarts. Repeatable. Default: the comma-separated URLs in $" + ENV_URLS + ".")
    List<String> urls = new ArrayList<>();

    @Option(names = "--webhook-secret", paramLabel = "SECRET", description = "Sign each request as Standard "
            + "Webhooks do: headers webhook-id, webhook-timestamp and webhook-signature: v1,<base64 HMAC-SHA256 of "
            + "id.timestamp.body>. Repeat it during a rotation (each secret signs). Default: the space-separated "
            + "secrets in $" + ENV_SECRET + " (preferred: not visible in the process list); with neither, requests "
            + "are unsigned.")
    List<String> secrets = new ArrayList<>();

    /** The environment (replaced in tests). */
    UnaryOperator<String> env = System::getenv;

    /**
     * The validated config, or null when no receiver is given by flag or environment.
     *
     * @throws IllegalArgumentException naming the option or variable and what it allows
     */
    WebhookConfig config() {
        List<URI> parsed = new ArrayList<>();
        String source = "--webhook-url";
        List<String> given = urls;
        if (given.isEmpty()) {
            String fromEnv = env.apply(ENV_URLS);
            given = fromEnv == null ? List.of() : List.of(fromEnv);
            source = ENV_URLS;
        }
        try {
            for (String u : given) {
                parsed.addAll(WebhookConfig.parseUrls(u));
            }
            if (parsed.isEmpty()) {
                return null;
            }
            for (String one : secrets) {
                if (one.isBlank() || one.strip().contains(" ")) {
                    throw new IllegalArgumentException("--webhook-secret: '" + (one.isBlank() ? "" : "...")
                            + "' is not allowed; allowed: a non-empty string without spaces (repeat the option for "
                            + "several)");
                }
            }
            String s = !secrets.isEmpty() ? String.join(" ", secrets) : env.apply(ENV_SECRET);
            if (s != null && s.isBlank()) {
                s = null;
            }
            return WebhookConfig.of(parsed, s);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            if (msg.startsWith(WebhookConfig.KEY_URLS + ":")) {
                msg = source + msg.substring(WebhookConfig.KEY_URLS.length());
            }
            throw new IllegalArgumentException(msg, e);
        }
    }

    /**
     * Starts delivery (null without receivers) and says where alerts go; {@code narration} tells about each
     * delivery on the console.
     */
    WebhookDispatcher start(String bootstrapServers, Topics topics, MeterRegistry registry, Narration narration) {
        WebhookConfig c = config();
        if (c == null) {
            return null;
        }
        WebhookDispatcher d = WebhookDispatcher.start(c, bootstrapServers, topics, registry,
                narration == null ? DeliveryListener.NONE : narration);
        System.out.println("alerts are POSTed to " + String.join(", ", d.receivers())
                + (c.secret() != null ? ", signed (webhook-signature, " + c.secrets().size() + " secret(s))"
                        : ", unsigned (no webhook secret given)"));
        return d;
    }

    /** Console lines for deliveries, and a count per run so the demo can wait for its run's alerts. */
    static final class Narration implements DeliveryListener {
        private final Map<String, AtomicInteger> doneByRun = new ConcurrentHashMap<>();

        @Override
        public void delivered(String receiver, AlertRecord alert, int attempts) {
            System.out.printf(">>> webhook: %s%s (epoch %d) delivered to %s%s%n", alert.type(),
                    alert.resolved() ? " resolved" : "", alert.epoch(), receiver,
                    attempts == 1 ? "" : " after " + attempts + " attempts");
            if (!alert.resolved()) {
                // The demo waits for its run's firing alerts; the resolved ones follow the run's end.
                doneByRun.computeIfAbsent(alert.runId(), k -> new AtomicInteger()).incrementAndGet();
            }
        }

        @Override
        public void dropped(String receiver, AlertRecord alert, String reason, String detail) {
            System.out.printf(">>> webhook: %s NOT delivered to %s (%s: %s)%n",
                    alert == null ? "a malformed alert" : alert.type() + " (epoch " + alert.epoch() + ")", receiver,
                    reason, detail);
            if (alert != null && !alert.resolved()) {
                doneByRun.computeIfAbsent(alert.runId(), k -> new AtomicInteger()).incrementAndGet();
            }
        }

        /**
         * Waits until {@code alerts} alerts of the run are done with (delivered or given up) at every one of
         * {@code receivers} receivers; false on timeout.
         */
        boolean await(String runId, int alerts, int receivers, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (doneByRun.getOrDefault(runId, new AtomicInteger()).get() < alerts * receivers) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(50);
            }
            return true;
        }
    }
}

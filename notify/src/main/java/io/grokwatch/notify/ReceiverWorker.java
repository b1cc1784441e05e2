package io.grokwatch.notify;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.RecordFormatException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.kafka.ClientConfigs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One receiver: its consumer group, its consumer and thread, its HTTP client. Everything but
 * {@link #requestStop()}, {@link #pending()} and the waits runs on the worker thread (a consumer is not
 * thread-safe). Stopping is cooperative: every blocking step is a slice of at most {@link #SLICE} that checks
 * the stop flag, so no interrupt can land inside a Kafka call.
 */
final class ReceiverWorker {
    private static final Logger LOG = LoggerFactory.getLogger(ReceiverWorker.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final Duration SLICE = Duration.ofMillis(200);
    private static final int MAX_POLL_RECORDS = 50;

    private enum Outcome { DONE, ABANDONED }

    /**
     * One attempt's result: delivered, refused (a 4xx other than 408/429: retried at the backoff cap until the
     * configuration changes or the max age passes), or failed transiently (retried with backoff, after at least
     * retryAfter).
     */
    record Attempt(boolean delivered, boolean refused, String detail, Duration retryAfter) {
        static Attempt classify(int status, String retryAfterHeader) {
            if (status >= 200 && status < 300) {
                return new Attempt(true, false, "HTTP " + status, null);
            }
            if (status == 408 || status == 429 || status >= 500) {
                return new Attempt(false, false, "HTTP " + status, parseRetryAfter(retryAfterHeader));
            }
            // Refused (401 with a wrong secret, 404 at a wrong path, ...): the alert stays and is tried again, slowly,
            // so fixing either side's configuration delivers it instead of losing it.
            return new Attempt(false, true, "HTTP " + status, null);
        }

        static Attempt transientError(String detail) {
            return new Attempt(false, false, detail, null);
        }

        /** Delay-seconds form only (an HTTP date is ignored: clocks differ). */
        static Duration parseRetryAfter(String header) {
            if (header == null) {
                return null;
            }
            try {
                long s = Long.parseLong(header.strip());
                return s >= 0 ? Duration.ofSeconds(s) : null;
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }

    private final String name;
    private final URI url;
    private final String groupId;
    private final WebhookConfig config;
    private final String topic;
    private final DeliveryListener listener;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final HttpClient http;
    private final Backoff backoff;
    private final MeterRegistry registry;
    private final Counter deliveries;
    private final Counter failures;
    private final Map<String, Counter> dropped = new HashMap<>();
    private final Gauge pendingGauge;
    /** The consumer's own metrics (kafka_consumer_*, client_id grokwatch-webhook-N), removed on stop. */
    private final io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics consumerMetrics;
    private final AtomicLong pending = new AtomicLong();
    private final Thread thread;
    private final CountDownLatch joined = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Set<TopicPartition> owned = new HashSet<>();
    /** Records fetched per partition behind the alert being retried, counted and fetched again later. */
    private final Map<TopicPartition, Long> readAhead = new HashMap<>();
    private volatile boolean stopping;
    private volatile RuntimeException failure;
    private boolean pausing;
    private long generation;
    private int batchRemaining;

    ReceiverWorker(int index, String name, URI url, String groupId, WebhookConfig config, String bootstrapServers,
            String topic, MeterRegistry registry, DeliveryListener listener) {
        this.name = name;
        this.url = url;
        this.groupId = groupId;
        this.config = config;
        this.topic = topic;
        this.listener = listener;
        this.registry = registry;
        this.backoff = new Backoff(config.backoffBase(), config.backoffCap());
        Properties p = ClientConfigs.consumer(bootstrapServers, groupId);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "grokwatch-webhook-" + index);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, MAX_POLL_RECORDS);
        // A committed offset that retention overtook: deliver what is left rather than skip to the end.
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.consumerMetrics = new io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics(consumer);
        consumerMetrics.bindTo(registry);
        this.http = HttpClient.newBuilder().connectTimeout(config.requestTimeout())
                .version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER).build();
        this.deliveries = Counter.builder("grokwatch.webhook.deliveries").description("Alerts delivered (2xx)")
                .tag("receiver", name).register(registry);
        this.failures = Counter.builder("grokwatch.webhook.delivery.failures")
                .description("Failed delivery attempts (each retry counts)").tag("receiver", name).register(registry);
        for (String reason : List.of("rejected", "expired", "malformed")) {
            dropped.put(reason, Counter.builder("grokwatch.webhook.dropped")
                    .description("Alerts given up: rejected (4xx), expired (max age), malformed record")
                    .tags("receiver", name, "reason", reason).register(registry));
        }
        this.pendingGauge = Gauge.builder("grokwatch.webhook.pending", pending, AtomicLong::get)
                .description("Alerts on the alerts topic this receiver has not yet been sent or given up")
                .tag("receiver", name).strongReference(true).register(registry);
        this.thread = new Thread(this::run, "grokwatch-webhook-" + index);
        this.thread.setDaemon(true);
    }

    String name() {
        return name;
    }

    long pending() {
        return pending.get();
    }

    void start() {
        thread.start();
    }

    /** Waits until the consumer joined its group (or failed) by {@code deadlineNanos}. */
    void awaitJoined(long deadlineNanos) throws InterruptedException {
        long ms = Math.max(0, WebhookDispatcher.millisLeft(deadlineNanos));
        if (!joined.await(ms, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("webhook receiver " + name + ": consumer group " + groupId
                    + " did not get its partitions of " + topic + " in time (is Kafka reachable and the topic there?)");
        }
        if (failure != null) {
            throw new IllegalStateException("webhook receiver " + name + " failed to start: " + failure.getMessage(),
                    failure);
        }
    }

    void requestStop() {
        stopping = true;
    }

    /** Waits for the thread (waking the consumer if it overruns); returns whether this thread was interrupted. */
    boolean awaitStopped(Duration timeout) {
        boolean interrupted = false;
        try {
            if (thread.getState() == Thread.State.NEW) {
                consumer.close(CloseOptions.timeout(Duration.ZERO));
            } else if (!stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("webhook receiver {} still busy after {} s; waking its consumer", name, timeout.toSeconds());
                consumer.wakeup();
                stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            interrupted = true;
            consumer.wakeup();
        }
        registry.remove(pendingGauge);
        consumerMetrics.close();
        return interrupted;
    }

    private void run() {
        try {
            consumer.subscribe(List.of(topic), new Rebalance());
            while (!stopping) {
                try {
                    process(consumer.poll(SLICE));
                } catch (WakeupException | InterruptException e) {
                    throw e;
                } catch (KafkaException e) {
                    // Broker unreachable past the API timeout, a commit after losing the partition, ...: start
                    // again from the committed offsets (a delivered but uncommitted alert is sent again, same key).
                    LOG.warn("webhook receiver {}: {}; resuming from the committed offsets", name, e.toString());
                    sleepSliced(config.backoffCap().compareTo(Duration.ofSeconds(5)) < 0 ? config.backoffCap()
                            : Duration.ofSeconds(5));
                    rewindToCommitted();
                }
            }
        } catch (WakeupException | InterruptException e) {
            if (!stopping) {
                failure = e;
                LOG.error("webhook receiver {} stopped unexpectedly", name, e);
            }
        } catch (RuntimeException e) {
            failure = e;
            LOG.error("webhook receiver {} stopped: {}", name, e.toString(), e);
        } finally {
            joined.countDown();
            // An interrupt can only come from outside our protocol; clear it so the consumer closes cleanly.
            boolean interrupted = Thread.interrupted();
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (RuntimeException e) {
                LOG.warn("webhook receiver {}: closing its consumer: {}", name, e.toString());
            }
            stopped.countDown();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void process(ConsumerRecords<byte[], byte[]> records) {
        batchRemaining = records.count();
        updatePending();
        if (records.isEmpty()) {
            return;
        }
        long gen = generation;
        Map<TopicPartition, Long> next = new HashMap<>();
        batch:
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                next.putIfAbsent(tp, r.offset());
                if (stopping || gen != generation || !owned.contains(tp)) {
                    break batch;
                }
                if (handle(r, gen) == Outcome.ABANDONED) {
                    break batch;
                }
                consumer.commitSync(Map.of(tp, new OffsetAndMetadata(r.offset() + 1)));
                next.put(tp, r.offset() + 1);
                batchRemaining--;
                updatePending();
            }
        }
        // Whatever of the batch was not done with is fetched again (unless the partition went elsewhere, or we
        // stop). Needed after a rebalance too: a cooperative one keeps the positions of partitions that stayed.
        if (!stopping) {
            for (TopicPartition tp : records.partitions()) {
                List<ConsumerRecord<byte[], byte[]>> rs = records.records(tp);
                long first = next.getOrDefault(tp, rs.get(0).offset());
                if (first <= rs.get(rs.size() - 1).offset() && owned.contains(tp)) {
                    consumer.seek(tp, first);
                }
            }
        }
        batchRemaining = 0;
        updatePending();
    }

    private Outcome handle(ConsumerRecord<byte[], byte[]> r, long gen) {
        AlertRecord alert;
        try {
            alert = AlertRecord.read(r.value());
        } catch (RecordFormatException e) {
            dropped.get("malformed").increment();
            LOG.warn("webhook receiver {}: skipping malformed alert at {}-{}@{}: {}", name, r.topic(), r.partition(),
                    r.offset(), e.getMessage());
            tell(() -> listener.dropped(name, null, "malformed", String.valueOf(e.getMessage())));
            return Outcome.DONE;
        }
        byte[] body = AlertmanagerPayload.bytes(alert, r.timestamp(), config.externalUrl());
        String key = AlertmanagerPayload.idempotencyKey(alert);
        for (int attempt = 1; ; attempt++) {
            if (stopping) {
                return Outcome.ABANDONED;
            }
            Attempt a = post(body, key, attempt);
            if (a == null) {
                return Outcome.ABANDONED;
            }
            if (a.delivered()) {
                deliveries.increment();
                LOG.debug("webhook receiver {}: {} of run {} step {} delivered (attempt {})", name, alert.type(),
                        alert.runId(), alert.step(), attempt);
                int attempts = attempt;
                tell(() -> listener.delivered(name, alert, attempts));
                return Outcome.DONE;
            }
            failures.increment();
            if (!config.maxAge().isZero()
                    && System.currentTimeMillis() - r.timestamp() >= config.maxAge().toMillis()) {
                if (a.refused()) {
                    dropped.get("rejected").increment();
                    LOG.warn("webhook receiver {}: giving up {} of run {} step {} after {} attempts (older than {} "
                            + "ms), refused: {}", name, alert.type(), alert.runId(), alert.step(), attempt,
                            config.maxAge().toMillis(), a.detail());
                    tell(() -> listener.dropped(name, alert, "rejected", a.detail()));
                    return Outcome.DONE;
                }
                dropped.get("expired").increment();
                LOG.warn("webhook receiver {}: giving up {} of run {} step {} after {} attempts (older than {} ms); "
                        + "last: {}", name, alert.type(), alert.runId(), alert.step(), attempt,
                        config.maxAge().toMillis(), a.detail());
                tell(() -> listener.dropped(name, alert, "expired", a.detail()));
                return Outcome.DONE;
            }
            Duration wait = a.refused() ? config.backoffCap() : backoff.delay(attempt - 1);
            if (a.refused() && attempt == 1) {
                LOG.warn("webhook receiver {} refused {} of run {} step {} ({}): kept, and tried again every {} ms "
                        + "until the receiver or this configuration (secret, URL) is fixed", name, alert.type(),
                        alert.runId(), alert.step(), a.detail(), wait.toMillis());
            }
            if (a.retryAfter() != null) {
                Duration hinted = a.retryAfter().compareTo(config.backoffCap()) > 0 ? config.backoffCap()
                        : a.retryAfter();
                wait = hinted.compareTo(wait) > 0 ? hinted : wait;
            }
            if (Integer.bitCount(attempt) == 1) { // attempts 1, 2, 4, 8, ...: a down receiver does not flood the log
                LOG.warn("webhook receiver {}: attempt {} for {} of run {} step {} failed ({}); retrying in {} ms",
                        name, attempt, alert.type(), alert.runId(), alert.step(), a.detail(), wait.toMillis());
            }
            if (!waitReadingAhead(wait, gen)) {
                return Outcome.ABANDONED;
            }
        }
    }

    /** A listener that throws must not stop delivery. */
    private void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.warn("webhook receiver {}: delivery listener failed: {}", name, e.toString());
        }
    }

    /** One POST; null if asked to stop while it was in flight. */
    private Attempt post(byte[] body, String key, int attempt) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(config.requestTimeout())
                .header("Content-Type", "application/json")
                .header("User-Agent", "grokwatch-webhook")
                .header(WebhookSignature.ID_HEADER, key)
                .header("X-Grokwatch-Attempt", Integer.toString(attempt))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (!config.secrets().isEmpty()) {
            // Signed per attempt: the timestamp is this attempt's, so a receiver's staleness check passes retries.
            long now = System.currentTimeMillis() / 1000;
            b.header(WebhookSignature.TIMESTAMP_HEADER, Long.toString(now));
            b.header(WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(config.secrets(), key, now, body));
        }
        CompletableFuture<HttpResponse<Void>> f = http.sendAsync(b.build(), HttpResponse.BodyHandlers.discarding());
        while (true) {
            try {
                HttpResponse<Void> response = f.get(SLICE.toMillis(), TimeUnit.MILLISECONDS);
                return Attempt.classify(response.statusCode(), response.headers().firstValue("Retry-After")
                        .orElse(null));
            } catch (TimeoutException e) {
                if (stopping) {
                    f.cancel(true);
                    return null;
                }
            } catch (ExecutionException e) {
                // Connection refused, reset, timed out, TLS failure: the receiver may be back later.
                Throwable c = e.getCause() == null ? e : e.getCause();
                return Attempt.transientError(c.getClass().getSimpleName()
                        + (c.getMessage() == null ? "" : ": " + c.getMessage()));
            } catch (InterruptedException e) {
                // Not part of the protocol (stopping is a flag): keep the flag and stop.
                Thread.currentThread().interrupt();
                f.cancel(true);
                stopping = true;
                return null;
            }
        }
    }

    /**
     * Waits {@code wait} while polling, so the consumer stays in its group. The records fetched meanwhile, those
     * behind the alert being retried, are only counted (so {@link #pending} is exact) and fetched again afterwards:
     * every partition goes back to where it was. A partition assigned meanwhile is paused until then. False if asked
     * to stop, or if a rebalance happened (the record is then fetched again from the committed offset).
     */
    private boolean waitReadingAhead(Duration wait, long gen) {
        long deadline = System.nanoTime() + wait.toNanos();
        Map<TopicPartition, Long> resumeAt = new HashMap<>();
        for (TopicPartition tp : owned) {
            try {
                resumeAt.put(tp, consumer.position(tp, SLICE));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                consumer.pause(List.of(tp)); // no position yet: nothing to read ahead there
            }
        }
        pausing = true;
        try {
            while (!stopping && gen == generation) {
                long left = WebhookDispatcher.millisLeft(deadline);
                if (left <= 0) {
                    return true;
                }
                ConsumerRecords<byte[], byte[]> ahead = consumer.poll(Duration.ofMillis(Math.min(left,
                        SLICE.toMillis())));
                for (TopicPartition tp : ahead.partitions()) {
                    if (resumeAt.containsKey(tp)) {
                        readAhead.merge(tp, (long) ahead.records(tp).size(), Long::sum);
                    } else {
                        // Assigned during the wait and fetched before the rebalance callback paused it.
                        consumer.seek(tp, ahead.records(tp).get(0).offset());
                    }
                }
                updatePending();
            }
            return false;
        } finally {
            pausing = false;
            readAhead.clear();
            for (Map.Entry<TopicPartition, Long> e : resumeAt.entrySet()) {
                if (owned.contains(e.getKey())) {
                    consumer.seek(e.getKey(), e.getValue());
                }
            }
            consumer.resume(consumer.paused());
        }
    }

    private void sleepSliced(Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        try {
            while (!stopping && WebhookDispatcher.millisLeft(deadline) > 0) {
                Thread.sleep(Math.min(SLICE.toMillis(), Math.max(1, WebhookDispatcher.millisLeft(deadline))));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    private void rewindToCommitted() {
        if (stopping || owned.isEmpty()) {
            return;
        }
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(owned));
            for (TopicPartition tp : owned) {
                OffsetAndMetadata o = committed.get(tp);
                if (o != null) {
                    consumer.seek(tp, o.offset());
                }
            }
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("webhook receiver {}: cannot read committed offsets yet: {}", name, e.toString());
        }
    }

    /**
     * Pending = the fetched records not yet done with, the records read ahead while an alert is retried, and the
     * partitions' lag behind the end beyond what was fetched. Read-committed positions step over the analyzer's
     * transaction markers once fetched, so with everything fetched the count is exact; the lag of what was not
     * fetched yet may include markers.
     */
    private void updatePending() {
        long lag = 0;
        for (TopicPartition tp : owned) {
            lag += consumer.currentLag(tp).orElse(0) + readAhead.getOrDefault(tp, 0L);
        }
        pending.set(lag + batchRemaining);
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            generation++;
            owned.addAll(partitions);
            if (!partitions.isEmpty()) {
                fixStartPositions(partitions);
            }
            if (pausing) {
                consumer.pause(partitions);
            }
            joined.countDown();
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            generation++;
            owned.removeAll(partitions);
            partitions.forEach(readAhead::remove);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            onPartitionsRevoked(partitions);
        }

        /**
         * A partition this group has never committed on starts at the configured end, and that position is
         * committed at once: a restart before the first delivery must not skip to a newer end.
         */
        private void fixStartPositions(Collection<TopicPartition> partitions) {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(partitions));
            Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
            for (TopicPartition tp : partitions) {
                if (committed.get(tp) == null) {
                    if (config.startFrom() == WebhookConfig.StartFrom.LATEST) {
                        consumer.seekToEnd(List.of(tp));
                    } else {
                        consumer.seekToBeginning(List.of(tp));
                    }
                    start.put(tp, new OffsetAndMetadata(consumer.position(tp)));
                }
            }
            if (!start.isEmpty()) {
                consumer.commitSync(start);
                LOG.info("webhook receiver {}: first start of group {}, from {} offsets {}", name, groupId,
                        config.startFrom().name().toLowerCase(java.util.Locale.ROOT), start);
            }
        }
    }
}

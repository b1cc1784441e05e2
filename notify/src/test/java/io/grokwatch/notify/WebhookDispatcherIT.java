package io.grokwatch.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.grokwatch.kafka.ClientConfigs;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dispatcher against a real broker and real HTTP receivers on loopback: signed deliveries, retries while a
 * receiver is down (connection refused, then 503) or refusing, a dispatcher restart with an alert still pending, and
 * the verifying receiver of {@code grokwatch webhook-receiver} through a secret rotation.
 */
class WebhookDispatcherIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String SECRET = "it-secret";
    private static final Topics TOPICS = Topics.defaults();
    private static EmbeddedKafka kafka;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start();
        TopicAdmin.ensureTopics(kafka.bootstrapServers(), TOPICS, 2, (short) 1);
        producer = new KafkaProducer<>(ClientConfigs.producer(kafka.bootstrapServers(), "it-alerts"),
                new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    static void stopKafka() {
        if (producer != null) {
            producer.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A webhook receiver on loopback that answers {@code status} and records what it was sent. */
    static final class Receiver implements AutoCloseable {
        record Request(byte[] body, String signature, String idempotencyKey, String timestamp, int attempt) {
            JsonNode json() {
                try {
                    return MAPPER.readTree(body);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }
        }

        final List<Request> requests = new CopyOnWriteArrayList<>();
        final AtomicInteger status = new AtomicInteger(200);
        final int port;
        private HttpServer server;

        Receiver(int port) throws IOException {
            server = listen(port);
            this.port = server.getAddress().getPort();
        }

        private HttpServer listen(int onPort) throws IOException {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 0);
            s.createContext("/hook", ex -> {
                byte[] body;
                try (InputStream in = ex.getRequestBody()) {
                    body = in.readAllBytes();
                }
                // Decided before the request is visible to the test, which may change the status once it sees it.
                int answer = status.get();
                requests.add(new Request(body, ex.getRequestHeaders().getFirst("webhook-signature"),
                        ex.getRequestHeaders().getFirst("webhook-id"),
                        ex.getRequestHeaders().getFirst("webhook-timestamp"),
                        Integer.parseInt(ex.getRequestHeaders().getFirst("X-Grokwatch-Attempt"))));
                ex.sendResponseHeaders(answer, -1);
                ex.close();
            });
            s.start();
            return s;
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + port + "/hook?token=abc");
        }

        /** Closes the port (connections are refused) until {@link #up()}. */
        void down() {
            server.stop(0);
            server = null;
        }

        /** Listens on the same port again. */
        void up() throws IOException {
            server = listen(port);
        }

        Set<String> keysDelivered() {
            Set<String> keys = new HashSet<>();
            for (Request r : requests) {
                keys.add(r.idempotencyKey());
            }
            return keys;
        }

        @Override
        public void close() {
            if (server != null) {
                server.stop(0);
            }
        }
    }

    private static WebhookConfig config(String prefix, URI... urls) {
        return WebhookConfig.of(List.of(urls), SECRET).withBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
                .withRequestTimeout(Duration.ofSeconds(2)).withGroupPrefix(prefix);
    }

    /** Produces an alert as the analyzer does (key = run id) and returns its idempotency key. */
    private static String produce(String runId, String type, long step) throws Exception {
        String json = "{\"runId\":\"" + runId + "\",\"type\":\"" + type + "\",\"epoch\":" + step / 10 + ",\"step\":"
                + step + ",\"confidence\":0.75,\"evidence\":{\"signal\":\"test\",\"ratio\":1.2}}";
        producer.send(new ProducerRecord<>(TOPICS.alerts(), runId, json.getBytes(StandardCharsets.UTF_8))).get();
        return AlertmanagerPayload.idempotencyKey(runId, type, step);
    }

    /** The Standard Webhooks signature of a request, computed here independently of the code under test. */
    private static String hmac(Receiver.Request r) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((r.idempotencyKey() + "." + r.timestamp() + ".").getBytes(StandardCharsets.UTF_8));
        long age = System.currentTimeMillis() / 1000 - Long.parseLong(r.timestamp());
        assertTrue(age >= 0 && age < 120, "timestamp of the attempt, not of the alert: " + age + " s ago");
        return "v1," + java.util.Base64.getEncoder().encodeToString(mac.doFinal(r.body()));
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    private static double count(MeterRegistry registry, String name, String receiver) {
        return registry.get(name).tag("receiver", receiver).counter().count();
    }

    @Test
    void alertsArriveSignedInTheAlertmanagerShapeAndADownReceiverHoldsBackOnlyItself() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (Receiver ok = new Receiver(0); Receiver failing = new Receiver(0)) {
            failing.status.set(503);
            try (WebhookDispatcher d = WebhookDispatcher.start(config("it-a", ok.url(), failing.url()),
                    kafka.bootstrapServers(), TOPICS, registry, DeliveryListener.NONE)) {
                assertEquals(List.of("127.0.0.1:" + ok.port, "127.0.0.1:" + failing.port), d.receivers());
                Set<String> produced = new HashSet<>();
                produced.add(produce("run-a", "grokking-onset", 600));
                produced.add(produce("run-b", "spectral-gap", 700));
                produced.add(produce("run-a", "generalization", 900));
                await("3 deliveries to the healthy receiver", Duration.ofSeconds(30),
                        () -> ok.keysDelivered().size() == 3);
                assertEquals(produced, ok.keysDelivered());
                assertEquals(3, ok.requests.size(), "each exactly once while nothing restarts");
                for (Receiver.Request r : ok.requests) {
                    assertEquals(hmac(r), r.signature(), "signature of " + r.idempotencyKey());
                    JsonNode p = r.json();
                    assertEquals("4", p.get("version").asText());
                    JsonNode alert = p.get("alerts").get(0);
                    assertEquals(r.idempotencyKey(), alert.get("annotations").get("idempotencyKey").asText());
                    assertEquals(1, r.attempt());
                    assertTrue(alert.get("startsAt").asText().endsWith("Z"), alert.toString());
                }
                JsonNode onset = ok.requests.stream().map(Receiver.Request::json)
                        .filter(p -> p.get("commonLabels").get("type").asText().equals("grokking-onset"))
                        .findFirst().orElseThrow();
                assertEquals("GrokkingOnset", onset.get("commonLabels").get("alertname").asText());
                assertEquals("run-a", onset.get("commonLabels").get("run").asText());
                assertEquals("600", onset.get("commonAnnotations").get("step").asText());

                await("the failing receiver to be retried", Duration.ofSeconds(30),
                        () -> count(registry, "grokwatch.webhook.delivery.failures", "127.0.0.1:" + failing.port) >= 3);
                await("the healthy receiver's deliveries counted", Duration.ofSeconds(10),
                        () -> count(registry, "grokwatch.webhook.deliveries", "127.0.0.1:" + ok.port) >= 3.0);
                assertEquals(3.0, count(registry, "grokwatch.webhook.deliveries", "127.0.0.1:" + ok.port));
                assertEquals(0.0, count(registry, "grokwatch.webhook.deliveries", "127.0.0.1:" + failing.port));
                assertEquals(0.0, count(registry, "grokwatch.webhook.delivery.failures", "127.0.0.1:" + ok.port));
                await("the healthy receiver's pending gauge at 0", Duration.ofSeconds(10), () -> registry
                        .get("grokwatch.webhook.pending").tag("receiver", "127.0.0.1:" + ok.port).gauge().value() == 0);
                assertTrue(registry.get("grokwatch.webhook.pending").tag("receiver", "127.0.0.1:" + failing.port)
                        .gauge().value() >= 1, "the failing receiver has alerts pending");
                // Every attempt at the failing receiver was the first alert of its partition, signed the same way.
                Set<Integer> attempts = new HashSet<>();
                for (Receiver.Request r : failing.requests) {
                    assertEquals(hmac(r), r.signature());
                    attempts.add(r.attempt());
                }
                assertTrue(attempts.size() >= 2, "attempts numbered: " + attempts);
                // Each receiver's consumer reports Kafka's own metrics, by its client id.
                for (int i = 0; i < 2; i++) {
                    assertTrue(registry.find("kafka.consumer.fetch.manager.records.lag.max")
                            .tag("client.id", "grokwatch-webhook-" + i).gauge() != null, "consumer " + i + " metrics");
                }
            }
            // The dispatcher's gauges go with it; its counters stay.
            assertTrue(registry.find("grokwatch.webhook.pending").gauges().isEmpty());
            assertTrue(registry.find("kafka.consumer.fetch.manager.records.lag.max").gauges().isEmpty(),
                    "the consumers' metrics go with them");
        }
    }

    @Test
    @SuppressWarnings("try") // the dispatcher runs for the test's body, which talks to it through Kafka and HTTP
    void whileTheReceiverIsDownTheAlertIsRetriedAndArrivesWhenItIsBack() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (Receiver r = new Receiver(0);
             WebhookDispatcher d = WebhookDispatcher.start(config("it-b", r.url()), kafka.bootstrapServers(), TOPICS,
                     registry, DeliveryListener.NONE)) {
            String name = "127.0.0.1:" + r.port;
            // Connection refused.
            r.down();
            String first = produce("run-down", "grokking-onset", 100);
            await("retries against a closed port", Duration.ofSeconds(30),
                    () -> count(registry, "grokwatch.webhook.delivery.failures", name) >= 3);
            // Listening but 503 (and a Retry-After-less 503 retries on the backoff schedule).
            r.status.set(503);
            r.up();
            await("503 answers", Duration.ofSeconds(30), () -> r.requests.size() >= 3);
            assertEquals(Set.of(first), r.keysDelivered(), "only the pending alert is tried");
            double failuresBefore = count(registry, "grokwatch.webhook.delivery.failures", name);
            r.status.set(200);
            await("the delivery", Duration.ofSeconds(30),
                    () -> count(registry, "grokwatch.webhook.deliveries", name) == 1);
            Receiver.Request last = r.requests.get(r.requests.size() - 1);
            assertEquals(first, last.idempotencyKey());
            assertEquals(hmac(last), last.signature());
            assertTrue(last.attempt() >= 6, "3+ refused + 3+ 503 attempts before, got attempt " + last.attempt());
            assertTrue(failuresBefore >= 5, "failures counted per attempt: " + failuresBefore);
            // Same bytes on every attempt (each attempt is signed with its own timestamp).
            for (Receiver.Request req : r.requests) {
                assertArrayEquals(last.body(), req.body());
            }
            // The next alert goes straight through.
            String second = produce("run-down", "generalization", 200);
            await("the next delivery", Duration.ofSeconds(30), () -> r.keysDelivered().contains(second));
            assertEquals(1, r.requests.get(r.requests.size() - 1).attempt());
        }
    }

    @Test
    @SuppressWarnings("try") // the dispatcher runs for the test's body, which talks to it through Kafka and HTTP
    void aRefusedAlertIsKeptAndDeliveredOnceTheReceiverIsFixed() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        List<String> dropped = new CopyOnWriteArrayList<>();
        DeliveryListener listener = new DeliveryListener() {
            @Override
            public void dropped(String receiver, io.grokwatch.records.AlertRecord alert, String reason, String detail) {
                dropped.add(alert.step() + " " + reason + " " + detail);
            }
        };
        try (Receiver r = new Receiver(0);
             WebhookDispatcher d = WebhookDispatcher.start(config("it-e", r.url()), kafka.bootstrapServers(), TOPICS,
                     registry, listener)) {
            String name = "127.0.0.1:" + r.port;
            r.status.set(401); // e.g. the receiver was given another secret
            String refused = produce("run-e", "spectral-gap", 1);
            await("the refusal to be retried", Duration.ofSeconds(30), () -> r.requests.size() >= 2);
            // Produced while the first is being retried: counted as pending all the same, and exactly.
            String behind = produce("run-e", "spectral-gap", 2);
            await("both pending", Duration.ofSeconds(10), () -> d.pending() == 2);
            await("more retries", Duration.ofSeconds(30), () -> r.requests.size() >= 4);
            assertEquals(Set.of(refused), r.keysDelivered(), "the refused alert holds back the one behind it");
            assertEquals(2, d.pending(), "still exactly the two");
            r.status.set(200); // the receiver's configuration is fixed
            await("both delivered", Duration.ofSeconds(30), () -> r.keysDelivered().contains(behind));
            // The receiver has the alert before the dispatcher reads its answer and counts the delivery.
            await("both deliveries counted", Duration.ofSeconds(10),
                    () -> count(registry, "grokwatch.webhook.deliveries", name) >= 2.0);
            assertEquals(List.of(), dropped);
            assertEquals(2.0, count(registry, "grokwatch.webhook.deliveries", name));
            assertTrue(count(registry, "grokwatch.webhook.delivery.failures", name) >= 2);
            await("nothing pending", Duration.ofSeconds(10), () -> d.pending() == 0);
        }
    }

    @Test
    @SuppressWarnings("try") // the first dispatcher runs for its block, which talks to it through Kafka and HTTP
    void anAlertRefusedForAWrongSecretIsDeliveredOnceTheSenderHasTheRightOne() throws Exception {
        // The receiving side as grokwatch webhook-receiver runs it: signature, timestamp and id checked.
        List<String> accepted = new CopyOnWriteArrayList<>();
        List<Integer> answers = new CopyOnWriteArrayList<>();
        try (SeenIdFile seen = new SeenIdFile(java.nio.file.Files.createTempDirectory("seen").resolve("ids"), 100)) {
            WebhookVerifier verifier = new WebhookVerifier(List.of("new-secret"), WebhookSignature.DEFAULT_TOLERANCE,
                    seen, java.time.InstantSource.system());
            try (TimedHttpServer server = new TimedHttpServer("127.0.0.1", 0, 2, Duration.ofSeconds(5), 1 << 20,
                    request -> {
                        WebhookVerifier.Outcome o = verifier.check(request);
                        answers.add(o.status());
                        if (o.accepted() && !o.repeat()) {
                            accepted.add(request.header(WebhookSignature.ID_HEADER));
                        }
                        return new TimedHttpServer.Response(o.status(), o.accepted() ? "ok" : o.refusal());
                    })) {
                URI url = URI.create("http://127.0.0.1:" + server.port() + "/hook");
                WebhookConfig stale = WebhookConfig.of(List.of(url), "old-secret")
                        .withBackoff(Duration.ofMillis(50), Duration.ofMillis(300)).withGroupPrefix("it-f");
                String key;
                try (WebhookDispatcher d = WebhookDispatcher.start(stale, kafka.bootstrapServers(), TOPICS,
                        new SimpleMeterRegistry(), DeliveryListener.NONE)) {
                    key = produce("run-f", "grokking-onset", 5);
                    await("refusals of the wrong secret", Duration.ofSeconds(30),
                            () -> answers.stream().filter(a -> a == 401).count() >= 2);
                    assertEquals(List.of(), accepted);
                }
                // The operator fixes the secret and restarts: the kept alert goes out, signed with the new one.
                WebhookConfig fixed = WebhookConfig.of(List.of(url), "new-secret old-secret")
                        .withBackoff(Duration.ofMillis(50), Duration.ofMillis(300)).withGroupPrefix("it-f");
                try (WebhookDispatcher d = WebhookDispatcher.start(fixed, kafka.bootstrapServers(), TOPICS,
                        new SimpleMeterRegistry(), DeliveryListener.NONE)) {
                    await("the delivery", Duration.ofSeconds(30), () -> accepted.contains(key));
                    await("nothing pending", Duration.ofSeconds(10), () -> d.pending() == 0);
                }
                assertEquals(List.of(key), accepted, "delivered once");
            }
        }
    }

    @Test
    @SuppressWarnings("try") // the dispatcher runs for the test's body, which talks to it through Kafka and HTTP
    void pastTheMaxAgeARefusedOrFailingAlertIsCountedAndSkippedAndTheNextOneGoesThrough() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        List<String> dropped = new CopyOnWriteArrayList<>();
        DeliveryListener listener = new DeliveryListener() {
            @Override
            public void dropped(String receiver, io.grokwatch.records.AlertRecord alert, String reason, String detail) {
                dropped.add(alert.step() + " " + reason + " " + detail);
            }
        };
        try (Receiver r = new Receiver(0);
             WebhookDispatcher d = WebhookDispatcher.start(config("it-d", r.url()).withMaxAge(Duration.ofSeconds(1)),
                     kafka.bootstrapServers(), TOPICS, registry, listener)) {
            String name = "127.0.0.1:" + r.port;
            r.status.set(400);
            String refused = produce("run-d", "spectral-gap", 1);
            await("the refusal given up", Duration.ofSeconds(30), () -> dropped.size() == 1);
            assertEquals(List.of("1 rejected HTTP 400"), dropped);
            assertEquals(Set.of(refused), r.keysDelivered());
            r.status.set(503);
            produce("run-d", "spectral-gap", 2);
            await("expiry after the max age", Duration.ofSeconds(30), () -> dropped.size() == 2);
            assertTrue(dropped.get(1).startsWith("2 expired HTTP 503"), dropped.toString());
            r.status.set(200);
            String next = produce("run-d", "spectral-gap", 3);
            await("the next alert", Duration.ofSeconds(30), () -> r.keysDelivered().contains(next));
            await("its delivery counted", Duration.ofSeconds(10),
                    () -> count(registry, "grokwatch.webhook.deliveries", name) >= 1.0);
            assertEquals(1.0, registry.get("grokwatch.webhook.dropped").tags("receiver", name, "reason", "rejected")
                    .counter().count());
            assertEquals(1.0, registry.get("grokwatch.webhook.dropped").tags("receiver", name, "reason", "expired")
                    .counter().count());
            assertEquals(1.0, count(registry, "grokwatch.webhook.deliveries", name));
            await("nothing pending", Duration.ofSeconds(10), () -> d.pending() == 0);
        }
    }

    @Test
    @SuppressWarnings("try") // the first dispatcher runs for its block, which talks to it through Kafka and HTTP
    void aPendingAlertSurvivesADispatcherRestartAndNothingDeliveredIsLost() throws Exception {
        try (Receiver r = new Receiver(0)) {
            List<String> produced = new ArrayList<>();
            WebhookConfig config = config("it-c", r.url());
            MeterRegistry registry = new SimpleMeterRegistry();
            String name = "127.0.0.1:" + r.port;
            try (WebhookDispatcher first = WebhookDispatcher.start(config, kafka.bootstrapServers(), TOPICS, registry,
                    DeliveryListener.NONE)) {
                for (int i = 0; i < 4; i++) {
                    produced.add(produce("run-c" + (i % 2), "spectral-gap", 10L * i));
                }
                await("the first 4 delivered", Duration.ofSeconds(30), () -> r.keysDelivered().size() == 4);
                r.status.set(503);
                for (int i = 4; i < 8; i++) {
                    produced.add(produce("run-c" + (i % 2), "spectral-gap", 10L * i));
                }
                await("retries of the pending alerts", Duration.ofSeconds(30),
                        () -> count(registry, "grokwatch.webhook.delivery.failures", name) >= 4);
            }
            int beforeRestart = r.requests.size();
            // Produced while no dispatcher runs.
            produced.add(produce("run-c0", "grokking-onset", 90));
            r.status.set(200);
            MeterRegistry registry2 = new SimpleMeterRegistry();
            List<String> told = new CopyOnWriteArrayList<>();
            try (WebhookDispatcher second = WebhookDispatcher.start(config, kafka.bootstrapServers(), TOPICS,
                    registry2, new DeliveryListener() {
                        @Override
                        public void delivered(String receiver, io.grokwatch.records.AlertRecord alert, int attempts) {
                            told.add(receiver + " " + alert.runId() + " " + alert.step());
                        }
                    })) {
                await("every alert produced", Duration.ofSeconds(30),
                        () -> r.keysDelivered().containsAll(produced));
                await("nothing pending", Duration.ofSeconds(10), () -> second.pending() == 0);
            }
            assertTrue(r.requests.size() > beforeRestart);
            // At least once, and deduplicated by key exactly the set produced.
            assertEquals(new HashSet<>(produced), r.keysDelivered());
            Map<String, byte[]> bodies = new HashMap<>();
            for (Receiver.Request req : r.requests) {
                byte[] previous = bodies.putIfAbsent(req.idempotencyKey(), req.body());
                if (previous != null) {
                    assertTrue(Arrays.equals(previous, req.body()), "a repeat is the same alert: " + req.idempotencyKey());
                }
                assertEquals(hmac(req), req.signature());
            }
            // The 4 delivered before the restart are not sent again (their offsets were committed).
            assertEquals(5.0, count(registry2, "grokwatch.webhook.deliveries", name), "told: " + told);
            assertEquals(5, told.size());
            assertTrue(told.contains(name + " run-c0 90"), told.toString());
        }
    }
}

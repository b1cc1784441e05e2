package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grokwatch.notify.WebhookSignature;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code grokwatch webhook-receiver}: a minimal receiver for trying webhooks out. Checks the signature, drops
 * repeats by {@code Idempotency-Key}, prints one line per alert.
 */
@Command(name = "webhook-receiver", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Listen for grokwatch alert webhooks and print each verified alert: the signature is checked "
                + "(401 if it does not match) and a repeat of an Idempotency-Key already seen is answered 200 and "
                + "ignored. For trying --webhook-url out, not for production.",
                "Example: grokwatch webhook-receiver --port 9000 --secret s3cret &",
                "         grokwatch demo --exit-when-done --webhook-url http://127.0.0.1:9000/ --webhook-secret s3cret"})
final class WebhookReceiverCommand implements Callable<Integer> {
    @Option(names = "--port", description = "Port to listen on (0 = any free port). Default: ${DEFAULT-VALUE}.")
    int port = 9000;
    @Option(names = "--bind", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String bind = "127.0.0.1";
    @Option(names = "--secret", paramLabel = "SECRET", description = "The --webhook-secret of the sender. Default: $"
            + WebhookOptions.ENV_SECRET + "; with neither, signatures are not checked.")
    String secret;
    @Option(names = "--exit-after", paramLabel = "N", description = "Exit after N distinct alerts (for scripts). "
            + "Default: run until interrupted.")
    int exitAfter;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        String key = secret != null ? secret : System.getenv(WebhookOptions.ENV_SECRET);
        if (key != null && key.isEmpty()) {
            key = null;
        }
        String verifyWith = key;
        PrintWriter out = spec.commandLine().getOut();
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger distinct = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        server.createContext("/", ex -> {
            try (ex) {
                handle(ex, verifyWith, seen, distinct, done, out);
            }
        });
        server.start();
        try {
            out.printf("listening on http://%s:%d/ (%s)%n", bind, server.getAddress().getPort(),
                    verifyWith == null ? "signatures not checked" : "checking X-Grokwatch-Signature");
            out.flush();
            done.await();
        } finally {
            server.stop(0);
        }
        return 0;
    }

    private void handle(HttpExchange ex, String secret, Set<String> seen, AtomicInteger distinct, CountDownLatch done,
            PrintWriter out) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            ex.sendResponseHeaders(405, -1);
            return;
        }
        byte[] body;
        try (InputStream in = ex.getRequestBody()) {
            body = in.readAllBytes();
        }
        String signature = ex.getRequestHeaders().getFirst(WebhookSignature.HEADER);
        if (secret != null && !WebhookSignature.verify(secret, body, signature)) {
            synchronized (out) {
                out.println("rejected a request with " + (signature == null ? "no" : "a wrong") + " signature");
                out.flush();
            }
            ex.sendResponseHeaders(401, -1);
            return;
        }
        JsonNode payload;
        try {
            payload = JsonFiles.MAPPER.readTree(body);
        } catch (IOException e) {
            ex.sendResponseHeaders(400, -1);
            return;
        }
        String id = ex.getRequestHeaders().getFirst(WebhookSignature.IDEMPOTENCY_HEADER);
        boolean repeat = id != null && !seen.add(id);
        synchronized (out) {
            for (JsonNode a : payload.path("alerts")) {
                JsonNode an = a.path("annotations");
                out.printf("%s%s %s run=%s epoch %s step %s confidence %s - %s%n", repeat ? "(repeat, ignored) " : "",
                        a.path("startsAt").asText(), a.path("labels").path("alertname").asText(),
                        a.path("labels").path("run").asText(), an.path("epoch").asText(), an.path("step").asText(),
                        an.path("confidence").asText(), an.path("summary").asText());
            }
            out.flush();
        }
        ex.sendResponseHeaders(200, -1);
        if (!repeat && exitAfter > 0 && distinct.incrementAndGet() >= exitAfter) {
            done.countDown();
        }
    }
}

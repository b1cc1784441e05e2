package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.notify.SeenIdFile;
import io.grokwatch.notify.TimedHttpServer;
import io.grokwatch.notify.WebhookSignature;
import io.grokwatch.notify.WebhookVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code grokwatch webhook-receiver}: a small receiver for grokwatch's (and Alertmanager's) webhooks. Checks the
 * Standard Webhooks signature and timestamp, drops repeats by {@code webhook-id} (remembered in a file across
 * restarts), prints one line per alert. Serves requests concurrently, each with a read deadline.
 */
@Command(name = "webhook-receiver", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Listen for alert webhooks (grokwatch's, or Alertmanager's) and print each accepted alert. "
                + "With a secret, requests must carry webhook-id, webhook-timestamp and a matching webhook-signature "
                + "(401 otherwise), and a timestamp within --tolerance-seconds of now; a webhook-id already seen "
                + "(also before a restart: --seen-ids) is answered 200 and ignored.",
                "Example: grokwatch webhook-receiver --port 9000 --secret s3cret &",
                "         grokwatch demo --exit-when-done --webhook-url http://127.0.0.1:9000/ --webhook-secret s3cret"})
final class WebhookReceiverCommand implements Callable<Integer> {
    /** Requests served at once; a slow client holds one of them for at most the read timeout. */
    static final int THREADS = 8;
    /** Seen ids remembered: far above the alerts of the time a sender keeps retrying one. */
    static final int SEEN_CAPACITY = 100_000;
    static final int MAX_BODY_BYTES = 1024 * 1024;

    @Option(names = "--port", description = "Port to listen on (0 = any free port). Default: ${DEFAULT-VALUE}.")
    int port = 9000;
    @Option(names = "--bind", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String bind = "127.0.0.1";
    @Option(names = "--secret", paramLabel = "SECRET", description = "A secret of the sender (--webhook-secret); "
            + "repeat it to accept several during a rotation. Default: the space-separated secrets in $"
            + WebhookOptions.ENV_SECRET + "; with neither, signatures are not checked.")
    List<String> secrets = new ArrayList<>();
    @Option(names = "--tolerance-seconds", paramLabel = "S", description = "Refuse a signed request whose timestamp "
            + "is further than this from now (a replayed capture). Default: ${DEFAULT-VALUE}.")
    long toleranceSeconds = WebhookSignature.DEFAULT_TOLERANCE.toSeconds();
    @Option(names = "--seen-ids", paramLabel = "FILE", description = "Where the webhook ids already accepted are kept "
            + "(the newest " + SEEN_CAPACITY + "), so a repeat after a restart is still known. "
            + "Default: ${DEFAULT-VALUE}.")
    Path seenIds = Path.of(".grokwatch", "webhook-receiver", "seen-ids");
    @Option(names = "--read-timeout-ms", paramLabel = "MS", description = "The most a request may take to arrive; a "
            + "slower one is answered 408 and its connection closed. Default: ${DEFAULT-VALUE}.")
    long readTimeoutMs = 10_000;
    @Option(names = "--exit-after", paramLabel = "N", description = "Exit after N distinct alerts (for scripts). "
            + "Default: run until interrupted.")
    int exitAfter;
    @Spec
    CommandSpec spec;

    /** The environment (replaced in tests). */
    java.util.function.UnaryOperator<String> env = System::getenv;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (port < 0 || port > 65_535) {
            throw new ParameterException(spec.commandLine(), "--port: " + port + " is not allowed; allowed: 0 (a free "
                    + "port) to 65535");
        }
        if (toleranceSeconds < 1 || toleranceSeconds > 86_400) {
            throw new ParameterException(spec.commandLine(), "--tolerance-seconds: " + toleranceSeconds
                    + " is not allowed; allowed: 1..86400");
        }
        if (readTimeoutMs < 1 || readTimeoutMs > 300_000) {
            throw new ParameterException(spec.commandLine(), "--read-timeout-ms: " + readTimeoutMs
                    + " is not allowed; allowed: 1..300000");
        }
        if (exitAfter < 0) {
            throw new ParameterException(spec.commandLine(), "--exit-after: " + exitAfter + " is not allowed; "
                    + "allowed: 0 (never) or more");
        }
        List<String> keys = secrets();
        PrintWriter out = spec.commandLine().getOut();
        AtomicInteger distinct = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        try (SeenIdFile seen = new SeenIdFile(seenIds, SEEN_CAPACITY)) {
            WebhookVerifier verifier = new WebhookVerifier(keys, Duration.ofSeconds(toleranceSeconds), seen,
                    InstantSource.system());
            try (TimedHttpServer server = new TimedHttpServer(bind, port, THREADS, Duration.ofMillis(readTimeoutMs),
                    MAX_BODY_BYTES, request -> handle(request, verifier, distinct, done, out))) {
                Thread hook = new Thread(done::countDown, "webhook-receiver-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
                synchronized (out) {
                    out.printf("listening on http://%s:%d/ (%s; %d ids remembered in %s)%n", bind, server.port(),
                            verifier.checksSignatures() ? "checking webhook-signature with " + keys.size()
                                    + " secret(s), timestamps within " + toleranceSeconds + " s"
                                    : "signatures not checked", seen.size(), seenIds);
                    out.flush();
                }
                try {
                    done.await();
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException e) {
                        // Already shutting down: the hook is what ended the wait.
                    }
                }
            }
        }
        return 0;
    }

    private List<String> secrets() {
        if (!secrets.isEmpty()) {
            for (String s : secrets) {
                if (s.isEmpty()) {
                    throw new ParameterException(spec.commandLine(), "--secret: empty; allowed: a non-empty string");
                }
            }
            return secrets;
        }
        String fromEnv = env.apply(WebhookOptions.ENV_SECRET);
        return fromEnv == null || fromEnv.isBlank() ? List.of() : List.of(fromEnv.strip().split("\\s+"));
    }

    private TimedHttpServer.Response handle(TimedHttpServer.Request request, WebhookVerifier verifier,
            AtomicInteger distinct, CountDownLatch done, PrintWriter out) {
        WebhookVerifier.Outcome outcome = verifier.check(request);
        if (!outcome.accepted()) {
            synchronized (out) {
                out.println("rejected a request: " + outcome.refusal());
                out.flush();
            }
            return new TimedHttpServer.Response(outcome.status(), outcome.refusal());
        }
        JsonNode payload;
        try {
            payload = JsonFiles.MAPPER.readTree(request.body());
        } catch (IOException e) {
            return new TimedHttpServer.Response(400, "not JSON");
        }
        synchronized (out) {
            for (JsonNode a : payload.path("alerts")) {
                JsonNode an = a.path("annotations");
                out.printf("%s%s %s %s run=%s epoch %s step %s confidence %s - %s%n",
                        outcome.repeat() ? "(repeat, ignored) " : "", a.path("startsAt").asText(),
                        a.path("status").asText("firing"), a.path("labels").path("alertname").asText(),
                        a.path("labels").path("run").asText(), an.path("epoch").asText(), an.path("step").asText(),
                        an.path("confidence").asText(), an.path("summary").asText());
            }
            out.flush();
        }
        if (!outcome.repeat() && exitAfter > 0 && distinct.incrementAndGet() >= exitAfter) {
            done.countDown();
        }
        return new TimedHttpServer.Response(200, outcome.repeat() ? "repeat, ignored" : "accepted");
    }
}

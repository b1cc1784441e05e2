package io.grokwatch.deployment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * alertmanager/alertmanager.yml delivers: a real Alertmanager (Debian's prometheus-alertmanager) with the
 * repository's configuration, its receiver's host pointed at a {@code grokwatch webhook-receiver} on loopback and
 * its group timers shortened, is sent an alert and then its end, and the receiver logs both, firing and resolved.
 */
class AlertmanagerDeliveryIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    @Test
    void anAlertAndItsResolutionReachTheGrokwatchReceiver() throws Exception {
        int receiverPort = freePort();
        StringWriter out = new StringWriter();
        Thread receiver = new Thread(() -> {
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.execute("webhook-receiver", "--port", Integer.toString(receiverPort), "--seen-ids",
                    dir.resolve("seen-ids").toString(), "--exit-after", "2");
        }, "webhook-receiver");
        receiver.setDaemon(true);
        receiver.start();
        await("the receiver listening", Duration.ofSeconds(20), () -> out.toString().contains("listening"));

        ObjectNode config = (ObjectNode) Repo.yamlFile("alertmanager/alertmanager.yml");
        String url = config.path("receivers").get(0).path("webhook_configs").get(0).path("url").asText();
        assertTrue(url.startsWith("http://webhook-receiver:9000/"), url);
        ((ObjectNode) config.path("receivers").get(0).path("webhook_configs").get(0)).put("url",
                url.replace("webhook-receiver:9000", "127.0.0.1:" + receiverPort));
        // Seconds instead of the configured 10 s / 1 min, so the test need not wait for them.
        ((ObjectNode) config.path("route")).put("group_wait", "0s").put("group_interval", "1s");
        Path file = dir.resolve("alertmanager.yml");
        Files.writeString(file, Repo.YAML.writeValueAsString(config));

        int port = freePort();
        Process alertmanager;
        try {
            alertmanager = new ProcessBuilder("prometheus-alertmanager", "--config.file=" + file,
                    "--storage.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                    "--cluster.listen-address=").redirectErrorStream(true)
                    .redirectOutput(dir.resolve("alertmanager.log").toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("prometheus-alertmanager is not installed: apt-get install -y "
                    + "prometheus-alertmanager (./run-tests installs it when missing)", e);
        }
        try {
            String api = "http://127.0.0.1:" + port;
            await("Alertmanager ready", Duration.ofSeconds(30), () -> status(api + "/-/ready") == 200);
            Instant start = Instant.now();
            post(api, start, null);
            await("the firing alert at the receiver", Duration.ofSeconds(30),
                    () -> out.toString().contains(" firing GrokkingDetected run=am-it "));
            post(api, start, Instant.now());
            await("the resolved alert at the receiver", Duration.ofSeconds(30),
                    () -> out.toString().contains(" resolved GrokkingDetected run=am-it "));
            receiver.join(10_000);
            assertTrue(!receiver.isAlive(), "two distinct notifications: " + out);
            assertEquals(0, out.toString().lines().filter(l -> l.startsWith("rejected")).count(), out.toString());
        } finally {
            alertmanager.destroy();
            if (!alertmanager.waitFor(10, TimeUnit.SECONDS)) {
                alertmanager.destroyForcibly();
            }
        }
    }

    /** Posts the alert as Prometheus would; with {@code ends} its resolution. */
    private static void post(String api, Instant starts, Instant ends) throws Exception {
        ArrayNode alerts = Repo.YAML.createArrayNode();
        ObjectNode a = alerts.addObject();
        a.putObject("labels").put("alertname", "GrokkingDetected").put("run", "am-it").put("severity", "info");
        a.putObject("annotations").put("summary", "Run am-it has started to grok");
        a.put("startsAt", starts.toString());
        if (ends != null) {
            a.put("endsAt", ends.toString());
        }
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/v2/alerts"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(new com.fasterxml.jackson.databind.ObjectMapper()
                        .writeValueAsString(alerts))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }

    private static int status(String url) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}

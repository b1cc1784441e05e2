package io.grokwatch.cli;

import io.grokwatch.notify.WebhookSignature;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code grokwatch webhook-receiver} on loopback: signature check, repeats, one line per alert. */
class WebhookReceiverCommandTest {
    private static final String BODY = "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
            + "\"labels\":{\"alertname\":\"GrokkingOnset\",\"run\":\"ma-1\",\"type\":\"grokking-onset\"},"
            + "\"annotations\":{\"summary\":\"Run ma-1 has started to grok (epoch 60)\",\"epoch\":\"60\","
            + "\"step\":\"600\",\"confidence\":\"0.51\"},\"startsAt\":\"2026-11-25T17:11:10.123Z\"}]}";

    @Test
    void printsVerifiedAlertsOnceAndRefusesBadSignatures() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StringWriter out = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        Thread receiver = new Thread(() -> {
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));
            code.set(cl.execute("webhook-receiver", "--port", Integer.toString(port), "--secret", "k",
                    "--exit-after", "2"));
        });
        receiver.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!out.toString().contains("listening") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        HttpClient http = HttpClient.newHttpClient();
        byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
        String good = WebhookSignature.sign("k", body);
        assertEquals(401, post(http, port, body, WebhookSignature.sign("other", body), "gw-1"));
        assertEquals(401, post(http, port, body, null, "gw-1"));
        assertEquals(200, post(http, port, body, good, "gw-1"));
        assertEquals(200, post(http, port, body, good, "gw-1"));
        assertEquals(200, post(http, port, body, good, "gw-2"));
        receiver.join(10_000);
        assertFalse(receiver.isAlive(), "exits after 2 distinct alerts");
        assertEquals(0, code.get());
        String printed = out.toString();
        assertTrue(printed.contains("rejected a request with a wrong signature"), printed);
        assertTrue(printed.contains("rejected a request with no signature"), printed);
        assertTrue(printed.contains("2026-11-25T17:11:10.123Z GrokkingOnset run=ma-1 epoch 60 step 600 confidence "
                + "0.51 - Run ma-1 has started to grok (epoch 60)"), printed);
        assertEquals(1, printed.lines().filter(l -> l.startsWith("(repeat, ignored)")).count(), printed);
        assertEquals(3, printed.lines().filter(l -> l.contains("GrokkingOnset")).count(), printed);
    }

    private static int post(HttpClient http, int port, byte[] body, String signature, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signature != null) {
            b.header("X-Grokwatch-Signature", signature);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}

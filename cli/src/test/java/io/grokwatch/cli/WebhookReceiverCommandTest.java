package io.grokwatch.cli;

import io.grokwatch.notify.WebhookSignature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code grokwatch webhook-receiver} on loopback: signatures, timestamps, repeats also after a restart, one line per
 * alert, and a half-sent request that blocks nobody.
 */
class WebhookReceiverCommandTest {
    private static final String BODY = "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
            + "\"labels\":{\"alertname\":\"GrokkingOnset\",\"run\":\"ma-1\",\"type\":\"grokking-onset\"},"
            + "\"annotations\":{\"summary\":\"Run ma-1 has started to grok (epoch 60)\",\"epoch\":\"60\","
            + "\"step\":\"600\",\"confidence\":\"0.51\"},\"startsAt\":\"2026-11-25T17:11:10.123Z\"}]}";
    private static final byte[] BYTES = BODY.getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    /** A receiver running on a thread of this JVM, as {@code grokwatch webhook-receiver ARGS} would. */
    private record Running(Thread thread, StringWriter out, AtomicInteger code, int port) {
        void awaitExit() throws InterruptedException {
            thread.join(10_000);
            assertFalse(thread.isAlive(), "exits after --exit-after distinct alerts");
            assertEquals(0, code.get());
        }
    }

    private static Running start(String... args) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StringWriter out = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        List<String> all = new java.util.ArrayList<>(List.of("webhook-receiver", "--port", Integer.toString(port)));
        all.addAll(List.of(args));
        Thread receiver = new Thread(() -> {
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));
            code.set(cl.execute(all.toArray(new String[0])));
        });
        receiver.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!out.toString().contains("listening") && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(out.toString().contains("listening"), out.toString());
        return new Running(receiver, out, code, port);
    }

    @Test
    void printsVerifiedAlertsOnceAndRefusesBadSignaturesStaleTimestampsAndReplays() throws Exception {
        Path seen = dir.resolve("seen-ids");
        Running r = start("--secret", "k", "--secret", "old", "--seen-ids", seen.toString(), "--exit-after", "2");
        HttpClient http = HttpClient.newHttpClient();
        long now = System.currentTimeMillis() / 1000;
        String good = WebhookSignature.sign(List.of("k"), "gw-1", now, BYTES);
        assertEquals(401, post(http, r.port(), "gw-1", now, WebhookSignature.sign(List.of("other"), "gw-1", now,
                BYTES)));
        assertEquals(401, post(http, r.port(), "gw-1", now, null));
        assertEquals(401, post(http, r.port(), "gw-2", now, good), "a captured request under a new id");
        long stale = now - 301;
        assertEquals(401, post(http, r.port(), "gw-1", stale, WebhookSignature.sign(List.of("k"), "gw-1", stale,
                BYTES)), "older than the 300 s tolerance");
        assertEquals(200, post(http, r.port(), "gw-1", now, good));
        assertEquals(200, post(http, r.port(), "gw-1", now, good));
        assertEquals(200, post(http, r.port(), "gw-2", now, WebhookSignature.sign(List.of("old"), "gw-2", now,
                BYTES)), "signed with the other secret of a rotation");
        r.awaitExit();
        String printed = r.out().toString();
        assertTrue(printed.contains("rejected a request: a wrong signature"), printed);
        assertTrue(printed.contains("rejected a request: no signature"), printed);
        assertTrue(printed.contains("more than 300 s from now"), printed);
        assertTrue(printed.contains("2026-11-25T17:11:10.123Z firing GrokkingOnset run=ma-1 epoch 60 step 600 "
                + "confidence 0.51 - Run ma-1 has started to grok (epoch 60)"), printed);
        assertEquals(1, printed.lines().filter(l -> l.startsWith("(repeat, ignored)")).count(), printed);
        assertEquals(3, printed.lines().filter(l -> l.contains("GrokkingOnset")).count(), printed);

        // A new process on the same file still knows gw-1 and gw-2.
        Running again = start("--secret", "k", "--seen-ids", seen.toString(), "--exit-after", "1");
        long later = System.currentTimeMillis() / 1000;
        assertEquals(200, post(http, again.port(), "gw-1", later, WebhookSignature.sign(List.of("k"), "gw-1", later,
                BYTES)));
        assertEquals(200, post(http, again.port(), "gw-3", later, WebhookSignature.sign(List.of("k"), "gw-3", later,
                BYTES)));
        again.awaitExit();
        String second = again.out().toString();
        assertTrue(second.contains("2 ids remembered"), second);
        assertEquals(1, second.lines().filter(l -> l.startsWith("(repeat, ignored)")).count(), second);
    }

    @Test
    void aHalfSentRequestDoesNotHoldBackOthers() throws Exception {
        Running r = start("--seen-ids", dir.resolve("ids").toString(), "--read-timeout-ms", "30000",
                "--exit-after", "1");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        try (Socket slow = new Socket(InetAddress.getLoopbackAddress(), r.port())) {
            OutputStream o = slow.getOutputStream();
            o.write(("POST / HTTP/1.1\r\nContent-Length: " + BYTES.length + "\r\n\r\n{").getBytes(
                    StandardCharsets.US_ASCII));
            o.flush();
            long started = System.nanoTime();
            assertEquals(200, post(http, r.port(), "gw-9", 0, null), "unsigned: no secret given");
            assertTrue(System.nanoTime() - started < 5_000_000_000L, "answered while the slow one still sends");
        }
        r.awaitExit();
    }

    private static int post(HttpClient http, int port, String id, long timestamp, String signature)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(10)).header("webhook-id", id)
                .header("webhook-timestamp", Long.toString(timestamp))
                .POST(HttpRequest.BodyPublishers.ofByteArray(BYTES));
        if (signature != null) {
            b.header("webhook-signature", signature);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}

package io.grokwatch.notify;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The receiver's HTTP server on loopback, with real sockets: slow clients hold only themselves. */
class TimedHttpServerTest {
    private static final Duration READ_TIMEOUT = Duration.ofMillis(1500);

    private static TimedHttpServer echoServer(int threads) throws Exception {
        return new TimedHttpServer("127.0.0.1", 0, threads, READ_TIMEOUT, 1024,
                r -> new TimedHttpServer.Response(200, r.method() + " " + r.path() + " "
                        + new String(r.body(), StandardCharsets.UTF_8) + " id=" + r.header("Webhook-Id")));
    }

    private static HttpResponse<String> post(int port, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hook"))
                .timeout(Duration.ofSeconds(10)).header("webhook-id", "gw-1")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesOthersWhileOneClientHalfSendsAndCutsThatOneOffAtTheDeadline() throws Exception {
        try (TimedHttpServer server = echoServer(2);
             Socket headersOnly = new Socket(InetAddress.getLoopbackAddress(), server.port());
             Socket shortBody = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            long started = System.nanoTime();
            headersOnly.getOutputStream().write("POST /hook HTTP/1.1\r\nHost: x\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            shortBody.getOutputStream().write("POST /hook HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"a\""
                    .getBytes(StandardCharsets.US_ASCII));
            // Both workers may be held by the slow clients; a good request still gets through, within their deadline.
            HttpResponse<String> ok = post(server.port(), "{}");
            assertEquals(200, ok.statusCode());
            assertEquals("POST /hook {} id=gw-1", ok.body().strip());
            for (Socket slow : new Socket[] {headersOnly, shortBody}) {
                slow.setSoTimeout(10_000);
                String answer = new String(slow.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 408 "), answer);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            assertTrue(seconds >= READ_TIMEOUT.toMillis() / 1e3 - 0.1 && seconds < 8, "cut off after " + seconds
                    + " s");
        }
    }

    @Test
    void aTricklingClientIsCutOffAtTheOverallDeadline() throws Exception {
        try (TimedHttpServer server = echoServer(1);
             Socket trickle = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            OutputStream out = trickle.getOutputStream();
            InputStream in = trickle.getInputStream();
            long started = System.nanoTime();
            byte[] head = "POST /hook HTTP/1.1\r\nContent-Length: 10\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            try {
                for (byte b : head) {
                    out.write(b); // one byte every 200 ms: each read is quick, the whole request is not
                    out.flush();
                    Thread.sleep(200);
                }
            } catch (java.io.IOException e) {
                // The server closed the connection mid-way: what this test expects.
            }
            trickle.setSoTimeout(10_000);
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 408 "), answer);
            double seconds = (System.nanoTime() - started) / 1e9;
            assertTrue(seconds < head.length * 0.2, "cut off after " + seconds + " s, before the request was sent");
            assertEquals(200, post(server.port(), "{}").statusCode(), "the only worker is free again");
        }
    }

    @Test
    void refusesWhatItDoesNotServe() throws Exception {
        try (TimedHttpServer server = echoServer(1)) {
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/");
            assertEquals(405, http.send(HttpRequest.newBuilder(uri).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode());
            assertEquals(413, post(server.port(), "x".repeat(2000)).statusCode());
        }
    }

    @Test
    void constructorValidates() {
        TimedHttpServer.Handler h = r -> new TimedHttpServer.Response(200, "");
        for (Runnable bad : new Runnable[] {
                () -> create(-1, 1, READ_TIMEOUT, 10, h), () -> create(0, 0, READ_TIMEOUT, 10, h),
                () -> create(0, 1, Duration.ZERO, 10, h), () -> create(0, 1, READ_TIMEOUT, 0, h)}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    bad::run);
            assertTrue(e.getMessage().contains("allowed"), e.getMessage());
        }
    }

    private static void create(int port, int threads, Duration timeout, int maxBody, TimedHttpServer.Handler h) {
        try (TimedHttpServer s = new TimedHttpServer("127.0.0.1", port, threads, timeout, maxBody, h)) {
            s.port();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

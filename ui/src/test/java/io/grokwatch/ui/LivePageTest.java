package io.grokwatch.ui;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The page's endpoints, and how fast they answer with 100 runs of 50 checkpoints each. */
class LivePageTest {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** A GET as a browser makes it (gzip accepted), the body decompressed. */
    private Response get(LivePage page, String path) throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(page.url() + path))
                .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        byte[] body = r.body();
        if (r.headers().firstValue("Content-Encoding").orElse("").equals("gzip")) {
            try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(body))) {
                body = in.readAllBytes();
            }
        }
        return new Response(r.statusCode(), new String(body, java.nio.charset.StandardCharsets.UTF_8));
    }

    private record Response(int statusCode, String body) {
    }

    @Test
    void servesThePageTheRunListAndARunsFigures() throws Exception {
        RunStore store = Synthetic.store(2, 12);
        try (LivePage page = LivePage.start("127.0.0.1", 0, store)) {
            assertTrue(page.url().matches("http://127\\.0\\.0\\.1:\\d+/"), page.url());
            Response index = get(page, "");
            assertEquals(200, index.statusCode());
            assertTrue(index.body().contains("<tr data-run=\"run-001\""), index.body());
            JsonNode runs = Records.MAPPER.readTree(get(page, "api/runs").body());
            assertEquals(2, runs.get("runs").size());
            assertEquals("generalized", runs.get("runs").get(0).get("phase").asText());
            assertTrue(get(page, "figures?run=run-001&step=30").body().contains("<h3>At epoch 30</h3>"));
            assertEquals(12, Records.MAPPER.readTree(get(page, "api/run?run=run-001").body()).get("checkpoints").size());
            assertEquals(404, get(page, "figures?run=nope").statusCode());
            assertEquals(404, get(page, "nothing-here").statusCode());
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(page.url())).POST(
                    HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    @Test
    void aHundredRunsAnswerInMilliseconds() throws Exception {
        RunStore store = Synthetic.store(100, 50);
        try (LivePage page = LivePage.start("127.0.0.1", 0, store)) {
            for (int i = 0; i < 5; i++) { // warm up
                get(page, "");
                get(page, "api/runs");
            }
            double[] index = time(page, "", 20);
            double[] list = time(page, "api/runs", 20);
            double[] figures = time(page, "figures?run=run-050", 20);
            double[] drawn = new double[20]; // runs not viewed before: drawn, not cached
            for (int i = 0; i < drawn.length; i++) {
                long t0 = System.nanoTime();
                assertEquals(200, get(page, "figures?run=run-0" + (70 + i)).statusCode());
                drawn[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(drawn);
            System.out.printf("100 runs x 50 checkpoints: GET / median %.1f ms, /api/runs %.1f ms, /figures %.1f ms "
                    + "(%.1f ms for a run drawn afresh)%n", index[10], list[10], figures[10], drawn[10]);
            // Generous bounds: the machines that run the tests are shared; the figures are in docs/operations.md.
            assertTrue(index[10] < 2000 && list[10] < 1000 && drawn[10] < 2000, "too slow: / " + index[10]
                    + " ms, /api/runs " + list[10] + " ms, /figures drawn afresh " + drawn[10] + " ms");
            // Concurrent viewers are served side by side.
            CompletableFuture<?>[] all = new CompletableFuture<?>[16];
            for (int i = 0; i < all.length; i++) {
                all[i] = http.sendAsync(HttpRequest.newBuilder(URI.create(page.url() + "figures?run=run-0" + (10 + i)))
                        .build(), HttpResponse.BodyHandlers.ofString()).thenAccept(r -> assertEquals(200, r.statusCode()));
            }
            CompletableFuture.allOf(all).get();
        }
    }

    private double[] time(LivePage page, String path, int n) throws Exception {
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            assertEquals(200, get(page, path).statusCode());
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }
}

package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: {@code grokwatch demo --webhook-url ... --webhook-secret ...} trains a grokking run, the analyzer
 * raises its alerts from the spectrum, and a real HTTP receiver gets each one, signed, in the Alertmanager shape.
 */
class WebhookDemoIT {
    @TempDir
    Path dir;

    @Test
    void theDemoDeliversTheRunsRealAlertsSignedAndNarratesWhere() throws Exception {
        List<byte[]> bodies = new CopyOnWriteArrayList<>();
        Map<String, String> signatures = new ConcurrentHashMap<>();
        Map<String, String> timestamps = new ConcurrentHashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/alerts", ex -> {
            try (ex; InputStream in = ex.getRequestBody()) {
                byte[] body = in.readAllBytes();
                bodies.add(body);
                String id = ex.getRequestHeaders().getFirst("webhook-id");
                signatures.put(id, ex.getRequestHeaders().getFirst("webhook-signature"));
                timestamps.put(id, ex.getRequestHeaders().getFirst("webhook-timestamp"));
                ex.sendResponseHeaders(204, -1);
            }
        });
        server.start();
        String receiver = "127.0.0.1:" + server.getAddress().getPort();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        try {
            System.setOut(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
            code = Main.commandLine().execute("demo", "--exit-when-done", "--data-dir", dir.toString(),
                    "--metrics-port", "-1", "--epochs", "110", "--run-id", "hooked",
                    "--webhook-url", "http://" + receiver + "/alerts?token=t", "--webhook-secret", "demo-secret",
                    "--out", dir.resolve("records").resolve("hooked.jsonl").toString());
        } finally {
            System.setOut(original);
            server.stop(0);
        }
        String console = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, console);
        assertTrue(console.contains("alerts are POSTed to " + receiver + ", signed"), console);

        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("demo-secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        Set<String> types = new java.util.HashSet<>();
        for (byte[] body : bodies) {
            JsonNode p = JsonFiles.MAPPER.readTree(body);
            JsonNode a = p.get("alerts").get(0);
            String key = a.get("annotations").get("idempotencyKey").asText();
            mac.update((key + "." + timestamps.get(key) + ".").getBytes(StandardCharsets.UTF_8));
            assertEquals("v1," + java.util.Base64.getEncoder().encodeToString(mac.doFinal(body)), signatures.get(key),
                    "signature of " + key);
            assertEquals("hooked", a.get("labels").get("run").asText());
            assertEquals("4", p.get("version").asText());
            types.add(a.get("labels").get("type").asText());
            assertTrue(console.contains(">>> webhook: " + a.get("labels").get("type").asText() + " (epoch "
                    + a.get("annotations").get("epoch").asText() + ") delivered to " + receiver), console);
        }
        assertTrue(types.contains("grokking-onset") && types.contains("generalization"), "delivered: " + types);
        Set<String> keys = bodies.stream().map(b -> {
            try {
                return JsonFiles.MAPPER.readTree(b).get("alerts").get(0).get("annotations").get("idempotencyKey")
                        .asText();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }).collect(Collectors.toSet());
        long narrated = console.lines().filter(l -> l.startsWith(">>> ALERT ")).count();
        assertEquals(narrated, keys.size(), "every alert the demo narrated was delivered: " + console);

        // --out: every narrated spectrum and alert, as JSON lines, in the order they arrived.
        List<JsonNode> records = new java.util.ArrayList<>();
        for (String line : java.nio.file.Files.readAllLines(dir.resolve("records").resolve("hooked.jsonl"))) {
            records.add(JsonFiles.MAPPER.readTree(line));
        }
        List<JsonNode> spectra = records.stream().filter(r -> r.get("kind").asText().equals("spectrum")).toList();
        assertEquals(console.lines().filter(l -> l.startsWith("epoch ")).count(), spectra.size(), console);
        long previousEpoch = -1;
        for (JsonNode s : spectra) {
            assertEquals("hooked", s.get("runId").asText());
            assertTrue(s.get("epoch").asLong() > previousEpoch, s.toString());
            previousEpoch = s.get("epoch").asLong();
            assertTrue(s.get("timings").get("producedToResultSeconds").asDouble() >= 0, s.toString());
        }
        Set<String> logged = records.stream().filter(r -> r.get("kind").asText().equals("alert"))
                .map(r -> r.get("type").asText()).collect(Collectors.toSet());
        assertEquals(types, logged);

        // The latency picture of docs/benchmarks.md reads that file: one line through every spectrum of the run.
        Path script = Path.of("..", "docs", "plot_latency.py");
        Path svg = dir.resolve("latency.svg");
        Process python = new ProcessBuilder("python3", script.toString(), svg.toString(),
                "demo=" + dir.resolve("records").resolve("hooked.jsonl")).redirectErrorStream(true).start();
        String log = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, python.waitFor(), log);
        String drawn = java.nio.file.Files.readString(svg);
        java.util.regex.Matcher line = java.util.regex.Pattern.compile("<polyline [^>]*points=\"([^\"]*)\"")
                .matcher(drawn);
        assertTrue(line.find(), drawn);
        assertEquals(spectra.size(), line.group(1).trim().split(" ").length, drawn);
    }
}

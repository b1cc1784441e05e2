package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's {@code chromium}, headless, driven over the DevTools protocol (JSON over a WebSocket, with the JDK's
 * client): open a page, evaluate script in it, take a screenshot. For the browser tests of the live page and the
 * report.
 */
final class Chromium implements AutoCloseable {
    private final Process process;
    private final String devtools;
    private final Path profile;
    private final HttpClient http = HttpClient.newHttpClient();

    private Chromium(Process process, String devtools, Path profile) {
        this.process = process;
        this.devtools = devtools;
        this.profile = profile;
    }

    /** The browser on this machine's PATH, if any. */
    static Optional<Path> executable() {
        for (String name : new String[] {"chromium", "chromium-browser"}) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    static Chromium start(Path exe, Path work) throws IOException, InterruptedException {
        Path profile = Files.createDirectories(work.resolve("chromium-profile"));
        Process p = new ProcessBuilder(exe.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars", "--remote-debugging-port=0",
                "--remote-allow-origins=*", "--user-data-dir=" + profile, "--window-size=1280,1600", "about:blank")
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        StringBuilder log = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null) {
            log.append(line).append('\n');
            int at = line.indexOf("DevTools listening on ws://");
            if (at >= 0) {
                URI ws = URI.create(line.substring(at + "DevTools listening on ".length()).trim());
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe empty
                        }
                    } catch (IOException ignored) {
                        // the browser is gone
                    }
                }, "chromium-output");
                drain.setDaemon(true);
                drain.start();
                return new Chromium(p, "http://" + ws.getHost() + ":" + ws.getPort(), profile);
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("chromium did not start its DevTools endpoint:\n" + log);
    }

    /** A new tab at {@code url}. */
    Page open(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(devtools + "/json/new?"
                + URLEncoder.encode(url, StandardCharsets.UTF_8))).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode target = JsonFiles.MAPPER.readTree(r.body());
        Page page = new Page(http, target.get("webSocketDebuggerUrl").asText());
        page.call("Page.enable", JsonFiles.object());
        page.call("Runtime.enable", JsonFiles.object());
        return page;
    }

    @Override
    public void close() throws IOException {
        // Chromium's helper processes (network service, renderers) write into the profile too: end them all first.
        java.util.List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            for (ProcessHandle child : children) {
                child.onExit().get(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            children.forEach(ProcessHandle::destroyForcibly);
        }
        // A file a dying helper renamed under the walk is not an error: try again, then leave the rest to @TempDir.
        for (int attempt = 0; attempt < 5; attempt++) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                return;
            } catch (java.io.UncheckedIOException | IOException e) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** One tab: commands by id, their replies matched as they come; events are ignored. */
    static final class Page implements WebSocket.Listener, AutoCloseable {
        private final WebSocket socket;
        private final AtomicInteger ids = new AtomicInteger();
        private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
        private final StringBuilder partial = new StringBuilder();

        Page(HttpClient http, String ws) throws Exception {
            socket = http.newWebSocketBuilder().buildAsync(URI.create(ws), this).get(30, TimeUnit.SECONDS);
        }

        JsonNode call(String method, ObjectNode params) throws Exception {
            int id = ids.incrementAndGet();
            CompletableFuture<JsonNode> reply = new CompletableFuture<>();
            pending.put(id, reply);
            ObjectNode msg = JsonFiles.object().put("id", id).put("method", method);
            msg.set("params", params);
            socket.sendText(JsonFiles.MAPPER.writeValueAsString(msg), true).get(30, TimeUnit.SECONDS);
            JsonNode r = reply.get(60, TimeUnit.SECONDS);
            if (r.has("error")) {
                throw new IllegalStateException(method + ": " + r.get("error"));
            }
            return r.get("result");
        }

        /** The value of a script expression (awaited if it is a promise). */
        JsonNode eval(String expression) throws Exception {
            JsonNode r = call("Runtime.evaluate", JsonFiles.object().put("expression", expression)
                    .put("returnByValue", true).put("awaitPromise", true));
            if (r.has("exceptionDetails")) {
                throw new IllegalStateException(expression + ": " + r.get("exceptionDetails"));
            }
            return r.path("result").path("value");
        }

        /** Waits until {@code expression} is true in the page, or fails with what {@code describe} says then. */
        void waitFor(String expression, Duration timeout, String describe) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!eval("!!(" + expression + ")").asBoolean()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("not true within " + timeout.toSeconds() + " s: " + expression
                            + "; " + eval(describe));
                }
                Thread.sleep(250);
            }
        }

        void navigate(String url) throws Exception {
            call("Page.navigate", JsonFiles.object().put("url", url));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!eval("document.readyState === 'complete' && location.href !== 'about:blank'").asBoolean()) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("page did not load: " + url);
                }
                Thread.sleep(50);
            }
        }

        /** A PNG of the whole page at the given width. */
        void screenshot(Path file, int width) throws Exception {
            int height = eval("Math.ceil(document.documentElement.scrollHeight)").asInt();
            call("Emulation.setDeviceMetricsOverride", JsonFiles.object().put("width", width)
                    .put("height", Math.min(height, 8000)).put("deviceScaleFactor", 1).put("mobile", false));
            JsonNode shot = call("Page.captureScreenshot", JsonFiles.object().put("format", "png"));
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(file, Base64.getDecoder().decode(shot.get("data").asText()));
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode msg = JsonFiles.MAPPER.readTree(partial.toString());
                    if (msg.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asInt());
                        if (f != null) {
                            f.complete(msg);
                        }
                    }
                } catch (IOException e) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        @Override
        public void close() {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
    }
}

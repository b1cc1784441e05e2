package io.grokwatch.ui;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live page's HTTP server (the JDK's): {@code /} the page, {@code /api/runs} the run list as JSON,
 * {@code /api/run?run=ID} one run's series as JSON, {@code /figures?run=ID[&step=S]} a run's figures (the fragment
 * the page swaps in), {@code /report?run=ID} a run's report, {@code /healthz}. Requests are served concurrently by a
 * few threads of its own; it owns them and stops them on {@link #close()}.
 */
public final class LivePage implements AutoCloseable {
    /** Threads serving requests. Rendering a run's figures takes milliseconds; a few threads serve many viewers. */
    static final int THREADS = 4;
    /** Requests waiting beyond this are refused (503) rather than queued without bound. */
    static final int QUEUE = 256;
    /** Seconds a request may take to arrive, and a response to be taken (the JDK server's own timers). */
    static final String TIMEOUT_SECONDS = "30";

    static {
        // JVM-wide settings of com.sun.net.httpserver, read when its first server starts; kept if already set.
        System.setProperty("sun.net.httpserver.maxReqTime",
                System.getProperty("sun.net.httpserver.maxReqTime", TIMEOUT_SECONDS));
        System.setProperty("sun.net.httpserver.maxRspTime",
                System.getProperty("sun.net.httpserver.maxRspTime", TIMEOUT_SECONDS));
        // Headers and body leave in separate writes; without TCP_NODELAY the second waits for the client's delayed
        // acknowledgement (about 40 ms a response).
        System.setProperty("sun.net.httpserver.nodelay", System.getProperty("sun.net.httpserver.nodelay", "true"));
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final String host;

    private LivePage(HttpServer server, ExecutorService executor, String host) {
        this.server = server;
        this.executor = executor;
        this.host = host;
    }

    /** Ensures the settings above are made before any HTTP server of the process starts. */
    public static void configureTimeouts() {
        // The static initialiser has run by now.
    }

    /**
     * @param host address to bind ({@code 127.0.0.1} keeps the page on this machine)
     * @param port port (0 = any free port)
     */
    public static LivePage start(String host, int port, RunStore store) {
        HttpServer s;
        try {
            s = HttpServer.create(new InetSocketAddress(host, port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + " for the live page: "
                    + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "grokwatch-ui-http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, (r, pool) -> {
                    throw new java.util.concurrent.RejectedExecutionException("live page busy");
                });
        executor.allowCoreThreadTimeOut(true);
        s.setExecutor(executor);
        FigureCache cache = new FigureCache();
        s.createContext("/", ex -> handle(ex, () -> {
            String path = ex.getRequestURI().getPath();
            Map<String, String> q = query(ex.getRequestURI());
            return switch (path) {
                case "/", "/index.html" -> html(Pages.live(store, q.get("run"), step(q),
                        run -> cache.figures(run, step(q))));
                case "/api/runs" -> json(new RunList(store.version(), store.rows()));
                case "/api/run" -> store.run(q.get("run")).map(r -> json((Object) r)).orElse(notFound("no run "
                        + q.get("run")));
                case "/figures" -> store.run(q.get("run")).map(r -> html(cache.figures(r, step(q))))
                        .orElse(notFound("no run " + q.get("run")));
                case "/report" -> store.run(q.get("run")).map(r -> html(Pages.report(List.of(r), "the live page")))
                        .orElse(notFound("no run " + q.get("run")));
                case "/healthz" -> new Reply(200, "text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8));
                default -> notFound("no page " + path);
            };
        }));
        s.start();
        return new LivePage(s, executor, host);
    }

    /**
     * The figures of the runs viewed lately, per run, checkpoint and run version: every viewer of a run that has not
     * changed gets the same HTML, drawn once.
     */
    static final class FigureCache {
        static final int ENTRIES = 64;
        private record Key(String runId, Long step) {
        }
        private record Entry(long version, String html) {
        }
        private final Map<Key, Entry> entries = new java.util.LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
                return size() > ENTRIES;
            }
        };

        String figures(RunStore.RunSnapshot run, Long step) {
            Key key = new Key(run.runId(), step);
            synchronized (entries) {
                Entry e = entries.get(key);
                if (e != null && e.version == run.version()) {
                    return e.html;
                }
            }
            String html = Figures.run(run, "live", step, Figures.Checkpoints.LAST, true);
            synchronized (entries) {
                entries.put(key, new Entry(run.version(), html));
            }
            return html;
        }
    }

    /** The run list as {@code /api/runs} serves it. */
    public record RunList(long version, List<RunStore.RunRow> runs) {
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The page's address, e.g. {@code http://127.0.0.1:9466/}. */
    public String url() {
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        return "http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + port() + "/";
    }

    private record Reply(int status, String type, byte[] body) {
    }

    private interface Handler {
        Reply reply() throws IOException;
    }

    private static void handle(HttpExchange ex, Handler h) throws IOException {
        try (ex) {
            Reply r;
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                r = new Reply(405, "text/plain; charset=utf-8", "GET only\n".getBytes(StandardCharsets.UTF_8));
            } else {
                try {
                    r = h.reply();
                } catch (RuntimeException e) {
                    r = new Reply(500, "text/plain; charset=utf-8", ("error: " + e.getMessage() + "\n")
                            .getBytes(StandardCharsets.UTF_8));
                }
            }
            byte[] body = r.body;
            String accepts = ex.getRequestHeaders().getFirst("Accept-Encoding");
            if (body.length > 1024 && accepts != null && accepts.contains("gzip")) {
                // Figures are SVG text, a tenth of the size compressed.
                java.io.ByteArrayOutputStream packed = new java.io.ByteArrayOutputStream(body.length / 6);
                try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(packed, 8192)) {
                    gz.write(body);
                }
                body = packed.toByteArray();
                ex.getResponseHeaders().set("Content-Encoding", "gzip");
            }
            ex.getResponseHeaders().set("Content-Type", r.type);
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.getResponseHeaders().set("Vary", "Accept-Encoding");
            ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(r.status, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    private static Reply html(String page) {
        return new Reply(200, "text/html; charset=utf-8", page.getBytes(StandardCharsets.UTF_8));
    }

    private static Reply json(Object value) {
        try {
            return new Reply(200, "application/json", Records.MAPPER.writeValueAsBytes(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Reply notFound(String message) {
        return new Reply(404, "text/plain; charset=utf-8", (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static Long step(Map<String, String> q) {
        String s = q.get("step");
        if (s == null || s.isEmpty()) {
            return null;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static Map<String, String> query(URI uri) {
        Map<String, String> q = new HashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null) {
            return q;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            q.putIfAbsent(k, v);
        }
        return q;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}

package io.grokwatch.observability;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** {@code GET /metrics} (Prometheus text format), {@code /healthz} and {@code /readyz} on one port. */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * @param port  port to listen on (0 = any free port)
     * @param scrape the metrics text
     * @param ready whether the service is ready (503 otherwise)
     */
    public static MetricsServer start(String host, int port, Supplier<String> scrape, BooleanSupplier ready) {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress(host, port), 0);
            s.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", scrape.get()));
            s.createContext("/healthz", ex -> reply(ex, 200, "text/plain", "ok\n"));
            s.createContext("/readyz", ex -> {
                boolean r = ready.getAsBoolean();
                reply(ex, r ? 200 : 503, "text/plain", r ? "ready\n" : "not ready\n");
            });
            s.setExecutor(null);
            s.start();
            return new MetricsServer(s);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + " for metrics: " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

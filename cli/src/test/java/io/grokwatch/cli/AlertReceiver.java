package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A webhook receiver on a fixed loopback port that can be taken down (connections refused) and brought up again:
 * it counts every delivery per {@code webhook-id} and keeps each alert once, as run/type/step
 * ({@link CommittedOutput#alertId}), as a receiver that drops repeated ids would.
 */
final class AlertReceiver implements AutoCloseable {
    private final int port;
    private final Map<String, Integer> deliveries = new ConcurrentHashMap<>();
    private final Set<String> alerts = ConcurrentHashMap.newKeySet();
    private HttpServer server;

    AlertReceiver() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            this.port = s.getLocalPort();
        }
    }

    String url() {
        return "http://127.0.0.1:" + port + "/alerts";
    }

    synchronized void up() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/alerts", ex -> {
            try (ex; InputStream in = ex.getRequestBody()) {
                JsonNode alert = JsonFiles.MAPPER.readTree(in.readAllBytes()).get("alerts").get(0);
                String id = ex.getRequestHeaders().getFirst("webhook-id");
                if (deliveries.merge(id, 1, Integer::sum) == 1) {
                    alerts.add(CommittedOutput.alertId(alert.get("labels").get("run").asText(),
                            alert.get("labels").get("type").asText(),
                            alert.get("annotations").get("step").asLong(),
                            "resolved".equals(alert.path("status").asText())));
                }
                ex.sendResponseHeaders(204, -1);
            } catch (IOException | RuntimeException e) {
                ex.sendResponseHeaders(400, -1);
                throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
            }
        });
        server.start();
    }

    synchronized void down() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** The alerts accepted, once each. */
    Set<String> alerts() {
        return Set.copyOf(alerts);
    }

    /** Deliveries of an id already accepted: the at-least-once repeats a receiver drops. */
    int repeats() {
        return deliveries.values().stream().mapToInt(n -> n - 1).sum();
    }

    @Override
    public void close() {
        down();
    }
}

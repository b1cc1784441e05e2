package io.grokwatch.observability;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} (Prometheus text format), {@code /healthz} and {@code /readyz} on one port.
 *
 * <p>Each connection is served on a thread of its own, up to {@link #MAX_CONNECTIONS} at once, with a deadline for
 * its request to arrive: the JDK's HTTP server this replaced served one connection at a time, so one client that sent
 * half a request blocked {@code /healthz} for two minutes. A connection whose request is not complete within the read
 * timeout gets 408 and is closed; one beyond {@link #MAX_CONNECTIONS} is closed at once rather than queued behind
 * slow ones. Each response closes its connection (the bodies are small; Prometheus reconnects per scrape at no
 * visible cost).
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);
    /** How long a client may take to send its request line and headers, by default. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(5);
    /** Connections served at once (a scrape takes milliseconds; idle threads end after a minute). */
    static final int MAX_CONNECTIONS = 64;
    /** Longest request head read; these endpoints take no body. */
    static final int MAX_REQUEST_HEAD_BYTES = 16 * 1024;
    private static final String TEXT = "text/plain; charset=utf-8";

    private final ServerSocket socket;
    private final ThreadPoolExecutor workers;
    private final Thread acceptor;
    private final Supplier<String> scrape;
    private final Supplier<Health> live;
    private final Supplier<Health> ready;
    private final int readTimeoutMs;
    /** Connections being served, closed by {@link #close()} so that no worker waits out its read timeout. */
    private final java.util.Set<Socket> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private MetricsServer(ServerSocket socket, Supplier<String> scrape, Supplier<Health> live, Supplier<Health> ready,
                          Duration readTimeout) {
        this.socket = socket;
        this.scrape = scrape;
        this.live = live;
        this.ready = ready;
        this.readTimeoutMs = (int) readTimeout.toMillis();
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "metrics-http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.acceptor = new Thread(this::accept, "metrics-http-accept");
        acceptor.setDaemon(true);
    }

    /**
     * With {@code /healthz} always healthy (a process that can answer is alive), e.g. for the trainer.
     *
     * @param host  address to listen on (127.0.0.1 for this machine only, 0.0.0.0 for every interface)
     * @param port  port to listen on (0 = any free port)
     * @param scrape the metrics text
     * @param ready whether the service is ready (503 otherwise)
     */
    public static MetricsServer start(String host, int port, Supplier<String> scrape, BooleanSupplier ready) {
        return start(host, port, scrape, () -> Health.ok("ok"),
                () -> ready.getAsBoolean() ? Health.ok("ready") : Health.failing("not ready"), DEFAULT_READ_TIMEOUT);
    }

    /**
     * @param live        {@code /healthz}: 200 when healthy, 503 otherwise, the detail as the body
     * @param ready       {@code /readyz}: likewise
     * @param readTimeout how long a connection may take to send its request
     */
    public static MetricsServer start(String host, int port, Supplier<String> scrape, Supplier<Health> live,
                                      Supplier<Health> ready, Duration readTimeout) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(scrape, "scrape");
        Objects.requireNonNull(live, "live");
        Objects.requireNonNull(ready, "ready");
        if (readTimeout == null || readTimeout.isNegative() || readTimeout.isZero()
                || readTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("read timeout must be positive and at most " + Integer.MAX_VALUE
                    + " ms, got " + readTimeout);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        }
        ServerSocket s = null;
        try {
            s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(host), port), 50);
        } catch (IOException e) {
            closeQuietly(s);
            throw new UncheckedIOException("cannot listen on " + host + ":" + port + " for metrics: " + e.getMessage(), e);
        }
        MetricsServer server = new MetricsServer(s, scrape, live, ready, readTimeout);
        server.acceptor.start();
        return server;
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** The address it listens on, as given (e.g. 127.0.0.1). */
    public String host() {
        return socket.getInetAddress().getHostAddress();
    }

    private void accept() {
        while (!socket.isClosed()) {
            Socket c;
            try {
                c = socket.accept();
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    LOG.warn("metrics endpoint: accept failed: {}", e.toString());
                }
                continue;
            }
            try {
                workers.execute(() -> serve(c));
            } catch (RejectedExecutionException e) {
                closeQuietly(c); // MAX_CONNECTIONS busy: the client retries
            }
        }
    }

    private void serve(Socket c) {
        open.add(c);
        try (c) {
            c.setSoTimeout(readTimeoutMs);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(readTimeoutMs);
            String head;
            try {
                head = readHead(c, deadline);
            } catch (SocketTimeoutException e) {
                respond(c.getOutputStream(), 408, "Request Timeout", "request not received within " + readTimeoutMs
                        + " ms\n", false);
                return;
            }
            if (head == null) {
                return;
            }
            String[] requestLine = head.split("\r?\n", 2)[0].split(" ");
            if (requestLine.length < 2) {
                respond(c.getOutputStream(), 400, "Bad Request", "bad request line\n", false);
                return;
            }
            boolean headOnly = requestLine[0].equals("HEAD");
            if (!headOnly && !requestLine[0].equals("GET")) {
                respond(c.getOutputStream(), 405, "Method Not Allowed", "GET only\n", false);
                return;
            }
            String path = requestLine[1];
            int q = path.indexOf('?');
            path = q < 0 ? path : path.substring(0, q);
            route(c.getOutputStream(), path, headOnly);
        } catch (IOException e) {
            LOG.debug("metrics endpoint: connection ended: {}", e.toString());
        } finally {
            open.remove(c);
        }
    }

    private void route(OutputStream out, String path, boolean headOnly) throws IOException {
        switch (path) {
            case "/metrics" -> {
                String body;
                try {
                    body = scrape.get();
                } catch (RuntimeException e) {
                    respond(out, 500, "Internal Server Error", "scrape failed: " + e + "\n", headOnly);
                    return;
                }
                respond(out, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, headOnly);
            }
            case "/healthz" -> health(out, live, headOnly);
            case "/readyz" -> health(out, ready, headOnly);
            default -> respond(out, 404, "Not Found", "/metrics, /healthz or /readyz\n", headOnly);
        }
    }

    private static void health(OutputStream out, Supplier<Health> check, boolean headOnly) throws IOException {
        Health h;
        try {
            h = check.get();
        } catch (RuntimeException e) {
            h = Health.failing("check failed: " + e);
        }
        respond(out, h.ok() ? 200 : 503, h.ok() ? "OK" : "Service Unavailable", h.detail() + "\n", headOnly);
    }

    /**
     * The request line and headers, or null when the client closed first.
     *
     * @throws SocketTimeoutException when they did not all arrive by {@code deadline}
     */
    private static String readHead(Socket c, long deadline) throws IOException {
        InputStream in = c.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new SocketTimeoutException("request head not complete in time");
            }
            // Per read, the time left: a client trickling a byte at a time still meets the one deadline.
            c.setSoTimeout((int) Math.max(1, left));
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            if (head.size() > MAX_REQUEST_HEAD_BYTES) {
                throw new IOException("request head over " + MAX_REQUEST_HEAD_BYTES + " bytes");
            }
            // The head ends at an empty line: CRLF CRLF (or bare LF LF).
            if (b == '\n') {
                matched++;
                if (matched == 2) {
                    return head.toString(StandardCharsets.ISO_8859_1);
                }
            } else if (b != '\r') {
                matched = 0;
            }
        }
    }

    private static void respond(OutputStream out, int status, String reason, String body, boolean headOnly)
            throws IOException {
        respond(out, status, reason, TEXT, body, headOnly);
    }

    private static void respond(OutputStream out, int status, String reason, String type, String body,
                                boolean headOnly) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + type + "\r\nContent-Length: "
                + bytes.length + "\r\nConnection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        if (!headOnly) {
            out.write(bytes);
        }
        out.flush();
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        closeQuietly(socket);
        workers.shutdownNow();
        open.forEach(MetricsServer::closeQuietly);
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(5));
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

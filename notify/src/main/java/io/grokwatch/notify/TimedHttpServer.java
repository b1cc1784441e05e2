package io.grokwatch.notify;

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
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP/1.1 server for webhook POSTs: one request per connection, a body with {@code Content-Length} up to a
 * limit, and a deadline on reading each request, so a client that sends slowly or not at all holds one of
 * {@code threads} workers for at most that long and never the others. The JDK's own server cannot bound the time a
 * handler spends reading a body; this one reads it before the handler runs.
 */
public final class TimedHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TimedHttpServer.class);
    private static final int MAX_HEADER_BYTES = 16 * 1024;

    /** A request as read: method, path, headers by lower-case name (the last of repeats), body. */
    public record Request(String method, String path, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** What to answer: a status and a short plain-text body. */
    public record Response(int status, String text) {
    }

    /** Answers one request; runs on a worker thread, concurrently with others. */
    @FunctionalInterface
    public interface Handler {
        Response handle(Request request);
    }

    private final ServerSocket socket;
    private final ExecutorService workers;
    private final Thread acceptor;
    private final Handler handler;
    private final Duration readTimeout;
    private final int maxBodyBytes;
    private volatile boolean closed;

    /**
     * Binds {@code host:port} (0 = a free port) and starts accepting.
     *
     * @param threads      requests served at once (1..256)
     * @param readTimeout  the most a request may take to arrive, headers and body (&gt; 0)
     * @param maxBodyBytes larger bodies are answered 413 (1..64 MiB)
     */
    public TimedHttpServer(String host, int port, int threads, Duration readTimeout, int maxBodyBytes,
            Handler handler) throws IOException {
        Objects.requireNonNull(host, "host");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.readTimeout = Objects.requireNonNull(readTimeout, "readTimeout");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port: " + port + " is not allowed; allowed: 0 (a free port) to 65535");
        }
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads: " + threads + " is not allowed; allowed: 1..256");
        }
        if (readTimeout.isZero() || readTimeout.isNegative()) {
            throw new IllegalArgumentException("read timeout: " + readTimeout + " is not allowed; allowed: > 0");
        }
        if (maxBodyBytes < 1 || maxBodyBytes > 64 * 1024 * 1024) {
            throw new IllegalArgumentException("max body: " + maxBodyBytes + " is not allowed; allowed: 1..64 MiB");
        }
        this.maxBodyBytes = maxBodyBytes;
        this.socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getByName(host), port), 64);
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "webhook-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.acceptor = new Thread(this::accept, "webhook-http-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = socket.accept();
            } catch (IOException e) {
                if (!closed) {
                    // E.g. out of file descriptors: pause rather than spin on the same error.
                    LOG.warn("webhook server: accept failed: {}", e.toString());
                    pause();
                }
                continue;
            }
            try {
                workers.execute(() -> serve(client));
            } catch (RejectedExecutionException e) {
                closeQuietly(client);
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void serve(Socket client) {
        try (client) {
            long deadline = System.nanoTime() + readTimeout.toNanos();
            client.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, readTimeout.toMillis())));
            InputStream in = client.getInputStream();
            Response response;
            try {
                response = read(in, client.getOutputStream(), deadline);
            } catch (SocketTimeoutException e) {
                // Too slow: answer 408 if it still listens, and free the worker.
                response = new Response(408, "request not received within " + readTimeout.toMillis() + " ms");
            }
            write(client.getOutputStream(), response);
        } catch (SocketException e) {
            LOG.debug("webhook server: client went away: {}", e.toString());
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("webhook server: {}", e.toString());
        } catch (RuntimeException e) {
            LOG.warn("webhook server: handler failed: {}", e.toString(), e);
        }
    }

    /** Reads one request and hands it to the handler; an error response if it is not one we serve. */
    private Response read(InputStream in, OutputStream out, long deadline) throws IOException {
        String head = readHead(in, deadline);
        if (head == null) {
            return new Response(400, "request headers too large or incomplete");
        }
        String[] lines = head.split("\r\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            return new Response(400, "not an HTTP/1.x request line");
        }
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).strip());
            }
        }
        if (!requestLine[0].equals("POST")) {
            return new Response(405, "only POST is served");
        }
        if (headers.containsKey("transfer-encoding")) {
            return new Response(411, "send the body with Content-Length");
        }
        long length;
        try {
            length = Long.parseLong(headers.getOrDefault("content-length", "0"));
        } catch (NumberFormatException e) {
            return new Response(400, "Content-Length is not a number");
        }
        if (length < 0 || length > maxBodyBytes) {
            return new Response(413, "body over " + maxBodyBytes + " bytes");
        }
        if ("100-continue".equalsIgnoreCase(headers.get("expect"))) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        byte[] body = new byte[(int) length];
        int got = 0;
        while (got < body.length) {
            checkDeadline(deadline);
            int r = in.read(body, got, body.length - got);
            if (r < 0) {
                return new Response(400, "body shorter than its Content-Length");
            }
            got += r;
        }
        return handler.handle(new Request(requestLine[0], requestLine[1], Map.copyOf(headers), body));
    }

    /** The request line and headers up to the blank line, or null if they do not fit or the stream ends. */
    private static String readHead(InputStream in, long deadline) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (head.size() < MAX_HEADER_BYTES) {
            checkDeadline(deadline);
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : b == '\r' ? 1 : 0;
            if (matched == end.length) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    /** A client trickling bytes resets the socket timeout on each read; the overall deadline still holds. */
    private static void checkDeadline(long deadline) throws SocketTimeoutException {
        if (System.nanoTime() - deadline > 0) {
            throw new SocketTimeoutException("request deadline passed");
        }
    }

    private static void write(OutputStream out, Response r) throws IOException {
        byte[] text = (r.text() + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + r.status() + " " + reason(r.status()) + "\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: " + text.length + "\r\n"
                + "Connection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(text);
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            default -> "Status";
        };
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // Nothing to do: the client is dropped either way.
        }
    }

    /** Stops accepting, then waits up to 5 s for requests being served. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            LOG.debug("webhook server: closing its socket: {}", e.toString());
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            workers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}

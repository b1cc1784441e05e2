package io.grokwatch.kafka.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.grokwatch.kafka.Directories;
import io.grokwatch.kafka.InProcessBroker;
import io.grokwatch.kafka.TopicAdmin;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker and controller) inside this JVM, for the demo and
 * for integration tests: no Docker and no separate process to leak. It owns its server threads and,
 * when it created it, its data directory; {@link #close()} stops the threads and deletes only what it
 * created. Given the same data directory again it restarts with the same cluster and topics, on new
 * ports.
 *
 * <p>Not for production: one replica, small cleaner buffer, no security. This module is the only one that carries the
 * broker; the services depend on Kafka's clients and Streams alone, and find this class through
 * {@link InProcessBroker#factory()} (see {@link Factory}) where the launcher or a test put it on the classpath.
 */
public final class EmbeddedKafka implements InProcessBroker {

    /** What {@link InProcessBroker#factory()} finds: {@link #start(Path)}. */
    public static final class Factory implements InProcessBroker.Factory {
        @Override
        public InProcessBroker start(Path dataDir) {
            return EmbeddedKafka.start(dataDir);
        }

        @Override
        public InProcessBroker start(Path dataDir, int port) {
            return EmbeddedKafka.start(dataDir, port);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** How long {@link #start} waits for the broker to answer an admin client. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final String BROKER_LISTENER = "PLAINTEXT";
    private static final String HOST = "127.0.0.1";
    private static final String LOG_SUBDIR = "kraft-logs";

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final String bootstrapServers;
    private boolean closed;

    private EmbeddedKafka(KafkaRaftServer server, Path dataDir, boolean ownsDataDir, String bootstrapServers) {
        this.server = server;
        this.dataDir = dataDir;
        this.ownsDataDir = ownsDataDir;
        this.bootstrapServers = bootstrapServers;
    }

    /** Starts on a fresh temporary directory, deleted again by {@link #close()}. */
    public static EmbeddedKafka start() {
        Path dir;
        try {
            dir = Files.createTempDirectory("grokwatch-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary Kafka data directory", e);
        }
        return start(dir, true);
    }

    /**
     * Starts on {@code dataDir} (created if missing, formatted if it holds no Kafka storage yet). The
     * directory is the caller's: it is kept on {@link #close()}, so a later start resumes its data.
     *
     * @throws IllegalStateException if the broker does not start or answer within {@link #START_TIMEOUT}
     * @throws InterruptException if interrupted while waiting (the interrupt flag is set again)
     */
    public static EmbeddedKafka start(Path dataDir) {
        Objects.requireNonNull(dataDir, "dataDir");
        return start(dataDir, false, 0);
    }

    /**
     * {@link #start(Path)} with the broker listener on {@code port} of 127.0.0.1 (0 = a free one); the controller
     * listener always takes a free port.
     *
     * @throws IllegalArgumentException if the port is outside 0..65535
     */
    public static EmbeddedKafka start(Path dataDir, int port) {
        Objects.requireNonNull(dataDir, "dataDir");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port: " + port + " is not allowed; allowed: 0 (a free port) to 65535");
        }
        return start(dataDir, false, port);
    }

    private static EmbeddedKafka start(Path dataDir, boolean ownsDataDir) {
        return start(dataDir, ownsDataDir, 0);
    }

    private static EmbeddedKafka start(Path dataDir, boolean ownsDataDir, int port) {
        long t0 = System.nanoTime();
        KafkaRaftServer server = null;
        try {
            Path logDir = dataDir.resolve(LOG_SUBDIR);
            Files.createDirectories(logDir);
            int[] ports = freePorts(2);
            int brokerPort = port == 0 ? ports[0] : port;
            int controllerPort = ports[1] == brokerPort ? ports[0] : ports[1];
            Map<String, Object> props = brokerProperties(logDir, brokerPort, controllerPort);
            formatIfNeeded(logDir);
            server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
            server.startup();
            String bootstrap = HOST + ":" + brokerPort;
            awaitClients(bootstrap);
            LOG.info("Kafka started at {} in {} ms (data {})", bootstrap,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), dataDir);
            return new EmbeddedKafka(server, dataDir, ownsDataDir, bootstrap);
        } catch (IOException | RuntimeException e) {
            // Stop with the interrupt flag clear so the shutdown's own waits are not cut short.
            boolean interrupted = Thread.interrupted();
            try {
                stop(server);
                if (ownsDataDir) {
                    deleteQuietly(dataDir);
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (interrupted && !(e instanceof InterruptException)) {
                // Interrupted anywhere (formatting's NIO channels, startup): report it as such.
                InterruptException ie = new InterruptException("interrupted while starting Kafka in " + dataDir);
                ie.addSuppressed(e);
                throw ie;
            }
            if (e instanceof IOException io) {
                throw new UncheckedIOException("cannot start Kafka in " + dataDir + ": " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    @Override
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The data directory (a temporary one when started with {@link #start()}). */
    @Override
    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the broker down and waits for its threads; deletes the data directory if it made it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long t0 = System.nanoTime();
        stop(server);
        if (ownsDataDir) {
            deleteQuietly(dataDir);
        }
        LOG.info("Kafka at {} stopped in {} ms", bootstrapServers,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }

    private static Map<String, Object> brokerProperties(Path logDir, int brokerPort, int controllerPort) {
        Map<String, Object> p = new HashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.put("listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort + ","
                + CONTROLLER_LISTENER + "://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", BROKER_LISTENER + "://" + HOST + ":" + brokerPort);
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", BROKER_LISTENER);
        p.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        // One broker: internal topics must not ask for more replicas than exist (Streams never reaches
        // RUNNING without the offsets one; initTransactions times out without the transaction one).
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // The default 128 MB dedupe buffer would dominate the heap of a test JVM.
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
        // Streams' changelog/repartition topics get the broker default; let them carry a checkpoint.
        p.put("message.max.bytes", Integer.toString(TopicAdmin.MAX_CHECKPOINT_BYTES));
        // Topics come from TopicAdmin with their configs; an auto-created one would have 1 MiB limits.
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        return p;
    }

    private static void formatIfNeeded(Path logDir) {
        if (Files.exists(logDir.resolve("meta.properties"))) {
            return;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            new Formatter()
                    .setPrintStream(print)
                    .setNodeId(NODE_ID)
                    .setClusterId(Uuid.randomUuid().toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .setIgnoreFormatted(true)
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka storage in " + logDir + ": " + e.getMessage(), e);
        }
        LOG.debug("formatted {}: {}", logDir, out.toString(StandardCharsets.UTF_8).strip());
    }

    private static void awaitClients(String bootstrap) {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "grokwatch-embedded-kafka-probe");
        try (Admin admin = Admin.create(props)) {
            while (true) {
                long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (remainingMs <= 0) {
                    throw new IllegalStateException("Kafka at " + bootstrap + " did not answer within "
                            + START_TIMEOUT.toSeconds() + " s");
                }
                int attemptMs = (int) Math.min(remainingMs, 5_000);
                try {
                    if (!admin.describeCluster(new DescribeClusterOptions().timeoutMs(attemptMs))
                            .nodes().get(attemptMs, TimeUnit.MILLISECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    LOG.debug("Kafka at {} not ready yet: {}", bootstrap, e.toString());
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            // InterruptException sets the thread's interrupt flag again.
            throw new InterruptException("interrupted while waiting for Kafka at " + bootstrap, e);
        }
    }

    private static void stop(KafkaRaftServer server) {
        if (server == null) {
            return;
        }
        server.shutdown();
        server.awaitShutdown();
    }

    /** Binds all sockets at once so the ports differ, then releases them for the broker. */
    private static int[] freePorts(int n) throws IOException {
        ServerSocket[] sockets = new ServerSocket[n];
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket();
                sockets[i].setReuseAddress(true);
                sockets[i].bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                if (socket != null) {
                    socket.close();
                }
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Directories.deleteRecursively(dir);
        } catch (java.io.UncheckedIOException e) {
            LOG.warn("could not delete Kafka data directory {}: {}", dir, e.getCause().toString());
        }
    }
}

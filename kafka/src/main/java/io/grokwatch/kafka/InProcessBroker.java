package io.grokwatch.kafka;

import java.nio.file.Path;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A Kafka broker running inside this JVM, for {@code grokwatch demo} and for tests. The services never start one, and
 * their classpath (the container images') carries Kafka's clients and Streams only: the broker and its implementation
 * are in {@code grokwatch-kafka-embedded}, which only the launcher's classpath and the tests' hold. {@link #factory()}
 * finds it there, so that code which may start a broker compiles without it.
 */
public interface InProcessBroker extends AutoCloseable {

    /** {@code host:port} of the broker listener, for {@code bootstrap.servers}. */
    String bootstrapServers();

    /** The broker's data directory. */
    Path dataDir();

    /** Stops the broker and waits for its threads. */
    @Override
    void close();

    /** Starts in-process brokers; found with {@link ServiceLoader}. */
    interface Factory {
        /**
         * Starts a broker on {@code dataDir} (created if missing; a directory used before resumes its cluster and
         * topics). The directory is the caller's: it is kept on {@link InProcessBroker#close()}.
         */
        InProcessBroker start(Path dataDir);

        /** {@link #start(Path)} with the broker listening on {@code port} of 127.0.0.1 (0 = a free port). */
        InProcessBroker start(Path dataDir, int port);
    }

    /** The factory on the classpath, or empty where there is no broker to start (the services' classpath). */
    static Optional<Factory> factory() {
        return ServiceLoader.load(Factory.class, InProcessBroker.class.getClassLoader()).findFirst();
    }
}

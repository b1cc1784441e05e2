package io.grokwatch.cli;

import io.grokwatch.kafka.Directories;
import io.grokwatch.kafka.InProcessBroker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code grokwatch broker}: the demo's embedded single-node Kafka alone, so that the trainer, the analyzer and the
 * webhook receiver run as separate local processes without Docker. Not for production (one replica, no security).
 */
@Command(name = "broker", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a single-node Kafka broker (KRaft, in-process, as the demo uses) on 127.0.0.1 until "
                + "interrupted, and print 'broker 127.0.0.1:PORT' once it answers. The services create their topics "
                + "themselves. For local multi-process runs and tests, not for production.",
                "Example: grokwatch broker --port 9092 --data-dir .grokwatch/broker &",
                "         grokwatch analyze --bootstrap-servers 127.0.0.1:9092 &",
                "         grokwatch train --bootstrap-servers 127.0.0.1:9092"})
final class BrokerCommand implements Callable<Integer> {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "Keep the broker's data here (a later start on "
            + "the same directory resumes its topics). Default: a temporary directory, deleted on exit.")
    Path dataDir;
    @Option(names = "--port", paramLabel = "PORT", description = "Port of the broker listener on 127.0.0.1, 0 = a "
            + "free port. Default: ${DEFAULT-VALUE}.")
    int port = 9092;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (port < 0 || port > 65_535) {
            throw new ParameterException(spec.commandLine(), "--port: " + port + " is not allowed; allowed: 0 (a free "
                    + "port) to 65535");
        }
        InProcessBroker.Factory brokers = InProcessBroker.factory().orElseThrow(() -> new IllegalStateException(
                "no in-process Kafka broker on this classpath (the service images carry Kafka's clients only): run "
                        + "it with ./grokwatch"));
        boolean temporary = dataDir == null;
        Path dir = temporary ? Files.createTempDirectory("grokwatch-broker-") : dataDir;
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stopped = new CountDownLatch(1);
        InProcessBroker broker = brokers.start(dir, port);
        // Ctrl-C or SIGTERM: a clean shutdown, so the next start on the same directory needs no log recovery.
        Thread hook = new Thread(() -> {
            try {
                broker.close();
                if (temporary) {
                    Directories.deleteRecursively(dir);
                }
            } finally {
                stopped.countDown();
            }
        }, "broker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println("broker " + broker.bootstrapServers());
        out.println("data in " + dir + (temporary ? " (deleted on exit)" : "") + "; Ctrl-C stops it");
        out.flush();
        stopped.await();
        return 0;
    }
}

package io.grokwatch.cli;

import io.grokwatch.kafka.Topics;
import io.grokwatch.ui.LiveUi;
import picocli.CommandLine.Option;

/**
 * {@code --ui-port}, {@code --ui-host}: the live page of {@code demo} and {@code analyze} (runs, their figures, their
 * alerts, rebuilt from the topics).
 */
final class UiOptions {
    static final int DEFAULT_PORT = 9466;

    static {
        // The request and response timeouts of the JDK's HTTP server are read when a process's first such server
        // starts: set them before any command that may start one (the metrics endpoint is not one).
        io.grokwatch.ui.LivePage.configureTimeouts();
    }

    @Option(names = "--ui-port", description = "Port of the live page (0 = any free port, -1 = none). Default: "
            + DEFAULT_PORT + "; any free port with --metrics-port 0 (or when " + DEFAULT_PORT + " is taken); none "
            + "with --metrics-port -1.")
    Integer port;
    @Option(names = "--ui-host", description = "Address the live page binds; 0.0.0.0 opens it to the network. "
            + "Default: ${DEFAULT-VALUE}.")
    String host = "127.0.0.1";

    /**
     * Starts the page and prints {@code live page: URL}, or returns null when there is to be none.
     *
     * @param metricsPort the command's {@code --metrics-port} (null when not given)
     */
    LiveUi start(String bootstrapServers, Topics topics, Integer metricsPort) {
        int p;
        if (port != null) {
            p = port;
        } else if (metricsPort != null && metricsPort < 0) {
            p = -1;
        } else {
            p = metricsPort != null && metricsPort == 0 ? 0 : DEFAULT_PORT;
        }
        if (p < 0) {
            return null;
        }
        LiveUi ui;
        try {
            ui = LiveUi.start(bootstrapServers, topics, host, p);
        } catch (java.io.UncheckedIOException e) {
            if (port != null || p == 0) {
                throw e;
            }
            ui = LiveUi.start(bootstrapServers, topics, host, 0); // the default port is taken: any free one
        }
        System.out.println("live page: " + ui.url());
        return ui;
    }
}

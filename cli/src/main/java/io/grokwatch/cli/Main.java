package io.grokwatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code grokwatch} command. */
@Command(name = "grokwatch", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "See what a network learns while it trains: eNTK spectra of checkpoints, their alignment "
                + "with known features, and grokking alerts.",
        subcommands = {DemoCommand.class, TrainCommand.class, AnalyzeCommand.class, ReplayCommand.class, PublishCommand.class,
                ExperimentCommand.class, ReportCommand.class, EvaluateDetectorCommand.class,
                EntkCommand.class, BenchCommand.class, WebhookReceiverCommand.class, BrokerCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (shared by main and tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Expected failures (bad files, bad options) are one line for the user, not a stack trace.
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            cmd.getErr().println(cmd.getColorScheme().errorText("error: " + msg));
            if (System.getenv("GROKWATCH_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        return cl;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"grokwatch " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}

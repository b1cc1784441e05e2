package io.grokwatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code grokwatch bench ...}: measured performance, each against a baseline in the same process. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that time grokwatch against a naive baseline in the same process.",
        subcommands = {BenchEntkCommand.class, BenchSolverCommand.class, BenchOnnxCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

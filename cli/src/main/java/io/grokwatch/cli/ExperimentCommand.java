package io.grokwatch.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code grokwatch experiment ...}: the paper's experiments, trained and analysed offline. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Train one of the paper's experiments and analyse its eNTK spectra offline.",
        subcommands = {ModularAdditionExperiment.class, TmsExperiment.class, CheckpointsExperiment.class})
final class ExperimentCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

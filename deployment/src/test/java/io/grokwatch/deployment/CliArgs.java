package io.grokwatch.deployment;

import io.grokwatch.cli.Main;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Command lines from the deployment files, parsed by the real {@code grokwatch} CLI (nothing is run). */
final class CliArgs {
    private CliArgs() {
    }

    /**
     * Parses {@code grokwatch SUBCOMMAND ARGS...}.
     *
     * @param where which file the command line comes from, for the failure message
     * @return the subcommand's parse result
     */
    static CommandLine.ParseResult parse(String where, String subcommand, List<String> args) {
        List<String> all = new ArrayList<>();
        all.add(subcommand);
        all.addAll(args);
        CommandLine.ParseResult result;
        try {
            result = Main.commandLine().parseArgs(all.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new AssertionError(where + ": grokwatch " + String.join(" ", all) + " does not parse: "
                    + e.getMessage(), e);
        }
        CommandLine.ParseResult sub = result.subcommand();
        assertEquals(subcommand, sub == null ? null : sub.commandSpec().name(), where + ": not the subcommand");
        return sub;
    }

    /** The value an option takes in a parse (given or default), or null when the command has no such option. */
    static Object optionValue(CommandLine.ParseResult parsed, String option) {
        CommandLine.Model.OptionSpec spec = parsed.commandSpec().findOption(option);
        return spec == null ? null : spec.getValue();
    }

    /** The subcommands {@code grokwatch} has. */
    static java.util.Set<String> subcommands() {
        return Main.commandLine().getSubcommands().keySet();
    }
}

package io.grokwatch.cli;

import io.grokwatch.kafka.Topics;
import io.grokwatch.ui.Pages;
import io.grokwatch.ui.RecordFiles;
import io.grokwatch.ui.RunStore;
import io.grokwatch.ui.TopicFeed;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code grokwatch report}: one self-contained HTML file with a run's figures. */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Write one self-contained HTML file (no script, nothing fetched; opens offline) with the "
                + "figures of the live page for each run: accuracy and loss, top eigenvalues per layer, cliff "
                + "overlaps, gap ratios, drift and effective rank over training with the alerts marked, and the "
                + "spectrum (with the Fourier-family content of its cliffs, or the TMS feature heatmap) at the "
                + "grokking-onset alert and at the last checkpoint.",
                "Input: the --out JSON lines of demo or replay, the JSON of experiment, or (--run-id with "
                        + "--bootstrap-servers) a run read from the topics.",
                "Example: grokwatch report --in run.jsonl --out report.html"})
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--in", paramLabel = "FILE", description = "Records to draw (repeatable).")
    List<Path> in = new ArrayList<>();
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The HTML file to write.")
    Path out;
    @Option(names = "--run-id", description = "Only this run (with --bootstrap-servers: read it from the topics).")
    String runId;
    @Option(names = "--bootstrap-servers", description = "Read the run from this cluster's spectra, alerts and runs "
            + "topics (with --run-id).")
    String bootstrapServers;
    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Longest wait for the topics. Default: "
            + "${DEFAULT-VALUE}.")
    int timeoutSeconds = 60;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (in.isEmpty() == (bootstrapServers == null)) {
            throw new ParameterException(spec.commandLine(), "give either --in FILE or --run-id with "
                    + "--bootstrap-servers");
        }
        if (bootstrapServers != null && runId == null) {
            throw new ParameterException(spec.commandLine(), "--bootstrap-servers needs --run-id");
        }
        RunStore store = new RunStore();
        String source;
        if (bootstrapServers != null) {
            TopicFeed.readToEnd(bootstrapServers, Topics.defaults(), store, Duration.ofSeconds(timeoutSeconds));
            source = bootstrapServers;
        } else {
            for (Path file : in) {
                if (!Files.isRegularFile(file)) {
                    throw new ParameterException(spec.commandLine(), "--in: no file " + file);
                }
                RecordFiles.read(file, store);
            }
            source = String.join(", ", in.stream().map(p -> p.getFileName().toString()).toList());
        }
        List<RunStore.RunSnapshot> runs = store.snapshots().stream()
                .filter(r -> runId == null || r.runId().equals(runId)).filter(r -> !r.checkpoints().isEmpty())
                .toList();
        if (runs.isEmpty()) {
            throw new IllegalArgumentException(runId == null ? "no analysed checkpoint in " + source
                    : "no analysed checkpoint of run " + runId + " in " + source + " (runs there: "
                    + String.join(", ", store.snapshots().stream().map(RunStore.RunSnapshot::runId).toList()) + ")");
        }
        Path abs = out.toAbsolutePath();
        if (abs.getParent() != null) {
            Files.createDirectories(abs.getParent());
        }
        Path tmp = Files.createTempFile(abs.getParent(), abs.getFileName().toString(), ".tmp");
        Files.writeString(tmp, Pages.report(runs, source), StandardCharsets.UTF_8);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        for (RunStore.RunSnapshot r : runs) {
            System.out.printf("%s: %d checkpoints, %d alerts%n", r.runId(), r.checkpoints().size(), r.alerts().size());
        }
        System.out.println("report written to " + out);
        return 0;
    }
}

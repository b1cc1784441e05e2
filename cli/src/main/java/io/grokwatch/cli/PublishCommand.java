package io.grokwatch.cli;

import io.grokwatch.records.RunEndRecord;

import io.grokwatch.entk.KernelKind;
import io.grokwatch.kafka.TopicAdmin;
import io.grokwatch.kafka.Topics;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.run.RunModel;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.trainer.CheckpointDirectory;
import io.grokwatch.trainer.RunPublisher;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code grokwatch publish}: checkpoints written by any trainer (PyTorch included) into the pipeline. */
@Command(name = "publish", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Publish a run written by an external trainer: its descriptor (model description and probes), "
                + "then safetensors checkpoints, given as files or followed in a directory where the trainer writes "
                + "step-<n>.safetensors (each complete file once, in step order, across restarts of this command).",
                "The run's end: --end after the FILEs, or, under --watch, a file named " + PublishCommand.FINISHED
                        + " that the trainer writes into the directory when it is done; the analyzer then resolves "
                        + "the run's alerts and stops expecting checkpoints (else it reports the run stalled).",
                "Example: grokwatch publish --run-id torch-1 --model ckpts/model.onnx "
                        + "--probe modular-addition:p=113,tokens --bootstrap-servers localhost:9092 --watch ckpts/"})
final class PublishCommand implements Callable<Integer> {
    private static final Pattern STEP_NAME = Pattern.compile("step-(\\d+)\\.safetensors");
    /** The file a trainer writes into the --watch directory when its run is over. */
    static final String FINISHED = "run-finished";

    @Option(names = "--run-id", required = true, description = "Run id.")
    String runId;
    @Option(names = "--model", required = true, description = "The model: an ONNX file (torch.onnx.export with "
            + "do_constant_folding=False; its graph travels with the run, its weights come with each checkpoint) or "
            + "a grokwatch.model/v1 JSON description.")
    Path model;
    @ArgGroup(exclusive = true, multiplicity = "1")
    EntkCommand.Probe probe;
    @Option(names = "--kernel", description = "class-mean, flattened or per-class. Default: ${DEFAULT-VALUE}.")
    String kernel = "class-mean";
    @Option(names = "--importance", description = "Flattened kernels: weigh output c by (I^c)^(tau/2).")
    Double importance;
    @Option(names = "--tau", description = "Importance rescaling exponent. Default: ${DEFAULT-VALUE}.")
    double tau = 1.0;
    @Option(names = "--top-k", description = "Eigenvalues per spectrum. Default: ${DEFAULT-VALUE}.")
    int topK = 200;
    @Option(names = "--precision", description = "Arithmetic of the analyzer's dense eigendecompositions and of "
            + "its iterative solves' kernel products: float64 or float32. Default: ${DEFAULT-VALUE}.")
    String precision = "float64";
    @Option(names = "--probe-sample", description = "Analyse a uniform sample of this many probes (the exact "
            + "kernel on the sample) when the full probe set costs too much; feature-family overlaps then do not apply.")
    Integer probeSample;
    @Option(names = "--seed", description = "Seed of --probe-sample. Default: ${DEFAULT-VALUE}.")
    long seed = 0;
    @Option(names = "--checkpoint-every", description = "Checkpoint cadence in steps (metadata). Default: ${DEFAULT-VALUE}.")
    int checkpointEvery = 1;
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;
    @Option(names = "--watch", description = "Follow this directory for step-<n>.safetensors files until the "
            + "trainer writes " + FINISHED + " into it (the run's end is then published) or Ctrl-C (no end: the run "
            + "may go on).")
    Path watch;
    @Option(names = "--end", description = "After the FILEs (or alone), publish the run's end with this status: "
            + "completed, stopped or failed.")
    String end;
    @Option(names = "--poll-ms", description = "How often --watch looks for new files. Default: ${DEFAULT-VALUE}.")
    long pollMillis = 1000;
    @picocli.CommandLine.Mixin
    RunLimitsOptions limits;
    @Parameters(arity = "0..*", paramLabel = "FILE", description = "Checkpoint files (safetensors) to publish.")
    List<Path> files = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (watch != null && !files.isEmpty() || watch == null && files.isEmpty() && end == null) {
            throw new IllegalArgumentException("give checkpoint FILEs, --watch DIR, or --end alone to end the run");
        }
        if (end != null && !RunEndRecord.STATUSES.contains(end)) {
            throw new IllegalArgumentException("--end must be one of " + String.join(", ", RunEndRecord.STATUSES)
                    + ", got '" + end + "'");
        }
        if (end != null && watch != null) {
            throw new IllegalArgumentException("--end goes with FILEs; under --watch the trainer writes " + FINISHED
                    + " into the directory");
        }
        OptionChecks.requireRange("--top-k", topK, 1, 10_000);
        OptionChecks.requireRange("--checkpoint-every", checkpointEvery, 1, Integer.MAX_VALUE);
        OptionChecks.requireRange("--poll-ms", pollMillis, 1, 3_600_000);
        if (probeSample != null) {
            OptionChecks.requireRange("--probe-sample", probeSample, 1, Integer.MAX_VALUE);
        }
        io.grokwatch.run.RunLimits runLimits = limits.limits();
        RunModel runModel = RunModel.read(model);
        if (probe.spec != null) {
            // Before the probes are generated: p = 1000 is a million of them.
            runLimits.checkGenerator(probe.spec, probeSample);
        }
        ProbeSource probes = EntkCommand.probeSource(probe, runModel, probeSample, seed);
        RunDescriptor descriptor = new RunDescriptor(runId, runModel, probes,
                new RunDescriptor.AnalysisSettings(KernelKind.parse(kernel), topK, true, Optional.ofNullable(importance),
                        tau, 0, TaskOptions.parsePrecision(precision)), checkpointEvery,
                Map.of("source", "external"));
        runLimits.check(descriptor); // the analyzer would refuse it: say so before anything is sent
        Topics topics = Topics.defaults();
        TopicAdmin.ensureTopics(bootstrapServers, topics, 4, (short) 1);
        try (RunPublisher publisher = new RunPublisher(bootstrapServers, topics, runId)) {
            publisher.publishDescriptor(descriptor);
            if (watch == null) {
                long last = files.isEmpty() ? publisher.lastPublishedStep() : publishFiles(publisher);
                if (end != null) {
                    publisher.publishEnd(end, last);
                    System.out.printf("published the end of run %s (%s after step %d)%n", runId, end, last);
                }
            } else {
                follow(publisher);
            }
        }
        return 0;
    }

    /** Publishes the FILEs in step order; returns the last step. */
    private long publishFiles(RunPublisher publisher) throws Exception {
        record Item(long step, Path file, byte[] bytes) {
        }
        List<Item> items = new ArrayList<>();
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            var parsed = Safetensors.read(bytes);
            Matcher m = STEP_NAME.matcher(f.getFileName().toString());
            String step = parsed.metadata().get("step");
            if (step == null && !m.matches()) {
                throw new IllegalArgumentException(f + ": no 'step' in its metadata and its name is not "
                        + "step-<n>.safetensors");
            }
            long s = step != null ? Long.parseLong(step.trim()) : Long.parseLong(m.group(1));
            items.add(new Item(s, f, CheckpointDirectory.withStep(parsed, bytes, s)));
        }
        items.sort(Comparator.comparingLong(Item::step));
        for (Item i : items) {
            publisher.publishCheckpoint(i.bytes());
            System.out.printf("published %s (step %d)%n", i.file(), i.step());
        }
        return items.isEmpty() ? -1 : items.get(items.size() - 1).step();
    }

    private void follow(RunPublisher publisher) throws Exception {
        CheckpointDirectory dir = new CheckpointDirectory(watch, runId);
        AtomicBoolean stop = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop.set(true), "publish-shutdown"));
        System.out.printf("following %s for step-<n>.safetensors (last published step %d) until %s appears there; "
                + "Ctrl-C stops%n", watch, dir.lastPublished(), FINISHED);
        CheckpointDirectory.Sink publish = (step, bytes) -> {
            publisher.publishCheckpoint(bytes);
            System.out.printf("published step %d%n", step);
        };
        while (!stop.get()) {
            // Looked for before the scan: every checkpoint written before the marker is published first.
            boolean finished = java.nio.file.Files.exists(watch.resolve(FINISHED));
            dir.scan(publish);
            if (finished) {
                // A file is published once its size held between two scans: one more scan takes the last ones.
                Thread.sleep(pollMillis);
                dir.scan(publish);
                String status = java.nio.file.Files.readString(watch.resolve(FINISHED)).trim();
                status = RunEndRecord.STATUSES.contains(status) ? status : RunEndRecord.COMPLETED;
                publisher.publishEnd(status, dir.lastPublished());
                System.out.printf("%s found: published the end of run %s (%s after step %d)%n", FINISHED, runId,
                        status, dir.lastPublished());
                return;
            }
            Thread.sleep(pollMillis);
        }
    }
}

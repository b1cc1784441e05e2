package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.ModularAdditionAnalyzer;
import io.grokwatch.analysis.TmsAnalyzer;
import io.grokwatch.detect.Alert;
import io.grokwatch.detect.DetectorStates;
import io.grokwatch.detect.DetectorSuite;
import io.grokwatch.detect.Observation;
import io.grokwatch.model.Network;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.TmsTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code grokwatch evaluate-detector}: the detectors measured on a suite of offline runs. */
@Command(name = "evaluate-detector", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a suite of runs (grokking runs over seeds and primes, memorisation-only controls, TMS), "
                + "run the detectors on every checkpoint and report, per run, the transition window, the onset "
                + "alert, its lead over the generalization alert and any false alarm; then totals.",
                "Example: grokwatch evaluate-detector --suite default --out eval.json"})
final class EvaluateDetectorCommand implements Callable<Integer> {
    @Option(names = "--suite", description = "default or smoke (two short runs, for tests): the Fourier onset detector "
            + "on modular addition; general or general-smoke: the family-free onset detector on other operations "
            + "mod p, sparse parity, memorisation-only controls and random labels (docs/science.md); tuning: the "
            + "four runs its thresholds were set on. "
            + "Default: ${DEFAULT-VALUE}.")
    String suite = "default";
    @picocli.CommandLine.Mixin
    DetectorOptions detectorOptions;
    @Option(names = "--out", description = "Optional JSON file with every run's result.")
    Path out;
    @Option(names = "--checkpoint-run", paramLabel = "DIR", description = "General suites: also evaluate the run "
            + "in DIR (model.json or model.onnx, probes.safetensors with tensors 'train' and 'labels', "
            + "step-<n>.safetensors with accuracies in their metadata), analysed as the analyzer would; repeatable. "
            + "examples/pytorch/mlp_modadd.py --out DIR writes such a directory.")
    List<Path> checkpointRuns = new ArrayList<>();
    @Option(names = "--trace-dir", description = "General suites: write each run's per-checkpoint signals "
            + "(CSV) into this directory.")
    Path traceDir;

    /** One run of the suite. */
    record RunSpec(String task, int p, double alpha, long seed, int every, int epochs, int hidden, double sparsity) {
        String label() {
            return task.equals("tms") ? String.format("tms m=%d S=%.1f seed %d", hidden, sparsity, seed)
                    : String.format("p=%d alpha=%.1f seed %d every %d", p, alpha, seed, every);
        }
    }

    record Outcome(RunSpec run, long test10, long test90, long onset, long generalization, boolean falseAlarm,
                   boolean hit, boolean miss) {
    }

    static List<RunSpec> suite(String name) {
        return switch (name) {
            case "default" -> List.of(
                    new RunSpec("ma", 29, 0.7, 0, 10, 500, 0, 0), new RunSpec("ma", 29, 0.7, 1, 10, 500, 0, 0),
                    new RunSpec("ma", 29, 0.7, 2, 10, 500, 0, 0), new RunSpec("ma", 23, 0.7, 0, 5, 500, 0, 0),
                    new RunSpec("ma", 31, 0.7, 0, 5, 500, 0, 0), new RunSpec("ma", 37, 0.7, 0, 10, 500, 0, 0),
                    new RunSpec("ma", 41, 0.7, 0, 10, 500, 0, 0), new RunSpec("ma", 29, 0.3, 0, 10, 500, 0, 0),
                    new RunSpec("ma", 29, 0.2, 0, 10, 500, 0, 0), new RunSpec("ma", 37, 0.3, 0, 10, 500, 0, 0),
                    new RunSpec("tms", 0, 0, 0, 250, 5000, 10, 0.9), new RunSpec("tms", 0, 0, 0, 250, 5000, 40, 0.9));
            case "smoke" -> List.of(new RunSpec("ma", 11, 0.7, 0, 10, 40, 0, 0),
                    new RunSpec("tms", 0, 0, 0, 50, 100, 4, 0.9));
            default -> throw new IllegalArgumentException("--suite must be default or smoke, got '" + name + "'");
        };
    }

    @Override
    public Integer call() throws Exception {
        if (suite.equals("general") || suite.equals("general-smoke") || suite.equals("tuning")) {
            return general();
        }
        List<RunSpec> runs = suite(suite);
        DetectorSuite detectors = detectorOptions.suite();
        List<Outcome> outcomes = new ArrayList<>();
        try (ProgressBar bar = new ProgressBar("evaluate-detector", runs.size())) {
            for (int i = 0; i < runs.size(); i++) {
                RunSpec r = runs.get(i);
                outcomes.add(r.task().equals("tms") ? tms(r, detectors) : modularAddition(r, detectors));
                bar.update(i + 1, r.label());
            }
        }
        Table t = new Table("run", "test>=0.10", "test>=0.90", "onset alert", "generalization", "lead", "verdict");
        int hits = 0;
        int misses = 0;
        int falseAlarms = 0;
        List<Long> leads = new ArrayList<>();
        for (Outcome o : outcomes) {
            hits += o.hit() ? 1 : 0;
            misses += o.miss() ? 1 : 0;
            falseAlarms += o.falseAlarm() ? 1 : 0;
            long lead = o.onset() >= 0 && o.generalization() >= 0 ? o.generalization() - o.onset() : Long.MIN_VALUE;
            if (lead != Long.MIN_VALUE) {
                leads.add(lead);
            }
            t.row(o.run().label(), epoch(o.test10()), epoch(o.test90()), epoch(o.onset()), epoch(o.generalization()),
                    lead == Long.MIN_VALUE ? "-" : Long.toString(lead),
                    o.hit() ? "hit" : o.miss() ? "MISS" : o.falseAlarm() ? "FALSE ALARM" : "quiet (correct)");
        }
        System.out.print(t.render());
        long[] sorted = leads.stream().mapToLong(Long::longValue).sorted().toArray();
        String median = sorted.length == 0 ? "-" : Long.toString(sorted[sorted.length / 2]);
        System.out.printf("hits %d, misses %d, false alarms %d, median lead over the generalization alert %s epochs%n",
                hits, misses, falseAlarms, median);
        if (out != null) {
            ObjectNode root = JsonFiles.object();
            ArrayNode arr = root.putArray("runs");
            for (Outcome o : outcomes) {
                arr.addObject().put("run", o.run().label()).put("test10", o.test10()).put("test90", o.test90())
                        .put("onset", o.onset()).put("generalization", o.generalization()).put("hit", o.hit())
                        .put("miss", o.miss()).put("falseAlarm", o.falseAlarm());
            }
            root.putObject("totals").put("hits", hits).put("misses", misses).put("falseAlarms", falseAlarms)
                    .put("medianLead", sorted.length == 0 ? -1 : sorted[sorted.length / 2]);
            JsonFiles.write(out, root);
        }
        return 0;
    }

    private Integer general() throws java.io.IOException {
        List<GeneralSuite.Spec> runs = GeneralSuite.runs(suite);
        DetectorSuite detectors = detectorOptions.suite();
        List<GeneralSuite.Result> results = new ArrayList<>();
        try (ProgressBar bar = new ProgressBar("evaluate-detector", runs.size() + checkpointRuns.size())) {
            for (int i = 0; i < runs.size(); i++) {
                results.add(GeneralSuite.run(runs.get(i), detectors));
                bar.update(i + 1, runs.get(i).label());
            }
            for (int i = 0; i < checkpointRuns.size(); i++) {
                results.add(GeneralSuite.fromCheckpoints(checkpointRuns.get(i), detectors));
                bar.update(runs.size() + i + 1, checkpointRuns.get(i).toString());
            }
        }
        if (traceDir != null) {
            java.nio.file.Files.createDirectories(traceDir);
            for (GeneralSuite.Result r : results) {
                String name = r.spec().label().replaceAll("[^A-Za-z0-9.=+*-]+", "_") + ".csv";
                java.nio.file.Files.write(traceDir.resolve(name), r.trace());
            }
        }
        System.out.print(GeneralReport.table(results).render());
        System.out.println(GeneralReport.totals(results));
        if (out != null) {
            JsonFiles.write(out, GeneralReport.json(results));
        }
        return 0;
    }

    private static String epoch(long e) {
        return e < 0 ? "-" : Long.toString(e);
    }

    private static Outcome modularAddition(RunSpec r, DetectorSuite detectors) {
        ModularAdditionTask task = ModularAdditionTask.create(new ModularAdditionTask.Config(r.p(), 512, r.alpha(), 0.05,
                0.01, r.epochs(), r.seed()));
        DetectorStates[] state = {detectors.initialState()};
        long[] t = {-1, -1, -1, -1};
        try (ModularAdditionAnalyzer analyzer = new ModularAdditionAnalyzer(r.p(), 4 * (r.p() - 1) + 2, false)) {
            task.run(r.every(), (epoch, step, params, m) -> {
                if (t[0] < 0 && m.testAccuracy() >= 0.10) {
                    t[0] = epoch;
                }
                if (t[1] < 0 && m.testAccuracy() >= 0.90) {
                    t[1] = epoch;
                }
                ModularAdditionAnalyzer.Result res = analyzer.analyze(new Network(task.description(), params));
                DetectorSuite.Step s = detectors.observe(state[0], new Observation(epoch, step, m.trainAccuracy(),
                        m.trainLoss(), m.testAccuracy(), res.all().eigenvalues(), res.all().overlaps(), res.all().gaps()));
                state[0] = s.state();
                record(s.alerts(), t);
                return true;
            });
        }
        boolean generalises = t[0] >= 0;
        boolean inWindow = generalises && t[2] >= t[0] - 30 && t[2] <= (t[1] >= 0 ? t[1] : Long.MAX_VALUE) && t[2] >= 0;
        return new Outcome(r, t[0], t[1], t[2], t[3], !generalises && t[2] >= 0 || generalises && t[2] >= 0 && !inWindow,
                inWindow, generalises && t[2] < 0);
    }

    private static Outcome tms(RunSpec r, DetectorSuite detectors) {
        TmsTask task = TmsTask.create(new TmsTask.Config(50, r.hidden(), r.sparsity(), 0.8, 500, r.epochs(), 1e-3, r.seed()));
        DetectorStates[] state = {detectors.initialState()};
        long[] t = {-1, -1, -1, -1};
        task.run(r.every(), (epoch, step, params, m) -> {
            TmsAnalyzer.Result res = TmsAnalyzer.analyze(new Network(task.description(), params), task.dataset(),
                    task.importances(), 0.33, 80);
            DetectorSuite.Step s = detectors.observe(state[0], new Observation(epoch, step, m.trainAccuracy(),
                    m.trainLoss(), m.testAccuracy(), res.spectrum().eigenvalues(), Map.of(), Map.of()));
            state[0] = s.state();
            record(s.alerts(), t);
            return true;
        });
        return new Outcome(r, -1, -1, t[2], t[3], t[2] >= 0, false, false);
    }

    private static void record(List<Alert> alerts, long[] t) {
        for (Alert a : alerts) {
            if (a.type().equals("grokking-onset") && t[2] < 0) {
                t[2] = a.epoch();
            } else if (a.type().equals("generalization") && t[3] < 0) {
                t[3] = a.epoch();
            }
        }
    }

}

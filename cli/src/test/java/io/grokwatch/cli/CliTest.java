package io.grokwatch.cli;

import io.grokwatch.records.SpectrumRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands end to end, in process: options, JSON fields, one-line errors. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path resource(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/reference/" + name)) {
            Path p = dir.resolve(name);
            Files.copy(in, p);
            return p;
        }
    }

    @Test
    void everyCommandHasHelp() {
        List<List<String>> commands = List.of(List.of(), List.of("experiment"), List.of("experiment", "modular-addition"),
                List.of("experiment", "tms"), List.of("entk"), List.of("bench"), List.of("bench", "entk"), List.of("demo"), List.of("train"),
                List.of("analyze"), List.of("publish"), List.of("replay"), List.of("evaluate-detector"),
                List.of("broker"), List.of("webhook-receiver"));
        for (List<String> cmd : commands) {
            List<String> withHelp = new java.util.ArrayList<>(cmd);
            withHelp.add("--help");
            String[] args = withHelp.toArray(new String[0]);
            Run r = run(args);
            assertEquals(0, r.code(), "help of " + cmd);
            assertTrue(r.out().contains("Usage:"), "usage of " + cmd + ": " + r.out());
        }
    }

    @Test
    void brokerAndReceiverRefuseOutOfRangeNumbersNamingTheOptionAndTheRange() {
        Run port = run("broker", "--port", "70000");
        assertEquals(2, port.code(), port.err());
        assertTrue(port.err().contains("--port: 70000 is not allowed; allowed: 0 (a free port) to 65535"), port.err());
        Run receiverPort = run("webhook-receiver", "--port", "-2");
        assertEquals(2, receiverPort.code(), receiverPort.err());
        assertTrue(receiverPort.err().contains("--port: -2 is not allowed"), receiverPort.err());
        Run tolerance = run("webhook-receiver", "--tolerance-seconds", "0");
        assertEquals(2, tolerance.code(), tolerance.err());
        assertTrue(tolerance.err().contains("--tolerance-seconds: 0 is not allowed; allowed: 1..86400"),
                tolerance.err());
        Run timeout = run("webhook-receiver", "--read-timeout-ms", "-5");
        assertEquals(2, timeout.code(), timeout.err());
        assertTrue(timeout.err().contains("--read-timeout-ms: -5 is not allowed; allowed: 1..300000"), timeout.err());
    }

    @Test
    void anUnknownBacklogPolicyIsRefusedBeforeAnythingStartsNamingTheAllowedOnes() {
        for (String command : List.of("analyze", "demo")) {
            Run r = run(command, "--bootstrap-servers", "localhost:1", "--backlog", "newest");
            assertEquals(2, r.code(), command + ": " + r.err());
            assertTrue(r.err().contains("--backlog") && r.err().contains("all, latest")
                    && r.err().contains("'newest'"), r.err());
        }
    }

    @Test
    void aDemoOutputFileThatCannotBeWrittenIsRefusedBeforeTheBrokerStarts() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-directory"), "");
        Run r = run("demo", "--data-dir", dir.resolve("demo").toString(), "--metrics-port", "-1", "--out",
                file.resolve("run.jsonl").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--out: cannot write") && r.err().contains("run.jsonl"), r.err());
        assertFalse(Files.exists(dir.resolve("demo")), "nothing started");
    }

    @Test
    void entkOnANumpyReferenceCheckpointMatchesNumpyToOneInAMillion() throws Exception {
        Path model = resource("ma_p29_seed0_epoch100.model.json");
        Path ckpt = resource("ma_p29_seed0_epoch100.safetensors");
        JsonNode expected = new ObjectMapper().readTree(resource("ma_p29_seed0_epoch100.expected.json").toFile());
        Path out = dir.resolve("entk.json");
        Run r = run("entk", "--model", model.toString(), "--checkpoint", ckpt.toString(),
                "--probe", "modular-addition:p=29", "--top-k", "50", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode kernels = new ObjectMapper().readTree(out.toFile()).get("kernels");
        for (String k : List.of("all", "net.0", "net.3")) {
            JsonNode got = kernels.get(k).get("eigenvalues");
            JsonNode exp = expected.get(k).get("eigenvalues");
            assertEquals(50, got.size());
            for (int i = 0; i < 50; i++) {
                double e = exp.get(i).asDouble();
                // float64 on both sides; 1e-6 relative is the promised agreement.
                assertEquals(e, got.get(i).asDouble(), 1e-6 * e, k + " eigenvalue " + i);
            }
        }
        assertTrue(kernels.get("all").get("overlaps").get("secondCliff").get("sum").asDouble() > 0.8);
    }

    @Test
    void entkAboveTheDenseLimitSolvesIterativelyAndAgreesWithADenseDecomposition() throws Exception {
        // p = 47: 2,209 probes, past the dense limit, so entk takes the analyzer's block Lanczos path.
        int p = 47;
        int width = 48;
        assertTrue(p * p > io.grokwatch.analysis.SpectrumSolver.DENSE_MAX_SIDE);
        java.util.Random rnd = new java.util.Random(11);
        double[] w1 = new double[width * 2 * p];
        double[] w2 = new double[p * width];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = rnd.nextGaussian();
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = rnd.nextGaussian();
        }
        Path model = dir.resolve("p47.json");
        Files.writeString(model, "{\"format\": \"grokwatch.model/v1\", \"inputs\": " + 2 * p + ", \"ops\": ["
                + "{\"op\": \"linear\", \"weight\": \"net.0.weight\"}, {\"op\": \"scale\", \"factor\": "
                + 1 / Math.sqrt(2 * p) + "}, {\"op\": \"square\"}, {\"op\": \"linear\", \"weight\": "
                + "\"net.3.weight\"}, {\"op\": \"scale\", \"factor\": " + 1.0 / width + "}]}");
        Path ckpt = dir.resolve("p47.safetensors");
        Files.write(ckpt, io.grokwatch.safetensors.Safetensors.write(io.grokwatch.safetensors.TensorFile.of(
                io.grokwatch.safetensors.Tensor.f64("net.0.weight", new long[] {width, 2 * p}, w1),
                io.grokwatch.safetensors.Tensor.f64("net.3.weight", new long[] {p, width}, w2))));
        Path out = dir.resolve("entk47.json");
        Run r = run("entk", "--model", model.toString(), "--checkpoint", ckpt.toString(),
                "--probe", "modular-addition:p=" + p, "--top-k", "60", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode kernels = new ObjectMapper().readTree(out.toFile()).get("kernels");
        assertEquals("cold", kernels.get("all").get("solve").get("start").asText(), kernels.get("all").toString());
        // Independent: the dense kernels of the same network, decomposed by LAPACK.
        io.grokwatch.model.Network net = io.grokwatch.checkpoint.Checkpoints.bind(
                io.grokwatch.model.ModelDescription.read(model), io.grokwatch.safetensors.Safetensors.read(ckpt));
        io.grokwatch.entk.Entk entk = new io.grokwatch.entk.Entk(net, io.grokwatch.probe.ModularAddition.inputs(p));
        for (String k : List.of("all", "net.0", "net.3")) {
            double[] dense = io.grokwatch.linalg.SymmetricEigen.top(entk.classMean(k), 60, 0,
                    io.grokwatch.linalg.Precision.FLOAT64).values();
            JsonNode got = kernels.get(k).get("eigenvalues");
            for (int i = 0; i < 60; i++) {
                // The promise: eigenvalues within 1e-6 of dense, relative to the top one.
                assertEquals(dense[i], got.get(i).asDouble(), 1e-6 * dense[0], k + " eigenvalue " + i);
            }
        }
    }

    @Test
    void badModelAndBadCheckpointGiveOneLineErrors() throws Exception {
        Path ckpt = resource("ma_p29_seed0_epoch100.safetensors");
        Path model = dir.resolve("bad.json");
        Files.writeString(model, "{\"format\":\"grokwatch.model/v1\",\"inputs\":58,\"ops\":[{\"op\":\"linear\","
                + "\"weight\":\"net.0.weight\"},{\"op\":\"conv\"}]}");
        Run r = run("entk", "--model", model.toString(), "--checkpoint", ckpt.toString(), "--probe",
                "modular-addition:p=29", "--out", dir.resolve("x.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("op 1") && r.err().contains("unknown op 'conv'"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        Files.writeString(model, "{\"format\":\"grokwatch.model/v1\",\"inputs\":58,\"ops\":[{\"op\":\"linear\","
                + "\"weight\":\"net.3.weight\"}]}");
        r = run("entk", "--model", model.toString(), "--checkpoint", ckpt.toString(), "--probe",
                "modular-addition:p=29", "--out", dir.resolve("x.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("op 0") && r.err().contains("[29, 512]") && r.err().contains("58"), r.err());

        Path broken = dir.resolve("broken.safetensors");
        byte[] bytes = Files.readAllBytes(ckpt);
        Files.write(broken, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        r = run("entk", "--model", resource("ma_p29_seed0_epoch100.model.json").toString(), "--checkpoint",
                broken.toString(), "--probe", "modular-addition:p=29", "--out", dir.resolve("x.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("past the end"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(dir.resolve("x.json")));
    }

    @Test
    void entkWithAProbeFileAndAFlattenedImportanceKernelReportsTheHeatmap() throws Exception {
        // A small TMS-shaped checkpoint and probe set written as safetensors, as a PyTorch user would.
        java.util.Random r = new java.util.Random(11);
        int n = 8;
        int m = 3;
        int d = 40;
        double[] w = new double[m * n];
        for (int i = 0; i < w.length; i++) {
            w[i] = 0.6 * r.nextGaussian();
        }
        double[] x = new double[d * n];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble() < 0.3 ? r.nextDouble() : 0.0;
        }
        Path ckpt = dir.resolve("tms.safetensors");
        io.grokwatch.safetensors.Safetensors.write(io.grokwatch.safetensors.TensorFile.of(
                io.grokwatch.safetensors.Tensor.f32("W", new long[] {m, n}, w),
                io.grokwatch.safetensors.Tensor.f64("b", new long[] {n}, new double[n])), ckpt);
        Path probes = dir.resolve("x.safetensors");
        io.grokwatch.safetensors.Safetensors.write(io.grokwatch.safetensors.TensorFile.of(
                io.grokwatch.safetensors.Tensor.f64("x", new long[] {d, n}, x)), probes);
        Path model = dir.resolve("tms.json");
        Files.writeString(model, io.grokwatch.model.ModelDescription.tms(n).toJsonString());
        Path out = dir.resolve("entk.json");
        Run run = run("entk", "--model", model.toString(), "--checkpoint", ckpt.toString(), "--probe-file",
                probes.toString(), "--kernel", "flattened", "--importance", "0.8", "--tau", "1", "--top-k", "10",
                "--out", out.toString());
        assertEquals(0, run.code(), run.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        assertEquals("flattened", root.get("kernel").asText());
        for (String k : List.of("all", "W", "b")) {
            JsonNode kernel = root.get("kernels").get(k);
            assertEquals(10, kernel.get("eigenvalues").size(), k);
            // The bias group has 8 parameters: its flattened kernel has rank <= 8, so 8 eigenvectors.
            assertEquals(k.equals("b") ? 8 : 10, kernel.get("heatmapArgmax").size(), k);
        }
        assertEquals(0.0, root.get("kernels").get("b").get("eigenvalues").get(9).asDouble(), 0.0);
        // The whole-model flattened kernel is the sum of the group kernels: its top eigenvalue is at least each one's.
        double top = root.get("kernels").get("all").get("eigenvalues").get(0).asDouble();
        assertTrue(top >= root.get("kernels").get("W").get("eigenvalues").get(0).asDouble() - 1e-12);
    }

    @Test
    void shortModularAdditionExperimentWritesTheDocumentedFields() throws Exception {
        Path out = dir.resolve("ma.json");
        Run r = run("experiment", "modular-addition", "--p", "11", "--width", "64", "--epochs", "25", "--every", "10",
                "--top-k", "60", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        JsonNode cps = root.get("checkpoints");
        assertEquals(4, cps.size(), "epochs 0, 10, 20 and the last (25)");
        assertEquals(25, cps.get(3).get("epoch").asInt());
        for (JsonNode c : cps) {
            for (String f : List.of("epoch", "trainAccuracy", "testAccuracy", "trainLoss", "testLoss", "eigenvalues",
                    "overlaps", "layers")) {
                assertTrue(c.has(f), "checkpoint field " + f);
            }
            assertEquals(60, c.get("eigenvalues").size());
            for (String cliff : List.of("firstCliff", "secondCliff")) {
                for (String fam : List.of("n", "m", "sum", "diff")) {
                    double v = c.get("overlaps").get(cliff).get(fam).asDouble();
                    assertTrue(v >= 0 && v <= 1, cliff + " " + fam + " = " + v);
                }
            }
            assertTrue(c.get("layers").has("net.0") && c.get("layers").has("net.3"));
            assertTrue(c.get("layers").get("net.0").get("overlaps").has("firstCliff"));
            double[] ev = new ObjectMapper().convertValue(c.get("eigenvalues"), double[].class);
            for (int i = 1; i < ev.length; i++) {
                assertTrue(ev[i] <= ev[i - 1], "descending");
            }
        }
        assertTrue(root.get("final").get("rotation").has("firstCliff"));
    }

    @Test
    void experimentRowsKeepCliffVectorsAndBasesOnlyForTheCheckpointTheyRotate() {
        io.grokwatch.trainer.ModularAdditionTask task = io.grokwatch.trainer.ModularAdditionTask.create(
                new io.grokwatch.trainer.ModularAdditionTask.Config(7, 16, 0.7, 0.05, 0.01, 1, 0));
        try (io.grokwatch.analysis.ModularAdditionAnalyzer a = new io.grokwatch.analysis.ModularAdditionAnalyzer(7, 20,
                true)) {
            io.grokwatch.analysis.ModularAdditionAnalyzer.Result full = a.analyze(
                    new io.grokwatch.model.Network(task.description(), task.parameters()));
            assertTrue(full.firstCliffVectors() != null && !full.bases().isEmpty());
            var kept = ModularAdditionExperiment.slim(full, true);
            assertSame(full, kept);
            var slim = ModularAdditionExperiment.slim(full, false);
            assertNull(slim.firstCliffVectors());
            assertNull(slim.secondCliffVectors());
            assertTrue(slim.bases().isEmpty());
            assertSame(full.all(), slim.all());
            assertEquals(full.layers(), slim.layers());
            assertEquals(full.kernelSeconds() + full.eigenSeconds() + full.layerSeconds(),
                    slim.kernelSeconds() + slim.eigenSeconds() + slim.layerSeconds());
        }
    }

    @Test
    void shortTmsExperimentWritesTheDocumentedFields() throws Exception {
        Path out = dir.resolve("tms.json");
        Run r = run("experiment", "tms", "--features", "12", "--hidden", "4", "--dataset-size", "60", "--epochs", "200",
                "--top-k", "20", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode fin = new ObjectMapper().readTree(out.toFile()).get("final");
        assertEquals(20, fin.get("eigenvalues").size());
        assertEquals(20, fin.get("heatmapArgmax").size());
        assertEquals(20, fin.get("heatmapMax").size());
        assertTrue(fin.get("recoveredFeatures").asInt() >= 0 && fin.get("recoveredFeatures").asInt() <= 12);
        assertTrue(fin.has("representedFeatures"));
    }

    @Test
    void evaluateDetectorSmokeSuiteReportsEveryRun() throws Exception {
        Path out = dir.resolve("eval.json");
        Run r = run("evaluate-detector", "--suite", "smoke", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        assertEquals(2, root.get("runs").size());
        assertEquals(0, root.get("totals").get("falseAlarms").asInt(), root.toString());
        assertFalse(root.get("runs").get(1).get("falseAlarm").asBoolean(), "no onset alert on TMS");
    }

    @Test
    void evaluateDetectorGeneralSmokeHitsTheGrokkingRunAndStaysQuietOnRandomLabels() throws Exception {
        Path out = dir.resolve("general.json");
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        Run r;
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            r = run("evaluate-detector", "--suite", "general-smoke", "--out", out.toString());
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, r.code(), r.err());
        String table = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
        for (String column : List.of("run", "test>=0.10", "test>=0.90", "general onset", "fourier onset",
                "generalization", "lead", "verdict")) {
            assertTrue(table.contains(column), "column " + column + " in " + table);
        }
        assertTrue(table.contains("hits 1, misses 0; controls 1: false alarms 0"), table);
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        assertEquals(2, root.get("runs").size());
        JsonNode grokking = root.get("runs").get(0);
        assertTrue(grokking.get("hit").asBoolean(), grokking.toString());
        long onset = grokking.get("generalOnset").asLong();
        assertTrue(onset >= grokking.get("test10").asLong() - 30 && onset <= grokking.get("test90").asLong(),
                grokking.toString());
        JsonNode control = root.get("runs").get(1);
        assertEquals(-1, control.get("test10").asLong(), "random labels never generalise: " + control);
        assertEquals(-1, control.get("generalOnset").asLong(), control.toString());
        assertEquals("quiet (correct)", control.get("verdict").asText());
    }

    @Test
    void benchEntkReportsTheNumpyRatiosFirstAndChecksTheEigenvaluesAgainstNumpy() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(NumpyPeer.available("/usr/bin/python3"),
                "/usr/bin/python3 cannot import numpy");
        Path out = dir.resolve("bench-numpy.json");
        // The bench prints its table on System.out.
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        Run r;
        System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            r = run("bench", "entk", "--p", "7", "--width", "16", "--train-epochs", "5", "--skip", "tms",
                    "--reps", "2", "--warmup", "1", "--baseline-reps", "1", "--numpy-threads", "1",
                    "--experiment-epochs", "20", "--experiment-every", "10", "--experiment-repeats", "1",
                    "--out", out.toString());
        } finally {
            System.setOut(stdout);
        }
        String table = printed.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, r.code(), r.err() + table);
        // The numpy columns come before the naive baseline's.
        String header = table.lines().filter(l -> l.trim().startsWith("case")).findFirst().orElseThrow();
        assertTrue(header.indexOf("grokwatch/numpy") < header.indexOf("naive median ms"), header);
        assertTrue(table.contains("numpy with 1 BLAS thread"), table);
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        for (String name : List.of("modular-addition p=7", "experiment p=7, 20 epochs")) {
            JsonNode c = root.get(name);
            assertTrue(c != null && c.get("numpyMedianMs").asDouble() > 0, name + ": " + root);
            assertEquals(c.get("medianMs").asDouble() / c.get("numpyMedianMs").asDouble(),
                    c.get("numpyRatio").asDouble(), 1e-9, name);
            assertTrue(c.get("numpyByBlasThreads").has("1"), c.toString());
        }
        // One checkpoint: the same float64 spectrum as numpy's eigh, to the tolerance the bench enforces.
        assertTrue(root.get("modular-addition p=7").get("numpyMaxRelativeEigenvalueDifference").asDouble()
                <= BenchEntkCommand.NUMPY_EIGENVALUE_TOLERANCE, root.get("modular-addition p=7").toString());
        // The experiment: the same training from the same start, so the final spectra agree closely.
        assertTrue(root.get("experiment p=7, 20 epochs").get("numpyMaxRelativeEigenvalueDifference").asDouble()
                < 1e-6, root.get("experiment p=7, 20 epochs").toString());
        assertTrue(root.get("modular-addition p=7").get("speedup").asDouble() > 0, "the naive baseline still runs");
    }

    @Test
    void benchRunsBothCasesAndReportsRatios() throws Exception {
        Path out = dir.resolve("bench.json");
        Run r = run("bench", "entk", "--p", "7", "--width", "16", "--train-epochs", "5", "--tms-hidden", "4",
                "--tms-epochs", "5", "--reps", "2", "--warmup", "0", "--baseline-reps", "1", "--skip", "numpy,experiment",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        assertEquals(8, root.size(), "the machine, p=7 core, p=7 with layer spectra, p=7 float32, TMS, settings");
        assertTrue(root.get("machine").asText().contains("cores"), root.get("machine").toString());
        root.properties().stream().filter(e -> e.getValue().isObject()).forEach(e -> {
            JsonNode c = e.getValue();
            assertTrue(c.get("medianMs").asDouble() > 0);
            assertTrue(c.get("baselineMedianMs").asDouble() > 0);
            // Same spectrum by both methods (top 50, or fewer when the kernel is smaller); float32 against float64
            // to its stated accuracy.
            double tol = e.getKey().endsWith("float32") ? 1e-4 : 1e-8;
            assertTrue(c.get("maxRelativeEigenvalueDifference").asDouble() < tol, e.getKey() + ": " + c);
        });
    }

    @Test
    void benchSolverRefusesADenseReferenceTheHeapCannotHold() {
        // p = 401: a 160,801-side kernel, about a terabyte formed; refused before any training starts.
        Run r = run("bench", "solver", "--p", "401", "--dense-max-side", "200000", "--tms-hidden", "4");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--dense-max-side") && r.err().contains("GB of heap")
                && r.err().contains("GROKWATCH_JAVA_OPTS"), r.err());
    }

    @Test
    void benchSolverRefusesANegativeWarmUp() {
        Run r = run("bench", "solver", "--p", "17", "--warm-up", "-1");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--warm-up must be >= 0"), r.err());
    }

    @Test
    void benchSolverRefusesANegativeWindowStart() {
        Run r = run("bench", "solver", "--p", "17", "--train-epochs", "5,-1");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--train-epochs and --tms-epochs must be one or more epochs >= 0"), r.err());
    }

    @Test
    void benchSolverTimesSeveralWindowsOfOneRunAndDrawsTheWarmGainAgainstTheStart() throws Exception {
        Path out = dir.resolve("windows.json");
        Run r = run("bench", "solver", "--p", "17", "--width", "16", "--train-epochs", "6,2", "--tms-hidden", "4",
                "--tms-epochs", "3,9", "--checkpoints", "2", "--every", "2", "--top-k", "20", "--no-analysis",
                "--warm-up", "0", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        assertEquals(1e-6, root.get("tolerance").asDouble(), 0.0);
        // Windows sorted by start, each a case of its own, keyed and labelled by its first epoch.
        java.util.Map<String, List<String>> expected = java.util.Map.of("p17-epoch2", List.of("epoch 2", "epoch 4"),
                "p17-epoch6", List.of("epoch 6", "epoch 8"), "tms-m4-epoch3", List.of("epoch 3", "epoch 5"),
                "tms-m4-epoch9", List.of("epoch 9", "epoch 11"));
        int warmCheckpoints = 0;
        for (var e : expected.entrySet()) {
            JsonNode rows = root.get(e.getKey());
            assertNotNull(rows, e.getKey() + " in " + root.fieldNames());
            java.util.Set<String> labels = new java.util.TreeSet<>();
            JsonNode previous = null;
            for (JsonNode row : rows) {
                labels.add(row.get("checkpoint").asText());
                assertTrue(row.get("case").asText().endsWith(" @" + e.getValue().get(0).substring(6)), row.toString());
                if (row.get("method").asText().equals("previous basis")) {
                    previous = row;
                }
            }
            assertEquals(new java.util.TreeSet<>(e.getValue()), labels, e.getKey());
            JsonNode s = root.get("summary").get(e.getKey());
            assertEquals(Integer.parseInt(e.getValue().get(0).substring(6)), s.get("firstEpoch").asInt(), s.toString());
            // One warm checkpoint per window: the summary's start is that checkpoint's previous-basis residual.
            assertNotNull(previous, e.getKey());
            assertEquals(previous.get("medianResidual").asDouble(), s.get("previousBasisMedianResidual").asDouble(),
                    0.0, s.toString());
            warmCheckpoints++;
        }
        Path svg = dir.resolve("warm.svg");
        String drawn = draw(svg, "plot_warm.py", svg.toString(), out.toString());
        // A filled (time) and a hollow (products) point per warm checkpoint, and each run with its windows.
        assertEquals(warmCheckpoints, java.util.regex.Pattern.compile("<circle[^>]*fill=\"none\"").matcher(drawn)
                .results().count(), drawn);
        assertEquals(2L * warmCheckpoints, java.util.regex.Pattern.compile("<circle").matcher(drawn).results().count());
        assertTrue(drawn.contains("p=17 (epochs 2, 6)") && drawn.contains("tms m=4 (epochs 3, 9)"), drawn);
        assertTrue(drawn.contains("tolerance 1e-06"), drawn);
    }

    @Test
    void benchSolverComparesColdWarmAndDenseForBothTasks() throws Exception {
        Path out = dir.resolve("solver.json");
        Run r = run("bench", "solver", "--p", "17", "--width", "16", "--train-epochs", "3", "--tms-hidden", "4",
                "--tms-epochs", "5", "--checkpoints", "2", "--top-k", "20", "--lobpcg", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode root = new ObjectMapper().readTree(out.toFile());
        // Which BLAS kernels produced the timings.
        assertTrue(root.get("machine").asText().contains("OpenBLAS"), root.toString());
        for (String c : List.of("p17", "tms-m4")) {
            java.util.Set<String> methods = new java.util.HashSet<>();
            root.get(c).forEach(row -> {
                String m = row.get("method").asText();
                methods.add(m);
                if (List.of("cold", "warm", "lobpcg cold", "lobpcg warm").contains(m)) {
                    // The stated tolerance, and agreement with the dense decomposition of the same kernel within
                    // the bound it implies (|lambda~ - lambda| <= ||r||, relative 1e-6).
                    assertTrue(row.get("residual").asDouble() <= 1e-6, row.toString());
                    assertTrue(row.get("maxRelativeEigenvalueDifference").asDouble() <= 1e-6, row.toString());
                    assertTrue(row.get("converged").asBoolean(), row.toString());
                }
                if (m.equals("previous basis")) {
                    // The warm start's quality: Ritz values of a nearby checkpoint's basis are close but not exact.
                    double median = row.get("medianResidual").asDouble();
                    assertTrue(median > 0 && median <= row.get("worstResidual").asDouble(), row.toString());
                    assertTrue(row.get("maxRelativeEigenvalueDifference").asDouble() < 0.5, row.toString());
                }
                assertTrue(row.get("peakHeapMb").asDouble() > 0, row.toString());
            });
            assertTrue(methods.containsAll(List.of("dense", "cold", "previous basis", "warm", "lobpcg cold",
                    "lobpcg warm", "analysis cold", "analysis warm")), c + ": " + methods);
        }
        for (String c : List.of("p17", "tms-m4")) {
            // The summary line's figures, for scripts: the warm speed-up is the median of per-checkpoint ratios.
            JsonNode s = root.get("summary").get(c);
            List<Double> ratios = new java.util.ArrayList<>();
            JsonNode rows = root.get(c);
            for (JsonNode warm : rows) {
                if (warm.get("method").asText().equals("warm")) {
                    for (JsonNode cold : rows) {
                        if (cold.get("method").asText().equals("cold")
                                && cold.get("checkpoint").equals(warm.get("checkpoint"))) {
                            ratios.add(cold.get("products").asDouble() / warm.get("products").asDouble());
                        }
                    }
                }
            }
            assertEquals(1, ratios.size(), c);
            assertEquals(ratios.get(0), s.get("warmProductRatio").asDouble(), 1e-12, c);
            assertTrue(s.get("warmSpeedup").asDouble() > 0 && s.get("coldMedianMs").asDouble() > 0
                    && s.get("analysisWarmMedianMs").asDouble() > 0, s.toString());
        }
        drawsTheBenchPicture(out, root);
    }

    /**
     * Runs one of the docs' picture scripts (docs/, python3 standard library) and returns the SVG it wrote to
     * {@code svg}; skipped where python3 is missing or the tests do not run from the cli module.
     */
    private static String draw(Path svg, String script, String... args) throws Exception {
        Path path = Path.of("..", "docs", script);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(path), "run from the cli module");
        List<String> command = new java.util.ArrayList<>(List.of("python3", path.toString()));
        command.addAll(List.of(args));
        Process python;
        try {
            python = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException noPython) {
            org.junit.jupiter.api.Assumptions.abort("python3 is not installed: " + noPython.getMessage());
            throw noPython;
        }
        String log = new String(python.getInputStream().readAllBytes());
        assertEquals(0, python.waitFor(), log);
        return Files.readString(svg);
    }

    /** docs/plot_bench.py reads what the bench wrote: every case, and its products per wanted pair. */
    private void drawsTheBenchPicture(Path bench, JsonNode root) throws Exception {
        Path svg = dir.resolve("bench.svg");
        String drawn = draw(svg, "plot_bench.py", bench.toString(), svg.toString());
        assertTrue(drawn.startsWith("<svg"), drawn);
        for (String c : List.of("p17", "tms-m4")) {
            JsonNode rows = root.get(c);
            assertTrue(drawn.contains(rows.get(0).get("case").asText()), c);
            int k = rows.get(0).get("k").asInt();
            List<Double> cold = new java.util.ArrayList<>();
            rows.forEach(row -> {
                if (row.get("method").asText().equals("cold")) {
                    cold.add(row.get("products").asDouble() / k);
                }
            });
            java.util.Collections.sort(cold);
            double median = cold.size() % 2 == 1 ? cold.get(cold.size() / 2)
                    : (cold.get(cold.size() / 2 - 1) + cold.get(cold.size() / 2)) / 2;
            assertTrue(drawn.contains(String.format(java.util.Locale.ROOT, ">%.2f<", median)), c + " " + median);
        }
    }

    @Test
    void theDemoSummarySaysWhetherTheAnalyzerKeptUpAndHowItWould() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String kept = DemoCommand.paceLine(json.readValue("""
                {"checkpointIntervalSeconds": 0.4, "serviceSeconds": 0.15, "load": 0.375, "analyzerLoad": 0.375,
                 "runsSharingTheAnalyzer": 1, "keepingUp": true, "lagGrowthSecondsPerCheckpoint": 0,
                 "epochsPerCheckpoint": 10, "epochsPerCheckpointToKeepUp": 4}
                """, SpectrumRecord.Pace.class));
        assertTrue(kept.endsWith("(load 0.38): the analyzer kept up"), kept);
        // p = 113 as streamed at full speed: a checkpoint every 0.7 s, 3.08 s per analysis.
        String outpaced = DemoCommand.paceLine(json.readValue("""
                {"checkpointIntervalSeconds": 0.7, "serviceSeconds": 3.08, "load": 4.4, "analyzerLoad": 4.4,
                 "runsSharingTheAnalyzer": 1, "keepingUp": false, "lagGrowthSecondsPerCheckpoint": 2.38,
                 "epochsPerCheckpoint": 10, "epochsPerCheckpointToKeepUp": 44}
                """, SpectrumRecord.Pace.class));
        assertTrue(outpaced.contains("the analyzer fell behind by 2.38 s per checkpoint"), outpaced);
        assertTrue(outpaced.contains("every 44 epochs or more") && outpaced.contains("--epoch-ms 308"), outpaced);
        String shared = DemoCommand.paceLine(json.readValue("""
                {"checkpointIntervalSeconds": 0.4, "serviceSeconds": 0.3, "load": 0.75, "analyzerLoad": 1.4,
                 "runsSharingTheAnalyzer": 3, "keepingUp": false, "lagGrowthSecondsPerCheckpoint": 0.16,
                 "epochsPerCheckpoint": 10, "epochsPerCheckpointToKeepUp": 14}
                """, SpectrumRecord.Pace.class));
        // 0.4 s per 10 epochs at total load 1.4: 56 ms per epoch brings the total to 1.
        assertTrue(shared.contains("(load 0.75; with the other runs it serves, 1.40)")
                && shared.contains("every 14 epochs") && shared.contains("--epoch-ms 56")
                && shared.endsWith("if the other runs slow as much"), shared);
    }

    @Test
    void replaySaysWhetherThisAnalyzerWouldHaveKeptUpWithTheRunLive() throws Exception {
        ObjectMapper json = new ObjectMapper();
        String would = ReplayCommand.paceLine(json.readValue("""
                {"checkpointIntervalSeconds": 3.5, "serviceSeconds": 2.6, "load": 0.743, "keepingUp": true,
                 "lagGrowthSecondsPerCheckpoint": 0, "epochsPerCheckpoint": 10, "epochsPerCheckpointToKeepUp": 8}
                """, SpectrumRecord.Pace.class));
        assertTrue(would.endsWith("(load 0.74): this analyzer would have kept up with it live"), would);
        String wouldNot = ReplayCommand.paceLine(json.readValue("""
                {"checkpointIntervalSeconds": 0.012, "serviceSeconds": 0.09, "load": 7.5, "keepingUp": false,
                 "lagGrowthSecondsPerCheckpoint": 0.078, "epochsPerCheckpoint": 1, "epochsPerCheckpointToKeepUp": 8}
                """, SpectrumRecord.Pace.class));
        assertTrue(wouldNot.contains("the lag would have grown by 0.08 s per checkpoint (it keeps up with a "
                + "checkpoint every 8 epochs or more)"), wouldNot);
    }
}

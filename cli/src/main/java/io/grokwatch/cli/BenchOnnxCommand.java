package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.entk.Entk;
import io.grokwatch.entk.GraphEntk;
import io.grokwatch.graph.GraphNetwork;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Precision;
import io.grokwatch.onnx.OnnxImport;
import io.grokwatch.probe.ModularAddition;
import io.grokwatch.safetensors.Safetensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code grokwatch bench onnx}: the class-mean eNTK of a 1-layer transformer on the modular-addition grid,
 * grokwatch against the paper's own method on CPU (functorch's vmap(jacrev) per-probe Jacobians, einsum,
 * eigh) in PyTorch, both in float64 on the same model, weights and probes, run one after the other here.
 */
@Command(name = "onnx", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time the class-mean eNTK spectrum of a 1-layer transformer (d_model 128, 4 heads, d_mlp 512) "
                + "on all p^2 token pairs: grokwatch reading the model as ONNX against functorch vmap(jacrev) + einsum "
                + "+ eigh in PyTorch (Debian's /usr/bin/python3 with python3-torch), both float64, and check that "
                + "their eigenvalues agree.",
                "Example: grokwatch bench onnx --p 13,17 --repeats 3 --out bench-onnx.json"})
final class BenchOnnxCommand implements Callable<Integer> {
    @Option(names = "--p", split = ",", description = "Moduli to measure. Default: ${DEFAULT-VALUE}.")
    List<Integer> moduli = List.of(13);
    @Option(names = "--top-k", description = "Eigenvalues compared. Default: ${DEFAULT-VALUE}.")
    int topK = 100;
    @Option(names = "--repeats", description = "Timed repeats of each side. Default: ${DEFAULT-VALUE}.")
    int repeats = 2;
    @Option(names = "--warm-up", description = "Untimed grokwatch analyses first: the analyzer is a long-running "
            + "process, so its steady state is what a run sees after the JIT has compiled the ops; the first "
            + "analysis, cold, is reported beside it. "
            + "Default: ${DEFAULT-VALUE}.")
    int warmUp = 10;
    @Option(names = "--python", description = "The Python with torch and functorch. Default: ${DEFAULT-VALUE}.")
    String python = "/usr/bin/python3";
    @Option(names = "--out", description = "Also write the figures as JSON.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (repeats < 1 || topK < 1 || warmUp < 0) {
            throw new IllegalArgumentException("--repeats and --top-k must be >= 1, --warm-up >= 0");
        }
        for (int p : moduli) {
            if (p < 2 || p > 97) {
                throw new IllegalArgumentException("--p must be in 2..97 (functorch holds every per-probe Jacobian), got " + p);
            }
        }
        Path work = Files.createTempDirectory("grokwatch-bench-onnx");
        Path script = work.resolve("functorch_entk.py");
        try (InputStream in = BenchOnnxCommand.class.getResourceAsStream("/bench/functorch_entk.py")) {
            Files.copy(in, script);
        }
        ObjectNode root = JsonFiles.object();
        ArrayNode cases = root.putArray("cases");
        Table t = new Table("p", "probes", "parameters", "functorch s", "grokwatch s", "speed-up", "grokwatch cold s",
                "max eig diff");
        for (int p : moduli) {
            Path dir = work.resolve("p" + p);
            System.out.printf("p = %d: functorch (%d repeats)...%n", p, repeats);
            JsonNode peer = runPeer(script, dir, p);
            GraphNetwork net = Checkpoints.bind(OnnxImport.toGraph(Files.readAllBytes(dir.resolve("model.onnx"))),
                    Safetensors.read(dir.resolve("weights.safetensors")));
            var probes = ModularAddition.tokens(p);
            System.out.printf("p = %d: grokwatch (%d warm-up + %d repeats)...%n", p, warmUp, repeats);
            double[] ours = new double[repeats];
            double cold = Double.NaN;
            Eigenpairs e = null;
            for (int r = -warmUp; r < repeats; r++) {
                long t0 = System.nanoTime();
                GraphEntk entk = new GraphEntk(net, probes, Runtime.getRuntime().availableProcessors(),
                        GraphEntk.DEFAULT_MAX_ENTRIES);
                e = entk.classMeanTop(Entk.ALL, topK, 0, Precision.FLOAT64);
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (r == -warmUp) {
                    cold = seconds; // the first analysis of a fresh process, JIT compilation included
                }
                if (r >= 0) {
                    ours[r] = seconds;
                }
            }
            double[] theirs = new double[peer.get("seconds").size()];
            for (int i = 0; i < theirs.length; i++) {
                theirs[i] = peer.get("seconds").get(i).asDouble();
            }
            double diff = 0;
            JsonNode pv = peer.get("eigenvalues");
            for (int i = 0; i < Math.min(pv.size(), e.values().length); i++) {
                diff = Math.max(diff, Math.abs(e.values()[i] - pv.get(i).asDouble()) / Math.abs(e.values()[0]));
            }
            double speedUp = median(theirs) / median(ours);
            t.row(p, probes.rows(), peer.get("parameters").asLong(), median(theirs), median(ours), speedUp, cold, diff);
            ObjectNode c = cases.addObject();
            c.put("p", p).put("probes", probes.rows()).put("parameters", peer.get("parameters").asLong())
                    .put("functorchMedianSeconds", median(theirs)).put("grokwatchMedianSeconds", median(ours))
                    .put("speedUp", speedUp).put("grokwatchColdSeconds", cold)
                    .put("maxEigenvalueDifferenceRelativeToTop", diff);
            JsonFiles.array(c, "functorchSeconds", theirs);
            JsonFiles.array(c, "grokwatchSeconds", ours);
        }
        System.out.print(t.render());
        System.out.println("(both float64, class-mean kernel of the whole model, top " + topK + " eigenvalues; "
                + "eigenvalue differences relative to the top eigenvalue)");
        if (out != null) {
            root.put("topK", topK).put("repeats", repeats).put("warmUp", warmUp).put("cores", Runtime.getRuntime().availableProcessors());
            JsonFiles.write(out, root);
            System.out.printf("wrote %s%n", out);
        }
        return 0;
    }

    private JsonNode runPeer(Path script, Path dir, int p) throws IOException, InterruptedException {
        Process proc = new ProcessBuilder(python, script.toString(), dir.toString(), Integer.toString(p),
                Integer.toString(topK), Integer.toString(repeats)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(proc.getInputStream().readAllBytes());
        if (!proc.waitFor(2, TimeUnit.HOURS) || proc.exitValue() != 0) {
            throw new IllegalStateException("the functorch peer failed for p = " + p + " (is python3-torch installed "
                    + "for " + python + "?): " + stdout);
        }
        String[] lines = stdout.trim().split("\n");
        return JsonFiles.MAPPER.readTree(lines[lines.length - 1]);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}

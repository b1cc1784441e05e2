package io.grokwatch.onnx;

import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.entk.Entk;
import io.grokwatch.entk.GraphEntk;
import io.grokwatch.graph.Graph;
import io.grokwatch.graph.GraphNetwork;
import io.grokwatch.graph.NdArray;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models built in PyTorch at test time (Debian's python3-torch and python3-onnx, which the README's test
 * command installs), exported to ONNX as a user would and perturbed: grokwatch's outputs and kernels (class
 * mean, flattened, per-class; every parameter group and the whole model) against PyTorch autograd in float64.
 * Tolerance: 1e-6 relative to the largest entry of each expected kernel (constants the exporter wrote in
 * float32, such as 1/sqrt(2) in GELU, move results by about 1e-8).
 */
class OnnxAutogradIT {
    static final double TOLERANCE = 1e-6;

    @TempDir
    static Path dir;

    @BeforeAll
    static void buildModelsInPyTorch() throws Exception {
        Path script = Path.of(OnnxAutogradIT.class.getResource("/onnx/autograd_oracle.py").toURI());
        Process p = new ProcessBuilder(python(), script.toString(), dir.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "oracle timed out");
        assertEquals(0, p.exitValue(), "autograd_oracle.py failed:\n" + log);
    }

    static String python() {
        return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
    }

    static Matrix probes(TensorFile f) {
        Tensor x = f.get("x");
        long[] s = x.shape();
        int n = (int) s[0];
        return new Matrix(n, x.size() / n, x.values().clone());
    }

    static Matrix matrix(TensorFile f, String name) {
        Tensor t = f.get(name);
        return new Matrix((int) t.shape()[0], (int) t.shape()[1], t.values().clone());
    }

    static double relativeError(Matrix expected, Matrix actual) {
        assertEquals(expected.rows(), actual.rows());
        assertEquals(expected.cols(), actual.cols());
        double scale = 0;
        double err = 0;
        for (int i = 0; i < expected.data().length; i++) {
            scale = Math.max(scale, Math.abs(expected.data()[i]));
            err = Math.max(err, Math.abs(expected.data()[i] - actual.data()[i]));
        }
        return err / Math.max(scale, 1e-300);
    }

    @ParameterizedTest
    @ValueSource(strings = {"paper_mlp", "mlp_relu", "mlp_gelu", "mlp_gelu_tanh", "mlp_tanh", "mlp_sigmoid",
            "mlp_silu", "mlp_float64", "embed_residual_ln14", "embed_residual_ln17", "transformer_torch",
            "transformer_torch_ln", "transformer_manual", "tms"})
    void kernelsAgreeWithAutograd(String name) throws IOException {
        Graph graph = OnnxImport.toGraph(Files.readAllBytes(dir.resolve(name + ".onnx")));
        TensorFile ckpt = Safetensors.read(Files.readAllBytes(dir.resolve(name + ".ckpt.safetensors")));
        TensorFile expected = Safetensors.read(Files.readAllBytes(dir.resolve(name + ".expected.safetensors")));
        Matrix x = probes(Safetensors.read(Files.readAllBytes(dir.resolve(name + ".probes.safetensors"))));
        GraphNetwork net = Checkpoints.bind(graph, ckpt);

        NdArray logits = net.forward(new NdArray(inputShape(graph, x), x.data().clone(), graph.input().integer()));
        Matrix expectedLogits = matrix(expected, "logits");
        double outErr = relativeError(expectedLogits, new Matrix(x.rows(), logits.size() / x.rows(), logits.data()));
        assertTrue(outErr < 1e-6, name + ": outputs differ from PyTorch by " + outErr);

        double worst = outErr;
        for (boolean factored : new boolean[] {true, false}) {
            GraphEntk entk = new GraphEntk(net, x, 2, GraphEntk.DEFAULT_MAX_ENTRIES, factored);
            worst = Math.max(worst, compare(name + (factored ? " (factored)" : " (per-probe gradients)"), entk, expected));
            if (factored) {
                System.out.printf("%s: %d parameters in %d groups, factored %s, batched passes %s; ops %s%n", name,
                        entk.parameterCount(Entk.ALL), entk.groups().size(), entk.factoredParameters(),
                        entk.batched(), graph.opTypes());
                // Batched passes serve graphs whose every parameter is factored, including nn.MultiheadAttention,
                // which works sequence-first and merges batch and heads into one axis.
                boolean allFactored = entk.factoredParameters().size() == net.parameters().size();
                assertEquals(allFactored, entk.batched(), name + ": batched passes");
                if (name.equals("transformer_torch")) {
                    assertTrue(entk.batched(), name + ": the attention export takes batched passes");
                }
            }
        }
        System.out.printf("%s: worst relative difference from autograd %.1e%n", name, worst);
    }

    /** Every kernel of every group against autograd; returns the worst relative difference. */
    static double compare(String name, GraphEntk entk, TensorFile expected) {
        List<String> groups = new ArrayList<>(List.of(expected.metadata().get("groups").split(",")));
        assertEquals(new java.util.TreeSet<>(groups), new java.util.TreeSet<>(entk.groups()), name + ": parameter groups");
        groups.add(Entk.ALL);
        double worst = 0;
        for (String g : groups) {
            String what = name + " group " + g;
            double cm = relativeError(matrix(expected, "classMean." + g), entk.classMean(g));
            assertTrue(cm < TOLERANCE, what + ": class-mean kernel off by " + cm);
            double fl = relativeError(matrix(expected, "flattened." + g), entk.flattened(g, null));
            assertTrue(fl < TOLERANCE, what + ": flattened kernel off by " + fl);
            double pc = relativeError(matrix(expected, "perClass." + g), entk.perClass(g, 0, 0));
            assertTrue(pc < TOLERANCE, what + ": per-class kernel off by " + pc);
            worst = Math.max(worst, Math.max(cm, Math.max(fl, pc)));
        }
        return worst;
    }

    static int[] inputShape(Graph graph, Matrix x) {
        long[] dims = graph.input().dims();
        int[] shape = new int[dims.length];
        shape[0] = x.rows();
        for (int i = 1; i < dims.length; i++) {
            shape[i] = (int) dims[i];
        }
        return shape;
    }
}

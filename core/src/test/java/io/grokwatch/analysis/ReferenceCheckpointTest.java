package io.grokwatch.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.features.Family;
import io.grokwatch.linalg.Precision;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.safetensors.Safetensors;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A checkpoint trained and analysed by the independent numpy reference (make_reference_checkpoint.py, p=29,
 * seed 0, epoch 100, mid-grokking): our spectra must agree with numpy's eigh.
 * Tolerances: eigenvalues 1e-6 relative (top 50, float64 both sides); overlaps and the gap 1e-6 absolute.
 * The float32 option is held to 1e-5 on the same quantities (measured: about 3e-7 on eigenvalues) and must
 * report a residual that shows its precision rather than float64's.
 */
class ReferenceCheckpointTest {
    private static final Path DIR = Path.of("src/test/resources/reference");

    @Test
    void spectraAndOverlapsMatchTheNumpyReference() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("ma_p29_seed0_epoch100.expected.json").toFile());
        ModelDescription model = ModelDescription.read(DIR.resolve("ma_p29_seed0_epoch100.model.json"));
        Network net = Checkpoints.bind(model, Safetensors.read(DIR.resolve("ma_p29_seed0_epoch100.safetensors")));
        ModularAdditionAnalyzer.Result r = new ModularAdditionAnalyzer(29, 200, true).analyze(net);

        check(expected.get("all"), r.all(), "all");
        for (String layer : List.of("net.0", "net.3")) {
            check(expected.get(layer), r.layers().get(layer), layer);
        }
    }

    @Test
    void withoutLayerSpectraTheKernelFormedFromItsTermsMatchesTooOnEitherThreading() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("ma_p29_seed0_epoch100.expected.json").toFile());
        ModelDescription model = ModelDescription.read(DIR.resolve("ma_p29_seed0_epoch100.model.json"));
        Network net = Checkpoints.bind(model, Safetensors.read(DIR.resolve("ma_p29_seed0_epoch100.safetensors")));
        SpectrumSummary withLayers = new ModularAdditionAnalyzer(29, 200, true).analyze(net).all();
        for (ModularAdditionAnalyzer a : List.of(new ModularAdditionAnalyzer(29, 200, false),
                ModularAdditionAnalyzer.onCallerThread(29, 200, false, Precision.FLOAT64))) {
            SpectrumSummary all = a.analyze(net).all();
            check(expected.get("all"), all, "all, no layer spectra");
            assertEquals(SolveInfo.DENSE, all.solve().start());
            // The same float64 dense decomposition of the same kernel, summed in another order: rounding apart.
            for (int i = 0; i < 200; i++) {
                assertEquals(withLayers.eigenvalues()[i], all.eigenvalues()[i], 1e-12 * withLayers.eigenvalues()[0],
                        "eigenvalue " + i);
            }
        }
    }

    @Test
    void float32DecompositionsStayWithinTheirStatedError() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("ma_p29_seed0_epoch100.expected.json").toFile());
        ModelDescription model = ModelDescription.read(DIR.resolve("ma_p29_seed0_epoch100.model.json"));
        Network net = Checkpoints.bind(model, Safetensors.read(DIR.resolve("ma_p29_seed0_epoch100.safetensors")));
        ModularAdditionAnalyzer.Result r = new ModularAdditionAnalyzer(29, 200, true, 2, Precision.FLOAT32).analyze(net);

        check(expected.get("all"), r.all(), "all (float32)", 1e-5);
        for (String layer : List.of("net.0", "net.3")) {
            check(expected.get(layer), r.layers().get(layer), layer + " (float32)", 1e-5);
        }
        assertEquals(Precision.FLOAT32, r.all().solve().precision());
        // The residual is measured against the float64 kernel: single precision shows, double's would be ~1e-15.
        assertTrue(r.all().residual() > 1e-10 && r.all().residual() < 1e-5, "float32 residual " + r.all().residual());
    }

    private static void check(JsonNode exp, SpectrumSummary got, String what) {
        check(exp, got, what, 1e-6);
    }

    private static void check(JsonNode exp, SpectrumSummary got, String what, double tol) {
        JsonNode ev = exp.get("eigenvalues");
        for (int i = 0; i < 50; i++) {
            double e = ev.get(i).asDouble();
            assertEquals(e, got.eigenvalues()[i], tol * Math.abs(e), what + " eigenvalue " + i);
        }
        for (String cliff : List.of("firstCliff", "secondCliff")) {
            Map<Family, Double> ov = got.overlaps().get(cliff);
            for (Family f : Family.values()) {
                assertEquals(exp.get(cliff).get(f.label()).asDouble(), ov.get(f), tol, what + " " + cliff + " " + f);
            }
        }
        assertEquals(exp.get("endOfSecondCliff").asDouble(), got.gaps().get("endOfSecondCliff"), tol,
                what + " end-of-second-cliff gap");
    }
}

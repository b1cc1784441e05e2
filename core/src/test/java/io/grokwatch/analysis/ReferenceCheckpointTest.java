package io.grokwatch.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.features.Family;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.safetensors.Safetensors;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A checkpoint trained and analysed by the independent numpy reference (make_reference_checkpoint.py, p=29,
 * seed 0, epoch 100, mid-grokking): our spectra must agree with numpy's eigh.
 * Tolerances: eigenvalues 1e-6 relative (top 50, float64 both sides); overlaps and the gap 1e-6 absolute.
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

    private static void check(JsonNode exp, SpectrumSummary got, String what) {
        JsonNode ev = exp.get("eigenvalues");
        for (int i = 0; i < 50; i++) {
            double e = ev.get(i).asDouble();
            assertEquals(e, got.eigenvalues()[i], 1e-6 * Math.abs(e), what + " eigenvalue " + i);
        }
        for (String cliff : List.of("firstCliff", "secondCliff")) {
            Map<Family, Double> ov = got.overlaps().get(cliff);
            for (Family f : Family.values()) {
                assertEquals(exp.get(cliff).get(f.label()).asDouble(), ov.get(f), 1e-6, what + " " + cliff + " " + f);
            }
        }
        assertEquals(exp.get("endOfSecondCliff").asDouble(), got.gaps().get("endOfSecondCliff"), 1e-6,
                what + " end-of-second-cliff gap");
    }
}

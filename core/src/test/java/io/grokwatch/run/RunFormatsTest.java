package io.grokwatch.run;

import io.grokwatch.entk.KernelKind;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.model.Parameters;
import io.grokwatch.safetensors.Safetensors;
import io.grokwatch.safetensors.TensorFile;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunFormatsTest {

    static RunDescriptor modularAdditionRun(String id) {
        return new RunDescriptor(id, ModelDescription.modularAddition(29, 512),
                ProbeSource.generator("modular-addition:p=29"), RunDescriptor.AnalysisSettings.classMean(200), 10,
                Map.of("name", "modular-addition", "p", "29"));
    }

    @Test
    void descriptorRoundTripsThroughJson() {
        RunDescriptor d = modularAdditionRun("ma-p29-s0");
        RunDescriptor back = RunDescriptor.parse(d.toBytes());
        assertEquals(d, back);
        assertEquals(Optional.of(29), back.probe().modularAdditionP());

        Matrix x = new Matrix(3, 2, new double[] {1, 0, 0, 1, 0.5, 0.5});
        RunDescriptor inline = new RunDescriptor("ext_1", ModelDescription.tms(2), ProbeSource.inline(x),
                new RunDescriptor.AnalysisSettings(KernelKind.FLATTENED, 5, false, Optional.of(0.8), 0.33, 0), 1, Map.of());
        RunDescriptor inlineBack = RunDescriptor.parse(inline.toBytes());
        assertEquals(inline, inlineBack);
        assertEquals(0.5, inlineBack.probe().inputs().get(2, 1));
        assertTrue(inlineBack.probe().families().isEmpty());

        RunDescriptor f32 = d.withPrecision(io.grokwatch.linalg.Precision.FLOAT32);
        assertEquals(io.grokwatch.linalg.Precision.FLOAT32, RunDescriptor.parse(f32.toBytes()).analysis().precision());
        // Descriptors written before the field existed mean float64.
        String old = new String(d.toBytes()).replace(",\"precision\":\"float64\"", "");
        assertTrue(!old.contains("precision"));
        assertEquals(io.grokwatch.linalg.Precision.FLOAT64, RunDescriptor.parse(old).analysis().precision());
    }

    @Test
    void badDescriptorsNameTheField() {
        String ok = new String(modularAdditionRun("a").toBytes());
        assertTrue(assertThrows(RunFormatException.class, () -> RunDescriptor.parse("{"))
                .getMessage().startsWith("run descriptor is not valid JSON"));
        assertTrue(assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("\"a\"", "\"a b\"")))
                .getMessage().contains("\"runId\""));
        assertTrue(assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("modular-addition:p=29",
                "spiral:n=3"))).getMessage().startsWith("\"probe.generator\": unknown probe generator 'spiral'"));
        assertTrue(assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("\"class-mean\"",
                "\"diagonal\""))).getMessage().startsWith("\"analysis.kernel\": unknown kernel kind 'diagonal'"));
        assertTrue(assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("\"square\"",
                "\"cube\""))).getMessage().startsWith("\"model\": op 2 (cube): unknown op 'cube'"));
        assertTrue(assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("\"topK\":200",
                "\"topK\":0"))).getMessage().contains("\"analysis.topK\""));
        assertEquals("\"analysis.precision\": unknown precision 'half'; allowed: float64, float32",
                assertThrows(RunFormatException.class, () -> RunDescriptor.parse(ok.replace("\"float64\"",
                        "\"half\""))).getMessage());
    }

    @Test
    void checkpointRecordsCarryStepEpochAndMetrics() {
        Parameters p = new Parameters().putMatrix("W", new Matrix(2, 3, new double[] {1, 2, 3, 4, 5, 6}))
                .putVector("b", new double[] {0.5, -0.5, 0});
        CheckpointMetadata meta = CheckpointMetadata.of(120, 12).withMetrics(0.1, 0.2, 1.0, Double.NaN);
        CheckpointRecord r = CheckpointRecord.decode(CheckpointRecord.encode(p, meta));
        assertEquals(120, r.metadata().step());
        assertEquals(12, r.metadata().epoch());
        assertEquals(0.2, r.metadata().testLoss());
        assertTrue(Double.isNaN(r.metadata().testAccuracy()));
        assertEquals(6.0, r.weights().get("W").get(1, 2));

        TensorFile noStep = TensorFile.builder().add(r.weights().get("W")).metadata("epoch", "3").build();
        assertTrue(assertThrows(RunFormatException.class, () -> CheckpointRecord.decode(Safetensors.write(noStep)))
                .getMessage().startsWith("checkpoint metadata has no 'step'"));
        assertEquals(7, CheckpointMetadata.fromMap(Map.of("step", "7")).epoch(), "epoch defaults to the step");
        assertThrows(RunFormatException.class, () -> CheckpointMetadata.fromMap(Map.of("step", "-1")));
        assertThrows(RunFormatException.class, () -> CheckpointMetadata.fromMap(Map.of("step", "1", "trainLoss", "x")));
    }

    @Test
    void runAnalyzerGivesTheExperimentFieldsAndIsDeterministic() throws Exception {
        Path dir = Path.of("src/test/resources/reference");
        TensorFile weights = Safetensors.read(dir.resolve("ma_p29_seed0_epoch100.safetensors"));
        try (RunAnalyzer a = new RunAnalyzer(modularAdditionRun("ma"))) {
            RunAnalyzer.Analysis first = a.analyze(weights);
            RunAnalyzer.Analysis again = a.analyze(weights);
            // Replay must reproduce results: the same checkpoint gives the same numbers to 1e-9 relative (LAPACK
            // may round the last bits differently from one call to the next; 1e-12 absolute near zero).
            io.grokwatch.testing.JsonCompare.assertClose(tree(first), tree(again), 1e-9, 1e-12,
                    java.util.Set.of("residual"));
            assertEquals(200, first.spectrum().eigenvalues().length);
            assertTrue(first.spectrum().overlap("secondCliff", "sum") > 0.8);
            assertTrue(first.layers().containsKey("net.0"));
        }
        TensorFile wrong = TensorFile.builder().add(weights.get("net.0.weight")).build();
        try (RunAnalyzer a = new RunAnalyzer(modularAdditionRun("ma"))) {
            assertTrue(assertThrows(ModelFormatException.class, () -> a.analyze(wrong)).getMessage()
                    .contains("'net.3.weight' is missing"));
        }
    }

    /** An analysis' spectra as the spectra topic's JSON, to compare field by field. */
    private static com.fasterxml.jackson.databind.JsonNode tree(RunAnalyzer.Analysis a) {
        return io.grokwatch.records.WireJson.MAPPER.valueToTree(a.record("run", new CheckpointMetadata(1, 1,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN), 0).withTimings(null));
    }
}

package io.grokwatch.run;

import io.grokwatch.features.HeldOutConfidence;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;
import io.grokwatch.probe.TrainSplit;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SplitDescriptorTest {
    private static RunDescriptor withSplit(TrainSplit split) {
        return new RunDescriptor("ma-split", ModelDescription.modularAddition(5, 8),
                ProbeSource.generator("modular-addition:p=5").withSplit(split),
                RunDescriptor.AnalysisSettings.classMean(10), 10, Map.of());
    }

    @Test
    void theSplitRoundTripsAndOldDescriptorsHaveNone() {
        RunDescriptor d = withSplit(new TrainSplit(new int[] {0, 3, 7, 11}, new int[] {0, 3, 2, 1}, 25));
        RunDescriptor back = RunDescriptor.parse(d.toBytes());
        assertEquals(d, back);
        assertEquals(4, back.probe().split().orElseThrow().train().length);
        assertFalse(RunFormatsTest.modularAdditionRun("x").probe().split().isPresent());
    }

    @Test
    void aHalfDeclaredSplitIsRejectedNamingBothKeys() {
        String json = new String(withSplit(new TrainSplit(new int[] {1}, new int[] {1}, 25)).toBytes(),
                StandardCharsets.UTF_8).replaceFirst(",\\s*\"labels\"\\s*:\\s*\\[1\\]", "");
        RunFormatException e = assertThrows(RunFormatException.class,
                () -> RunDescriptor.parse(json.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("\"probe.train\" and \"probe.labels\" go together"), e.getMessage());
    }

    @Test
    void signalsAreComputedOnTheDeclaredRows() {
        int p = 5;
        SplittableRandom rng = new SplittableRandom(1);
        double[] w1 = new double[8 * 2 * p];
        double[] w2 = new double[p * 8];
        for (int i = 0; i < w1.length; i++) {
            w1[i] = rng.nextGaussian();
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] = rng.nextGaussian();
        }
        Network net = new Network(ModelDescription.modularAddition(p, 8), new Parameters()
                .put("net.0.weight", new long[] {8, 2 * p}, w1).put("net.3.weight", new long[] {p, 8}, w2));
        int[] labels = ModularAddition.labels(p);
        int[] train = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18};
        int[] y = new int[train.length];
        for (int i = 0; i < train.length; i++) {
            y[i] = labels[train[i]];
        }
        TrainSplit split = new TrainSplit(train, y, p * p);
        SplitSignals s = SplitSignals.of(net, ModularAddition.inputs(p), split);
        assertEquals(HeldOutConfidence.ratio(net.output(ModularAddition.inputs(p)), split.mask()),
                s.heldOutConfidence(), 0.0);
        assertTrue(s.labelAlignment() > -1 && s.labelAlignment() < 1, "alignment " + s.labelAlignment());
        TrainSplit tooManyClasses = new TrainSplit(new int[] {0, 1}, new int[] {0, 9}, p * p);
        assertThrows(io.grokwatch.model.ModelFormatException.class,
                () -> SplitSignals.of(net, ModularAddition.inputs(p), tooManyClasses));
    }

    @Test
    void aProbeFileCarriesItsSplitInTensorsTrainAndLabels() {
        io.grokwatch.safetensors.Tensor x = io.grokwatch.safetensors.Tensor.f64("x", new long[] {4, 2},
                new double[] {1, 0, 0, 1, 1, 1, 0, 0});
        io.grokwatch.safetensors.Tensor train = io.grokwatch.safetensors.Tensor.f64("train", new long[] {4},
                new double[] {1, 0, 1, 0});
        io.grokwatch.safetensors.Tensor labels = io.grokwatch.safetensors.Tensor.f64("labels", new long[] {4},
                new double[] {1, -1, 0, -1});
        byte[] file = io.grokwatch.safetensors.Safetensors.write(
                io.grokwatch.safetensors.TensorFile.of(x, train, labels));
        ProbeSource p = ProbeSource.inline(file);
        TrainSplit split = p.split().orElseThrow();
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {0, 2}, split.train());
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {1, 0}, split.labels());

        byte[] half = io.grokwatch.safetensors.Safetensors.write(io.grokwatch.safetensors.TensorFile.of(x, train));
        RunFormatException e = assertThrows(RunFormatException.class, () -> ProbeSource.inline(half));
        assertTrue(e.getMessage().contains("'train' and 'labels' go together"), e.getMessage());
        io.grokwatch.safetensors.Tensor badLabel = io.grokwatch.safetensors.Tensor.f64("labels", new long[] {4},
                new double[] {-1, 0, 0, 0});
        byte[] bad = io.grokwatch.safetensors.Safetensors.write(
                io.grokwatch.safetensors.TensorFile.of(x, train, badLabel));
        RunFormatException be = assertThrows(RunFormatException.class, () -> ProbeSource.inline(bad));
        assertTrue(be.getMessage().contains("at probe 0"), be.getMessage());
    }
}

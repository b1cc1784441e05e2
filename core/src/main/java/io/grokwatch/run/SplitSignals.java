package io.grokwatch.run;

import io.grokwatch.entk.Entk;
import io.grokwatch.features.HeldOutConfidence;
import io.grokwatch.features.KernelTargetAlignment;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Network;
import io.grokwatch.probe.TrainSplit;

/**
 * The checkpoint signals a run's train split allows, for the family-free onset detector: held-out confidence of the
 * model's outputs and the label alignment of its whole-model class-mean eNTK on (at most
 * {@link #ALIGNMENT_PROBES} evenly spaced) training probes.
 *
 * @param heldOutConfidence {@link HeldOutConfidence#ratio}, NaN when unknown
 * @param labelAlignment    {@link KernelTargetAlignment#of}, NaN when unknown
 */
public record SplitSignals(double heldOutConfidence, double labelAlignment) {
    /** No split declared (or a model the signals do not support yet: ONNX graphs). */
    public static final SplitSignals NONE = new SplitSignals(Double.NaN, Double.NaN);
    /** The alignment's kernel is formed on at most this many training probes (its cost grows with the square). */
    public static final int ALIGNMENT_PROBES = 600;

    public static SplitSignals of(Network net, Matrix probes, TrainSplit split) {
        if (split.probes() != probes.rows()) {
            throw new IllegalArgumentException("the split is for " + split.probes() + " probes, got " + probes.rows());
        }
        if (net.outputs() < 2) {
            return NONE;
        }
        int classes = net.outputs();
        if (split.classes() > classes) {
            throw new io.grokwatch.model.ModelFormatException("\"probe.labels\" go up to " + (split.classes() - 1)
                    + " but the model has " + classes + " outputs");
        }
        double confidence = HeldOutConfidence.ratio(net.output(probes), split.mask());
        int[] positions = split.evenlySpaced(ALIGNMENT_PROBES);
        int[] train = split.train();
        int[] labels = split.labels();
        Matrix rows = new Matrix(positions.length, probes.cols());
        int[] y = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            System.arraycopy(probes.data(), train[positions[i]] * probes.cols(), rows.data(), i * probes.cols(),
                    probes.cols());
            y[i] = labels[positions[i]];
        }
        double alignment = positions.length >= 2
                ? KernelTargetAlignment.of(new Entk(net, rows).classMean(Entk.ALL), y, classes) : Double.NaN;
        return new SplitSignals(confidence, alignment);
    }
}

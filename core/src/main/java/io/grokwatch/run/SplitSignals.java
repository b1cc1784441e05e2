package io.grokwatch.run;

import io.grokwatch.entk.Entk;
import io.grokwatch.features.HeldOutConfidence;
import io.grokwatch.features.KernelRegressionConfidence;
import io.grokwatch.features.KernelTargetAlignment;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.Network;
import io.grokwatch.probe.TrainSplit;

/**
 * The checkpoint signals a run's train split allows, for the family-free onset detector. The whole-model class-mean
 * eNTK is formed on at most {@link #KERNEL_TRAIN} training and {@link #KERNEL_HELD_OUT} held-out probes, evenly
 * spaced (the kernel's cost grows with the square of its side).
 *
 * @param heldOutConfidence {@link HeldOutConfidence#ratio} of the model's outputs on every probe, NaN when unknown
 * @param kernelConfidence  {@link KernelRegressionConfidence} of the eNTK with ridge {@link #RIDGE}, NaN when unknown
 * @param labelAlignment    {@link KernelTargetAlignment} of the eNTK on its training probes, NaN when unknown
 */
public record SplitSignals(double heldOutConfidence, double kernelConfidence, double labelAlignment) {
    /** No split declared. */
    public static final SplitSignals NONE = new SplitSignals(Double.NaN, Double.NaN, Double.NaN);
    public static final int KERNEL_TRAIN = 600;
    public static final int KERNEL_HELD_OUT = 400;
    /**
     * Relative ridge of the kernel regression: small enough that the regression fits the training labels (training
     * margins near 1), large enough to keep the solve stable when the kernel is near singular.
     */
    public static final double RIDGE = 1e-3;

    /** What the signals need of a model: its outputs on probes and its whole-model class-mean eNTK on some. */
    public interface Model {
        /** Classes (outputs per probe). */
        int classes();

        /** N x classes. */
        Matrix outputs(Matrix probes);

        /** The whole-model class-mean eNTK on {@code rows}. */
        Matrix kernel(Matrix rows);

        /** A sequential model ({@code grokwatch.model/v1}). */
        static Model of(Network net) {
            return new Model() {
                @Override
                public int classes() {
                    return net.outputs();
                }

                @Override
                public Matrix outputs(Matrix probes) {
                    return net.output(probes);
                }

                @Override
                public Matrix kernel(Matrix rows) {
                    return new Entk(net, rows).classMean(Entk.ALL);
                }
            };
        }

        /** An ONNX graph; its kernel is computed on {@code threads} threads. */
        static Model of(io.grokwatch.graph.GraphNetwork graph, int classes, int threads) {
            return new Model() {
                @Override
                public int classes() {
                    return classes;
                }

                @Override
                public Matrix outputs(Matrix probes) {
                    return io.grokwatch.entk.GraphEntk.outputs(graph, probes);
                }

                @Override
                public Matrix kernel(Matrix rows) {
                    return new io.grokwatch.entk.GraphEntk(graph, rows, threads,
                            io.grokwatch.entk.GraphEntk.DEFAULT_MAX_ENTRIES).classMean(Entk.ALL);
                }
            };
        }
    }

    public static SplitSignals of(Network net, Matrix probes, TrainSplit split) {
        return of(Model.of(net), probes, split);
    }

    public static SplitSignals of(Model model, Matrix probes, TrainSplit split) {
        if (split.probes() != probes.rows()) {
            throw new IllegalArgumentException("the split is for " + split.probes() + " probes, got " + probes.rows());
        }
        if (model.classes() < 2) {
            return NONE;
        }
        int classes = model.classes();
        if (split.classes() > classes) {
            throw new io.grokwatch.model.ModelFormatException("\"probe.labels\" go up to " + (split.classes() - 1)
                    + " but the model has " + classes + " outputs");
        }
        boolean[] mask = split.mask();
        double confidence = HeldOutConfidence.ratio(model.outputs(probes), mask);

        int[] train = split.train();
        int[] labels = split.labels();
        int[] trainPositions = split.evenlySpaced(KERNEL_TRAIN);
        int[] heldOut = new int[probes.rows() - train.length];
        int h = 0;
        for (int i = 0; i < mask.length; i++) {
            if (!mask[i]) {
                heldOut[h++] = i;
            }
        }
        int heldTake = Math.min(KERNEL_HELD_OUT, heldOut.length);
        int side = trainPositions.length + heldTake;
        Matrix rows = new Matrix(side, probes.cols());
        int[] y = new int[trainPositions.length];
        boolean[] kernelTrain = new boolean[side];
        for (int i = 0; i < trainPositions.length; i++) {
            copyRow(probes, train[trainPositions[i]], rows, i);
            y[i] = labels[trainPositions[i]];
            kernelTrain[i] = true;
        }
        for (int k = 0; k < heldTake; k++) {
            copyRow(probes, heldOut[(int) ((long) k * heldOut.length / heldTake)], rows, trainPositions.length + k);
        }
        Matrix kernel = model.kernel(rows);
        double kernelConfidence = KernelRegressionConfidence.of(kernel, kernelTrain, y, classes, RIDGE);
        double alignment = Double.NaN;
        if (y.length >= 2) {
            Matrix block = new Matrix(y.length, y.length);
            for (int i = 0; i < y.length; i++) {
                System.arraycopy(kernel.data(), i * side, block.data(), i * y.length, y.length);
            }
            alignment = KernelTargetAlignment.of(block, y, classes);
        }
        return new SplitSignals(confidence, kernelConfidence, alignment);
    }

    /** These signals as the spectra topic carries them. */
    public io.grokwatch.records.SpectrumRecord.Split toRecord() {
        return new io.grokwatch.records.SpectrumRecord.Split(heldOutConfidence, kernelConfidence, labelAlignment);
    }

    private static void copyRow(Matrix from, int row, Matrix to, int at) {
        System.arraycopy(from.data(), row * from.cols(), to.data(), at * to.cols(), from.cols());
    }
}

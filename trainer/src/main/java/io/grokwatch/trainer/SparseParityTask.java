package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Op;
import io.grokwatch.model.Parameters;

import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Sparse parity (Barak et al. 2022): inputs uniform in {@code {-1, +1}^n}, label 1 when the product of the first
 * {@code k} coordinates is -1 (an odd number of -1 among them), else 0. A one-hidden-layer ReLU MLP
 * {@code f(x) = W2 relu(W1 x + b1) + b2} with two outputs, trained full batch with AdamW on MSE to the one-hot
 * labels of a fixed training set; the test set is drawn from the same distribution. With enough weight decay the
 * network first memorises the training set and later finds the k relevant bits: it groks.
 */
public final class SparseParityTask extends FullBatchTask {
    public static final String W1 = "net.0.weight";
    public static final String B1 = "net.0.bias";
    public static final String W2 = "net.2.weight";
    public static final String B2 = "net.2.bias";

    /**
     * @param bits        input length n, {@code >= k}
     * @param k           relevant bits, {@code >= 1}
     * @param trainSize   training samples, {@code >= 2}
     * @param testSize    test samples, {@code >= 1}
     * @param width       hidden width, {@code >= 1}
     * @param lr          AdamW learning rate, {@code > 0}
     * @param weightDecay decoupled weight decay, {@code >= 0}
     * @param epochs      full-batch epochs, {@code >= 0}
     * @param seed        seeds the data and the initialisation
     */
    public record Config(int bits, int k, int trainSize, int testSize, int width, double lr, double weightDecay,
                         int epochs, long seed) {
        public Config {
            if (k < 1 || bits < k) {
                throw new IllegalArgumentException("need 1 <= k <= bits, got k=" + k + " bits=" + bits);
            }
            if (trainSize < 2 || testSize < 1) {
                throw new IllegalArgumentException("need >= 2 training and >= 1 test samples, got " + trainSize
                        + " and " + testSize);
            }
            if (width < 1) {
                throw new IllegalArgumentException("width must be >= 1, got " + width);
            }
            if (!(lr > 0) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException("lr must be a finite number > 0, got " + lr);
            }
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                throw new IllegalArgumentException("weight decay must be a finite number >= 0, got " + weightDecay);
            }
            if (epochs < 0) {
                throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
            }
        }
    }

    private final Config config;
    private final Matrix trainInputs;
    private final int[] trainLabels;
    private final Matrix trainTargets;
    private final Matrix testInputs;
    private final int[] testLabels;

    private SparseParityTask(Config config, Matrix trainInputs, int[] trainLabels, Matrix testInputs,
                             int[] testLabels, Parameters initial) {
        super(model(config.bits(), config.width()), initial, AdamW.withDefaults(config.lr(), config.weightDecay()),
                config.epochs());
        this.config = config;
        this.trainInputs = trainInputs;
        this.trainLabels = trainLabels;
        this.testInputs = testInputs;
        this.testLabels = testLabels;
        this.trainTargets = new Matrix(trainLabels.length, 2);
        for (int i = 0; i < trainLabels.length; i++) {
            trainTargets.set(i, trainLabels[i], 1.0);
        }
    }

    /** {@code W2 relu(W1 x + b1) + b2}, two outputs. */
    public static ModelDescription model(int bits, int width) {
        return new ModelDescription(bits, List.of(
                new Op.Linear(W1, Optional.of(B1), false),
                new Op.Relu(),
                new Op.Linear(W2, Optional.of(B2), false)));
    }

    /** Seeded samples and a PyTorch-style uniform initialisation ({@code +-1/sqrt(fan_in)}). */
    public static SparseParityTask create(Config config) {
        SplittableRandom rng = new SplittableRandom(config.seed());
        Matrix train = signs(config.trainSize(), config.bits(), rng);
        Matrix test = signs(config.testSize(), config.bits(), rng);
        int h = config.width();
        int n = config.bits();
        Parameters init = new Parameters()
                .put(W1, new long[] {h, n}, uniform(h * n, 1 / Math.sqrt(n), rng))
                .putVector(B1, uniform(h, 1 / Math.sqrt(n), rng))
                .put(W2, new long[] {2, h}, uniform(2 * h, 1 / Math.sqrt(h), rng))
                .putVector(B2, uniform(2, 1 / Math.sqrt(h), rng));
        return new SparseParityTask(config, train, labels(train, config.k()), test, labels(test, config.k()), init);
    }

    public Config config() {
        return config;
    }

    /** Training inputs, one row per sample; a copy. */
    public Matrix trainInputs() {
        return trainInputs.copy();
    }

    /** Training labels (0 or 1); a copy. */
    public int[] trainLabels() {
        return trainLabels.clone();
    }

    /** Test inputs; a copy. */
    public Matrix testInputs() {
        return testInputs.copy();
    }

    /** 1 when the first k coordinates hold an odd number of -1, else 0. */
    public static int[] labels(Matrix x, int k) {
        int[] y = new int[x.rows()];
        for (int i = 0; i < x.rows(); i++) {
            int negatives = 0;
            for (int j = 0; j < k; j++) {
                negatives += x.get(i, j) < 0 ? 1 : 0;
            }
            y[i] = negatives % 2;
        }
        return y;
    }

    @Override
    public LossGradient lossAndGradient(Parameters params) {
        Network net = new Network(description(), params);
        return meanSquaredError(net, net.forward(trainInputs), trainTargets);
    }

    @Override
    public TrainingMetrics evaluate(Parameters params) {
        Network net = new Network(description(), params);
        double[] train = lossAndAccuracy(net.output(trainInputs), trainLabels);
        double[] test = lossAndAccuracy(net.output(testInputs), testLabels);
        return new TrainingMetrics(train[0], test[0], train[1], test[1]);
    }

    private static double[] lossAndAccuracy(Matrix out, int[] labels) {
        double sum = 0;
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            double a = out.get(i, 0);
            double b = out.get(i, 1);
            double ra = a - (labels[i] == 0 ? 1 : 0);
            double rb = b - (labels[i] == 1 ? 1 : 0);
            sum += ra * ra + rb * rb;
            correct += (b > a ? 1 : 0) == labels[i] ? 1 : 0;
        }
        return new double[] {sum / (2.0 * labels.length), (double) correct / labels.length};
    }

    private static Matrix signs(int rows, int cols, SplittableRandom rng) {
        Matrix x = new Matrix(rows, cols);
        double[] d = x.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = rng.nextBoolean() ? 1.0 : -1.0;
        }
        return x;
    }

    private static double[] uniform(int size, double bound, SplittableRandom rng) {
        double[] d = new double[size];
        for (int i = 0; i < size; i++) {
            d[i] = (2 * rng.nextDouble() - 1) * bound;
        }
        return d;
    }
}

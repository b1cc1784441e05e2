package io.grokwatch.trainer;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.probe.ModularAddition;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The grokking experiment (the paper's first; docs/science.md): {@code f(x) = (1/H) W2 ((W1 x / sqrt(2p))^2)} on all
 * {@code p^2} pairs {@code (a, b)}, a seeded random train/test split, MSE on one-hot targets (mean over all
 * {@code N_train * p} entries), full-batch AdamW with betas (0.9, 0.999) and eps 1e-8.
 *
 * <p>Sample order is that of {@link ModularAddition#inputs(int)}: row {@code a*p + b}. The split takes the
 * first {@code floor(p^2 * alpha)} entries of a seeded permutation as training samples, as the numpy
 * reference does (with a different random stream).
 */
public final class ModularAdditionTask extends FullBatchTask {
    public static final String W1 = "net.0.weight";
    public static final String W2 = "net.3.weight";

    private final Config config;
    private final Matrix inputs;
    private final int[] labels;
    private final int[] train;
    private final int[] test;
    private final Matrix trainInputs;
    private final Matrix trainTargets;
    // Training inputs in compressed sparse rows: row r's non-zeros are sparseStart[r] .. sparseStart[r+1]-1.
    private final int[] sparseStart;
    private final int[] sparseColumn;
    private final double[] sparseValue;
    private Workspace work;

    /**
     * Hyper-parameters, validated on construction; messages name the key as in {@link #fromMap}.
     *
     * @param p           modulus, {@code >= 2} (key {@code p}, default 29)
     * @param width       hidden width H, {@code > 0} (key {@code width}, default 512)
     * @param alpha       training fraction, in (0, 1) (key {@code alpha}, default 0.7)
     * @param lr          AdamW learning rate, {@code > 0} (key {@code lr}, default 0.05)
     * @param weightDecay decoupled weight decay, {@code >= 0} (key {@code weight-decay}, default 0.01)
     * @param epochs      full-batch epochs, {@code >= 0} (key {@code epochs}, default 500)
     * @param seed        seeds the split and the N(0, 1) initialisation (key {@code seed}, default 0)
     */
    public record Config(int p, int width, double alpha, double lr, double weightDecay, int epochs, long seed) {
        public static final String P = "p";
        public static final String WIDTH = "width";
        public static final String ALPHA = "alpha";
        public static final String LR = "lr";
        public static final String WEIGHT_DECAY = "weight-decay";
        public static final String EPOCHS = "epochs";
        public static final String SEED = "seed";

        public Config {
            if (p < 2) {
                throw new IllegalArgumentException(P + " must be >= 2, got " + p);
            }
            if ((long) p * p > 1 << 24) {
                throw new IllegalArgumentException(P + " must be at most 4096, got " + p);
            }
            if (width <= 0) {
                throw new IllegalArgumentException(WIDTH + " must be > 0, got " + width);
            }
            if (!(alpha > 0 && alpha < 1)) {
                throw new IllegalArgumentException(ALPHA + " must be in (0, 1), got " + alpha);
            }
            if (!(lr > 0) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException(LR + " must be a finite number > 0, got " + lr);
            }
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                throw new IllegalArgumentException(WEIGHT_DECAY + " must be a finite number >= 0, got " + weightDecay);
            }
            if (epochs < 0) {
                throw new IllegalArgumentException(EPOCHS + " must be >= 0, got " + epochs);
            }
            int trainSize = (int) Math.floor(p * p * alpha);
            if (trainSize < 1 || trainSize >= p * p) {
                throw new IllegalArgumentException(ALPHA + " = " + alpha + " leaves " + trainSize + " of " + p * p
                        + " pairs for training; both splits must be non-empty");
            }
        }

        /** The paper setting: p 29, width 512, alpha 0.7, lr 0.05, weight decay 0.01, 500 epochs, seed 0. */
        public static Config defaults() {
            return new Config(29, 512, 0.7, 0.05, 0.01, 500, 0);
        }

        /**
         * The defaults overridden by string values under the keys {@link #P}, {@link #WIDTH}, {@link #ALPHA},
         * {@link #LR}, {@link #WEIGHT_DECAY}, {@link #EPOCHS}, {@link #SEED}; unknown keys are rejected.
         */
        public static Config fromMap(Map<String, String> values) {
            Map<String, String> rest = new LinkedHashMap<>(values);
            Config d = defaults();
            Config c = new Config(
                    ConfigValues.intValue(rest, P, d.p()),
                    ConfigValues.intValue(rest, WIDTH, d.width()),
                    ConfigValues.doubleValue(rest, ALPHA, d.alpha()),
                    ConfigValues.doubleValue(rest, LR, d.lr()),
                    ConfigValues.doubleValue(rest, WEIGHT_DECAY, d.weightDecay()),
                    ConfigValues.intValue(rest, EPOCHS, d.epochs()),
                    ConfigValues.longValue(rest, SEED, d.seed()));
            ConfigValues.rejectUnknown(rest, P, WIDTH, ALPHA, LR, WEIGHT_DECAY, EPOCHS, SEED);
            return c;
        }

        public Config withP(int newP) {
            return new Config(newP, width, alpha, lr, weightDecay, epochs, seed);
        }

        public Config withWidth(int newWidth) {
            return new Config(p, newWidth, alpha, lr, weightDecay, epochs, seed);
        }

        public Config withAlpha(double newAlpha) {
            return new Config(p, width, newAlpha, lr, weightDecay, epochs, seed);
        }

        public Config withLr(double newLr) {
            return new Config(p, width, alpha, newLr, weightDecay, epochs, seed);
        }

        public Config withWeightDecay(double newWeightDecay) {
            return new Config(p, width, alpha, lr, newWeightDecay, epochs, seed);
        }

        public Config withEpochs(int newEpochs) {
            return new Config(p, width, alpha, lr, weightDecay, newEpochs, seed);
        }

        public Config withSeed(long newSeed) {
            return new Config(p, width, alpha, lr, weightDecay, epochs, newSeed);
        }

        /** {@code floor(p^2 * alpha)}. */
        public int trainSize() {
            return (int) Math.floor(p * p * alpha);
        }
    }

    private ModularAdditionTask(Config config, int[] train, Parameters initial) {
        this(config, train, initial, ModularAddition.labels(config.p()));
    }

    private ModularAdditionTask(Config config, int[] train, Parameters initial, int[] labels) {
        super(ModelDescription.modularAddition(config.p(), config.width()), initial,
                AdamW.withDefaults(config.lr(), config.weightDecay()), config.epochs());
        this.config = config;
        int p = config.p();
        int n = p * p;
        this.inputs = ModularAddition.inputs(p);
        if (labels.length != n) {
            throw new IllegalArgumentException("expected " + n + " labels, one per pair, got " + labels.length);
        }
        for (int y : labels) {
            if (y < 0 || y >= p) {
                throw new IllegalArgumentException("label " + y + " outside 0.." + (p - 1));
            }
        }
        this.labels = labels.clone();
        this.train = train.clone();
        boolean[] inTrain = new boolean[n];
        for (int i : this.train) {
            if (i < 0 || i >= n) {
                throw new IllegalArgumentException("training index " + i + " outside 0.." + (n - 1));
            }
            if (inTrain[i]) {
                throw new IllegalArgumentException("training index " + i + " listed twice");
            }
            inTrain[i] = true;
        }
        if (this.train.length == 0 || this.train.length == n) {
            throw new IllegalArgumentException("the split must leave both train and test non-empty, got "
                    + this.train.length + " of " + n + " training samples");
        }
        this.test = new int[n - this.train.length];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!inTrain[i]) {
                test[k++] = i;
            }
        }
        this.trainInputs = rows(inputs, this.train);
        this.sparseStart = new int[this.train.length + 1];
        int nonZeros = 0;
        for (double v : trainInputs.data()) {
            nonZeros += v != 0.0 ? 1 : 0;
        }
        this.sparseColumn = new int[nonZeros];
        this.sparseValue = new double[nonZeros];
        double[] xd = trainInputs.data();
        int cols = trainInputs.cols();
        int nz = 0;
        for (int r = 0; r < this.train.length; r++) {
            for (int j = 0; j < cols; j++) {
                double v = xd[r * cols + j];
                if (v != 0.0) {
                    sparseColumn[nz] = j;
                    sparseValue[nz++] = v;
                }
            }
            sparseStart[r + 1] = nz;
        }
        this.trainTargets = new Matrix(this.train.length, p);
        for (int r = 0; r < this.train.length; r++) {
            trainTargets.set(r, labels[this.train[r]], 1.0);
        }
    }

    /** A freshly initialised task: seeded split, W1 and W2 drawn N(0, 1). */
    public static ModularAdditionTask create(Config config) {
        return create(config, ModularAddition.labels(config.p()));
    }

    /**
     * As {@link #create(Config)} (same split and initialisation for the same seed) with other labels for the
     * {@code p^2} pairs, e.g. {@link io.grokwatch.probe.ModularOperation#labels(int)} or random labels.
     */
    public static ModularAdditionTask create(Config config, int[] labels) {
        SplittableRandom rng = new SplittableRandom(config.seed());
        int n = config.p() * config.p();
        int[] perm = permutation(n, rng);
        int[] train = Arrays.copyOf(perm, config.trainSize());
        int h = config.width();
        int in = 2 * config.p();
        Parameters init = new Parameters()
                .put(W1, new long[] {h, in}, gaussian(h * in, rng))
                .put(W2, new long[] {config.p(), h}, gaussian(config.p() * h, rng));
        return new ModularAdditionTask(config, train, init, labels);
    }

    /**
     * A task starting from given parameters and training indices (rows {@code a*p + b}); the rest is the test
     * set. Used to resume training and to replay the numpy reference.
     */
    public static ModularAdditionTask fromState(Config config, int[] trainIndices, Parameters initial) {
        return new ModularAdditionTask(config, trainIndices, initial);
    }

    public Config config() {
        return config;
    }

    /** All {@code p^2} inputs ({@code p^2 x 2p}, row {@code a*p + b}); a copy. */
    public Matrix inputs() {
        return inputs.copy();
    }

    /** Labels of all inputs ({@code (a + b) mod p} unless the task was created with others); a copy. */
    public int[] labels() {
        return labels.clone();
    }

    /** Training rows in permutation order; a copy. */
    public int[] trainIndices() {
        return train.clone();
    }

    /** Test rows in increasing order; a copy. */
    public int[] testIndices() {
        return test.clone();
    }

    /**
     * Mean MSE over all {@code N_train * p} entries and its gradient. Same function as the generic
     * {@link Network} path ({@link #lossAndGradientGeneric}), but the first layer exploits the sparse (one-hot)
     * inputs: {@code x W1^T} is a sum of two columns of {@code W1} per sample and its weight gradient a
     * scatter-add, which removes two thirds of the multiply-adds of a training step. Reuses scratch buffers,
     * so calls must not overlap (like everything on a task).
     */
    @Override
    public LossGradient lossAndGradient(Parameters params) {
        Matrix w1 = params.get(W1);
        Matrix w2 = params.get(W2);
        int h = config.width();
        int c = config.p();
        int in = 2 * c;
        if (w1.rows() != h || w1.cols() != in || w2.rows() != c || w2.cols() != h) {
            throw new IllegalArgumentException("parameters " + W1 + " " + w1.shape() + " and " + W2 + " "
                    + w2.shape() + " do not fit the model: expected " + h + " x " + in + " and " + c + " x " + h);
        }
        int n = train.length;
        if (work == null) {
            work = new Workspace(n, in, h, c);
        }
        Workspace ws = work;
        double s = 1.0 / Math.sqrt(2.0 * c);

        // z2 = (x W1^T) s: each one-hot row selects rows of W1^T.  z3 = z2^2.
        double[] w1d = w1.data();
        double[] w1t = ws.w1t;
        for (int j = 0; j < h; j++) {
            for (int k = 0; k < in; k++) {
                w1t[k * h + j] = w1d[j * in + k];
            }
        }
        double[] z2 = ws.z2.data();
        double[] z3 = ws.z3.data();
        for (int r = 0; r < n; r++) {
            int base = r * h;
            Arrays.fill(z2, base, base + h, 0.0);
            for (int k = sparseStart[r]; k < sparseStart[r + 1]; k++) {
                double v = sparseValue[k];
                int src = sparseColumn[k] * h;
                for (int j = 0; j < h; j++) {
                    z2[base + j] += v * w1t[src + j];
                }
            }
            for (int j = 0; j < h; j++) {
                double z = z2[base + j] * s;
                z2[base + j] = z;
                z3[base + j] = z * z;
            }
        }
        // out = z3 W2^T / H;  g = dL/dout = 2 (out - y) / (N C).
        Blas.gemm(1.0 / h, ws.z3, false, w2, true, 0.0, ws.out);
        double[] o = ws.out.data();
        double[] y = trainTargets.data();
        double[] gd = ws.g.data();
        double scale = 2.0 / o.length;
        double sum = 0;
        for (int i = 0; i < o.length; i++) {
            double r = o[i] - y[i];
            sum += r * r;
            gd[i] = scale * r;
        }

        Matrix gw2 = new Matrix(c, h);
        Blas.gemm(1.0 / h, ws.g, true, ws.z3, false, 0.0, gw2);
        Blas.gemm(1.0 / h, ws.g, false, w2, false, 0.0, ws.g3);
        // dL/d(x W1^T) = g3 * 2 z2 * s, scattered into the rows of W1^T that the inputs selected.
        double[] g3 = ws.g3.data();
        double[] gw1t = ws.gw1t;
        Arrays.fill(gw1t, 0.0);
        double twoS = 2.0 * s;
        for (int r = 0; r < n; r++) {
            int base = r * h;
            for (int k = sparseStart[r]; k < sparseStart[r + 1]; k++) {
                double v = sparseValue[k] * twoS;
                int dst = sparseColumn[k] * h;
                for (int j = 0; j < h; j++) {
                    gw1t[dst + j] += v * g3[base + j] * z2[base + j];
                }
            }
        }
        Matrix gw1 = new Matrix(h, in);
        double[] gw1d = gw1.data();
        for (int k = 0; k < in; k++) {
            for (int j = 0; j < h; j++) {
                gw1d[j * in + k] = gw1t[k * h + j];
            }
        }
        Parameters grads = new Parameters().putMatrix(W1, gw1).putMatrix(W2, gw2);
        return new LossGradient(sum / o.length, grads);
    }

    /** Scratch buffers of {@link #lossAndGradient}, reused across epochs (allocating them costs more than the math). */
    private static final class Workspace {
        final double[] w1t;
        final double[] gw1t;
        final Matrix z2;
        final Matrix z3;
        final Matrix g3;
        final Matrix out;
        final Matrix g;

        Workspace(int n, int in, int h, int c) {
            w1t = new double[in * h];
            gw1t = new double[in * h];
            z2 = new Matrix(n, h);
            z3 = new Matrix(n, h);
            g3 = new Matrix(n, h);
            out = new Matrix(n, c);
            g = new Matrix(n, c);
        }
    }

    /** {@link #lossAndGradient} through the generic {@link Network} (dense BLAS in every layer). */
    public LossGradient lossAndGradientGeneric(Parameters params) {
        Network net = network(params);
        return meanSquaredError(net, net.forward(trainInputs), trainTargets);
    }

    @Override
    public TrainingMetrics evaluate(Parameters params) {
        Matrix out = network(params).output(inputs);
        double[] trainStats = lossAndAccuracy(out, train);
        double[] testStats = lossAndAccuracy(out, test);
        return new TrainingMetrics(trainStats[0], testStats[0], trainStats[1], testStats[1]);
    }

    private double[] lossAndAccuracy(Matrix out, int[] rows) {
        int c = out.cols();
        double[] o = out.data();
        double sum = 0;
        int correct = 0;
        for (int row : rows) {
            int base = row * c;
            int best = 0;
            for (int k = 0; k < c; k++) {
                double v = o[base + k];
                double r = v - (k == labels[row] ? 1.0 : 0.0);
                sum += r * r;
                if (v > o[base + best]) {
                    best = k;
                }
            }
            if (best == labels[row]) {
                correct++;
            }
        }
        return new double[] {sum / ((double) rows.length * c), (double) correct / rows.length};
    }

    private Network network(Parameters params) {
        return new Network(description(), params);
    }

    static Matrix rows(Matrix m, int[] rows) {
        int c = m.cols();
        Matrix out = new Matrix(rows.length, c);
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(m.data(), rows[r] * c, out.data(), r * c, c);
        }
        return out;
    }

    static int[] permutation(int n, SplittableRandom rng) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    static double[] gaussian(int size, SplittableRandom rng) {
        double[] d = new double[size];
        for (int i = 0; i < size; i++) {
            d[i] = rng.nextGaussian();
        }
        return d;
    }
}

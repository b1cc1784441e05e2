package io.grokwatch.trainer;

import io.grokwatch.linalg.Matrix;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Toy Models of Superposition (the paper's second experiment; docs/science.md): {@code y = ReLU(W^T W x + b)}
 * with {@code W} ({@code m x n}) Xavier-normal and {@code b} zero, trained full batch with Adam on a fixed dataset
 * of {@code D} sparse, L2-normalised inputs. Loss: mean over batch and features of {@code I_i (x_i - y_i)^2},
 * {@code I_i = I^i}.
 */
public final class TmsTask extends FullBatchTask {
    public static final String W = "W";
    public static final String B = "b";
    /** Diagonal entries of {@code W^T W} at or above this count a feature as represented (as the reference). */
    public static final double REPRESENTED_THRESHOLD = 0.75;

    private final Config config;
    private final Matrix dataset;
    private final double[] importances;

    /**
     * Hyper-parameters, validated on construction; messages name the key as in {@link #fromMap}.
     *
     * @param features       n, {@code > 0} (key {@code features}, default 50)
     * @param hidden         m, {@code > 0} (key {@code hidden}, default 10)
     * @param sparsity       S, probability that a feature is 0, in [0, 1) (key {@code sparsity}, default 0.9)
     * @param importanceBase I, importance of feature i is {@code I^i}, in (0, 1] (key {@code importance}, 0.8)
     * @param datasetSize    D, {@code > 0} (key {@code dataset-size}, default 500)
     * @param epochs         full-batch epochs, {@code >= 0} (key {@code epochs}, default 5000)
     * @param lr             Adam learning rate, {@code > 0} (key {@code lr}, default 1e-3)
     * @param seed           seeds the dataset and the initialisation (key {@code seed}, default 0)
     */
    public record Config(int features, int hidden, double sparsity, double importanceBase, int datasetSize,
                         int epochs, double lr, long seed) {
        public static final String FEATURES = "features";
        public static final String HIDDEN = "hidden";
        public static final String SPARSITY = "sparsity";
        public static final String IMPORTANCE = "importance";
        public static final String DATASET_SIZE = "dataset-size";
        public static final String EPOCHS = "epochs";
        public static final String LR = "lr";
        public static final String SEED = "seed";

        public Config {
            if (features <= 0) {
                throw new IllegalArgumentException(FEATURES + " must be > 0, got " + features);
            }
            if (hidden <= 0) {
                throw new IllegalArgumentException(HIDDEN + " must be > 0, got " + hidden);
            }
            if (!(sparsity >= 0 && sparsity < 1)) {
                throw new IllegalArgumentException(SPARSITY + " must be in [0, 1), got " + sparsity);
            }
            if (!(importanceBase > 0 && importanceBase <= 1)) {
                throw new IllegalArgumentException(IMPORTANCE + " must be in (0, 1], got " + importanceBase);
            }
            if (datasetSize <= 0) {
                throw new IllegalArgumentException(DATASET_SIZE + " must be > 0, got " + datasetSize);
            }
            if (epochs < 0) {
                throw new IllegalArgumentException(EPOCHS + " must be >= 0, got " + epochs);
            }
            if (!(lr > 0) || !Double.isFinite(lr)) {
                throw new IllegalArgumentException(LR + " must be a finite number > 0, got " + lr);
            }
        }

        /** The sparse, high-superposition setting: n 50, m 10, S 0.9, I 0.8, D 500, 5000 epochs, lr 1e-3, seed 0. */
        public static Config defaults() {
            return new Config(50, 10, 0.9, 0.8, 500, 5000, 1e-3, 0);
        }

        /**
         * The defaults overridden by string values under the keys {@link #FEATURES}, {@link #HIDDEN},
         * {@link #SPARSITY}, {@link #IMPORTANCE}, {@link #DATASET_SIZE}, {@link #EPOCHS}, {@link #LR},
         * {@link #SEED}; unknown keys are rejected.
         */
        public static Config fromMap(Map<String, String> values) {
            Map<String, String> rest = new LinkedHashMap<>(values);
            Config d = defaults();
            Config c = new Config(
                    ConfigValues.intValue(rest, FEATURES, d.features()),
                    ConfigValues.intValue(rest, HIDDEN, d.hidden()),
                    ConfigValues.doubleValue(rest, SPARSITY, d.sparsity()),
                    ConfigValues.doubleValue(rest, IMPORTANCE, d.importanceBase()),
                    ConfigValues.intValue(rest, DATASET_SIZE, d.datasetSize()),
                    ConfigValues.intValue(rest, EPOCHS, d.epochs()),
                    ConfigValues.doubleValue(rest, LR, d.lr()),
                    ConfigValues.longValue(rest, SEED, d.seed()));
            ConfigValues.rejectUnknown(rest, FEATURES, HIDDEN, SPARSITY, IMPORTANCE, DATASET_SIZE, EPOCHS, LR, SEED);
            return c;
        }

        public Config withFeatures(int newFeatures) {
            return new Config(newFeatures, hidden, sparsity, importanceBase, datasetSize, epochs, lr, seed);
        }

        public Config withHidden(int newHidden) {
            return new Config(features, newHidden, sparsity, importanceBase, datasetSize, epochs, lr, seed);
        }

        public Config withSparsity(double newSparsity) {
            return new Config(features, hidden, newSparsity, importanceBase, datasetSize, epochs, lr, seed);
        }

        public Config withImportanceBase(double newBase) {
            return new Config(features, hidden, sparsity, newBase, datasetSize, epochs, lr, seed);
        }

        public Config withDatasetSize(int newSize) {
            return new Config(features, hidden, sparsity, importanceBase, newSize, epochs, lr, seed);
        }

        public Config withEpochs(int newEpochs) {
            return new Config(features, hidden, sparsity, importanceBase, datasetSize, newEpochs, lr, seed);
        }

        public Config withLr(double newLr) {
            return new Config(features, hidden, sparsity, importanceBase, datasetSize, epochs, newLr, seed);
        }

        public Config withSeed(long newSeed) {
            return new Config(features, hidden, sparsity, importanceBase, datasetSize, epochs, lr, newSeed);
        }
    }

    private TmsTask(Config config, Matrix dataset, Parameters initial) {
        super(ModelDescription.tms(config.features()), initial, AdamW.adam(config.lr()), config.epochs());
        if (dataset.rows() != config.datasetSize() || dataset.cols() != config.features()) {
            throw new IllegalArgumentException("dataset is " + dataset.shape() + ", the config asks for "
                    + config.datasetSize() + " x " + config.features());
        }
        this.config = config;
        this.dataset = dataset.copy();
        this.importances = importances(config.features(), config.importanceBase());
    }

    /** A fresh task: seeded dataset, then {@code W} Xavier-normal (std {@code sqrt(2/(m+n))}), {@code b = 0}. */
    public static TmsTask create(Config config) {
        SplittableRandom rng = new SplittableRandom(config.seed());
        Matrix x = dataset(config.datasetSize(), config.features(), config.sparsity(), rng);
        int m = config.hidden();
        int n = config.features();
        double std = Math.sqrt(2.0 / (m + n));
        double[] w = ModularAdditionTask.gaussian(m * n, rng);
        for (int i = 0; i < w.length; i++) {
            w[i] *= std;
        }
        Parameters init = new Parameters()
                .put(W, new long[] {m, n}, w)
                .putVector(B, new double[n]);
        return new TmsTask(config, x, init);
    }

    /** A task on a given dataset ({@code D x n}) from given parameters; to resume or replay the reference. */
    public static TmsTask fromState(Config config, Matrix dataset, Parameters initial) {
        return new TmsTask(config, dataset, initial);
    }

    /**
     * {@code D x n} inputs: each entry 0 with probability {@code sparsity}, else uniform [0, 1); each row then
     * divided by its L2 norm + 1e-8 (as the reference).
     */
    public static Matrix dataset(int size, int features, double sparsity, SplittableRandom rng) {
        Matrix x = new Matrix(size, features);
        double[] d = x.data();
        for (int r = 0; r < size; r++) {
            int base = r * features;
            double norm = 0;
            for (int j = 0; j < features; j++) {
                double u = rng.nextDouble();
                double v = rng.nextDouble() < 1 - sparsity ? u : 0.0;
                d[base + j] = v;
                norm += v * v;
            }
            double scale = Math.sqrt(norm) + 1e-8;
            for (int j = 0; j < features; j++) {
                d[base + j] /= scale;
            }
        }
        return x;
    }

    /** {@code I_i = base^i}, {@code i = 0..n-1}. */
    public static double[] importances(int features, double base) {
        double[] imp = new double[features];
        for (int i = 0; i < features; i++) {
            imp[i] = Math.pow(base, i);
        }
        return imp;
    }

    public Config config() {
        return config;
    }

    /** The training inputs ({@code D x n}); a copy. */
    public Matrix dataset() {
        return dataset.copy();
    }

    /** Feature importances {@code I_i}; a copy. */
    public double[] importances() {
        return importances.clone();
    }

    /** Features with {@code (W^T W)_ii >= 0.75} at the current parameters. */
    public int representedFeatures() {
        return representedFeatures(parameters());
    }

    /** Features with {@code (W^T W)_ii = sum_j W_ji^2 >= 0.75}. */
    public static int representedFeatures(Parameters params) {
        Matrix w = params.get(W);
        int count = 0;
        for (int i = 0; i < w.cols(); i++) {
            double s = 0;
            for (int j = 0; j < w.rows(); j++) {
                double v = w.get(j, i);
                s += v * v;
            }
            if (s >= REPRESENTED_THRESHOLD) {
                count++;
            }
        }
        return count;
    }

    @Override
    public LossGradient lossAndGradient(Parameters params) {
        Network net = new Network(description(), params);
        Network.Activations acts = net.forward(dataset);
        Matrix out = acts.output();
        double[] y = out.data();
        double[] x = dataset.data();
        int n = out.cols();
        Matrix g = new Matrix(out.rows(), n);
        double[] gd = g.data();
        double scale = 2.0 / y.length;
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            double imp = importances[i % n];
            double r = y[i] - x[i];
            sum += imp * r * r;
            gd[i] = scale * imp * r;
        }
        return new LossGradient(sum / y.length, net.gradient(acts, g));
    }

    @Override
    public TrainingMetrics evaluate(Parameters params) {
        Matrix out = new Network(description(), params).output(dataset);
        double[] y = out.data();
        double[] x = dataset.data();
        int n = out.cols();
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            double r = y[i] - x[i];
            sum += importances[i % n] * r * r;
        }
        return TrainingMetrics.trainLossOnly(sum / y.length);
    }
}

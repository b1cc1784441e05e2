package io.grokwatch.run;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a checkpoint's safetensors {@code __metadata__} says about it. {@code step} and {@code epoch} are
 * required; losses and accuracies are optional (NaN when absent), as external trainers may not report them.
 */
public record CheckpointMetadata(long step, long epoch, double trainLoss, double testLoss, double trainAccuracy,
                                 double testAccuracy) {
    public static final String STEP = "step";
    public static final String EPOCH = "epoch";
    public static final String TRAIN_LOSS = "trainLoss";
    public static final String TEST_LOSS = "testLoss";
    public static final String TRAIN_ACCURACY = "trainAccuracy";
    public static final String TEST_ACCURACY = "testAccuracy";

    public CheckpointMetadata {
        if (step < 0) {
            throw new RunFormatException("checkpoint metadata '" + STEP + "' must be >= 0, got " + step);
        }
        if (epoch < 0) {
            throw new RunFormatException("checkpoint metadata '" + EPOCH + "' must be >= 0, got " + epoch);
        }
    }

    public static CheckpointMetadata of(long step, long epoch) {
        return new CheckpointMetadata(step, epoch, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }

    public CheckpointMetadata withMetrics(double trainLoss, double testLoss, double trainAccuracy, double testAccuracy) {
        return new CheckpointMetadata(step, epoch, trainLoss, testLoss, trainAccuracy, testAccuracy);
    }

    /** Reads the safetensors metadata map; {@code epoch} defaults to {@code step} when only the step is given. */
    public static CheckpointMetadata fromMap(Map<String, String> m) {
        String step = m.get(STEP);
        if (step == null) {
            throw new RunFormatException("checkpoint metadata has no '" + STEP + "' (an integer >= 0); it has "
                    + m.keySet());
        }
        long s = integer(STEP, step);
        long e = m.containsKey(EPOCH) ? integer(EPOCH, m.get(EPOCH)) : s;
        return new CheckpointMetadata(s, e, number(m, TRAIN_LOSS), number(m, TEST_LOSS), number(m, TRAIN_ACCURACY),
                number(m, TEST_ACCURACY));
    }

    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(STEP, Long.toString(step));
        m.put(EPOCH, Long.toString(epoch));
        put(m, TRAIN_LOSS, trainLoss);
        put(m, TEST_LOSS, testLoss);
        put(m, TRAIN_ACCURACY, trainAccuracy);
        put(m, TEST_ACCURACY, testAccuracy);
        return m;
    }

    private static void put(Map<String, String> m, String key, double v) {
        if (!Double.isNaN(v)) {
            m.put(key, Double.toString(v));
        }
    }

    private static long integer(String key, String v) {
        try {
            long x = Long.parseLong(v.trim());
            if (x < 0) {
                throw new NumberFormatException();
            }
            return x;
        } catch (NumberFormatException e) {
            throw new RunFormatException("checkpoint metadata '" + key + "' must be an integer >= 0, got '" + v + "'");
        }
    }

    private static double number(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null) {
            return Double.NaN;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new RunFormatException("checkpoint metadata '" + key + "' must be a number, got '" + v + "'");
        }
    }
}

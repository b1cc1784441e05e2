package io.grokwatch.cli;

import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.TmsTask;
import picocli.CommandLine.Option;

/** Options of the task a trainer runs, shared by {@code train} and {@code demo}. */
final class TaskOptions {
    @Option(names = "--task", description = "modular-addition or tms. Default: ${DEFAULT-VALUE}.")
    String task = "modular-addition";
    @Option(names = "--p", description = "Modular addition: modulus. Default: ${DEFAULT-VALUE}.")
    int p = 29;
    @Option(names = "--width", description = "Modular addition: hidden width. Default: ${DEFAULT-VALUE}.")
    int width = 512;
    @Option(names = "--alpha", description = "Modular addition: training fraction. Default: ${DEFAULT-VALUE}.")
    double alpha = 0.7;
    @Option(names = "--lr", description = "Learning rate (default 0.05 for modular addition, 0.001 for tms).")
    Double lr;
    @Option(names = "--weight-decay", description = "Modular addition: AdamW weight decay. Default: ${DEFAULT-VALUE}.")
    double weightDecay = 0.01;
    @Option(names = "--epochs", description = "Epochs (default 500 for modular addition, 5000 for tms).")
    Integer epochs;
    @Option(names = "--seed", description = "Seed. Default: ${DEFAULT-VALUE}.")
    long seed = 0;
    @Option(names = "--features", description = "TMS: features n. Default: ${DEFAULT-VALUE}.")
    int features = 50;
    @Option(names = "--hidden", description = "TMS: hidden dimension m. Default: ${DEFAULT-VALUE}.")
    int hidden = 10;
    @Option(names = "--sparsity", description = "TMS: feature sparsity S. Default: ${DEFAULT-VALUE}.")
    double sparsity = 0.9;
    @Option(names = "--importance", description = "TMS: importance base I. Default: ${DEFAULT-VALUE}.")
    double importance = 0.8;
    @Option(names = "--dataset-size", description = "TMS: dataset size D. Default: ${DEFAULT-VALUE}.")
    int datasetSize = 500;
    @Option(names = "--checkpoint-every", description = "Publish a checkpoint every N epochs (default 10 for "
            + "modular addition, 100 for tms).")
    Integer checkpointEvery;
    @Option(names = "--top-k", description = "Eigenvalues per spectrum. Default: ${DEFAULT-VALUE}.")
    int topK = 200;
    @Option(names = "--precision", description = "Arithmetic of the analyzer's dense eigendecompositions and of "
            + "the kernel products of its iterative solves: float64 or float32 (dense: about 20%% faster per solve, "
            + "eigenvalues within ~1e-6 relative at p=29; products: residual ~5e-5 measured in float64; see README). "
            + "Default: ${DEFAULT-VALUE}.")
    String precision = "float64";

    io.grokwatch.linalg.Precision precision() {
        return parsePrecision(precision);
    }

    /** The value of a {@code --precision} option, or an error that names the option and the allowed values. */
    static io.grokwatch.linalg.Precision parsePrecision(String value) {
        try {
            return io.grokwatch.linalg.Precision.parse(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--precision: " + e.getMessage());
        }
    }
    @Option(names = "--epoch-ms", description = "Make each epoch take at least this long (pacing, so a demo can be "
            + "watched and the analyzer keeps up). Default: 0 for train, 40 for demo.")
    Integer epochMillis;

    int epochMillis(int defaultMillis) {
        int ms = epochMillis == null ? defaultMillis : epochMillis;
        if (ms < 0) {
            throw new IllegalArgumentException("--epoch-ms must be >= 0, got " + ms);
        }
        return ms;
    }

    boolean modularAddition() {
        return switch (task) {
            case "modular-addition" -> true;
            case "tms" -> false;
            default -> throw new IllegalArgumentException("--task must be modular-addition or tms, got '" + task + "'");
        };
    }

    ModularAdditionTask.Config modularAdditionConfig() {
        return new ModularAdditionTask.Config(p, width, alpha, lr == null ? 0.05 : lr, weightDecay,
                epochs == null ? 500 : epochs, seed);
    }

    TmsTask.Config tmsConfig() {
        return new TmsTask.Config(features, hidden, sparsity, importance, datasetSize, epochs == null ? 5000 : epochs,
                lr == null ? 1e-3 : lr, seed);
    }

    int checkpointEvery() {
        int every = checkpointEvery != null ? checkpointEvery : modularAddition() ? 10 : 100;
        if (every < 1) {
            throw new IllegalArgumentException("--checkpoint-every must be >= 1, got " + every);
        }
        return every;
    }

    String defaultRunId() {
        String stamp = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return modularAddition() ? "ma-p" + p + "-s" + seed + "-" + stamp : "tms-m" + hidden + "-s" + seed + "-" + stamp;
    }
}

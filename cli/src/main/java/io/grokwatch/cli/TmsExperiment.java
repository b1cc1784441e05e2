package io.grokwatch.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analysis.TmsAnalyzer;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.trainer.TmsTask;
import io.grokwatch.trainer.TrainingMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code grokwatch experiment tms}: toy models of superposition and their flattened eNTK. */
@Command(name = "tms", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a toy model of superposition y = ReLU(W^T W x + b) and analyse the importance-"
                + "rescaled flattened eNTK of the final weights: top eigenvalues, the feature x eigenvector "
                + "heatmap and how many features its eigenvectors recover.",
                "Example: grokwatch experiment tms --hidden 10 --sparsity 0.9 --tau 1 --out tms.json"})
final class TmsExperiment implements Callable<Integer> {
    @Option(names = "--features", description = "Input features n. Default: ${DEFAULT-VALUE}.")
    int features = 50;
    @Option(names = "--hidden", description = "Hidden dimension m. Default: ${DEFAULT-VALUE}.")
    int hidden = 10;
    @Option(names = "--sparsity", description = "Probability S that a feature is zero. Default: ${DEFAULT-VALUE}.")
    double sparsity = 0.9;
    @Option(names = "--importance", description = "Importance base I (feature i weighs I^i). Default: ${DEFAULT-VALUE}.")
    double importance = 0.8;
    @Option(names = "--tau", description = "Importance rescaling exponent: outputs weighted I_c^(tau/2). Default: ${DEFAULT-VALUE}.")
    double tau = 0.33;
    @Option(names = "--dataset-size", description = "Training inputs D. Default: ${DEFAULT-VALUE}.")
    int datasetSize = 500;
    @Option(names = "--epochs", description = "Full-batch Adam epochs. Default: ${DEFAULT-VALUE}.")
    int epochs = 5000;
    @Option(names = "--lr", description = "Adam learning rate. Default: ${DEFAULT-VALUE}.")
    double lr = 1e-3;
    @Option(names = "--seed", description = "Seed of data and initialisation. Default: ${DEFAULT-VALUE}.")
    long seed = 0;
    @Option(names = "--top-k", description = "Eigenpairs of the flattened kernel. Default: ${DEFAULT-VALUE}.")
    int topK = 80;
    @Option(names = "--out", required = true, description = "JSON file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (tau < 0 || !Double.isFinite(tau)) {
            throw new IllegalArgumentException("--tau must be a finite number >= 0, got " + tau);
        }
        long wall0 = System.nanoTime();
        TmsTask task = TmsTask.create(new TmsTask.Config(features, hidden, sparsity, importance, datasetSize, epochs,
                lr, seed));
        int every = Math.max(1, epochs / 100);
        Parameters[] last = new Parameters[1];
        TrainingMetrics[] lastMetrics = new TrainingMetrics[1];
        try (ProgressBar bar = new ProgressBar("tms m=" + hidden + " S=" + sparsity, Math.max(1, epochs))) {
            task.run(every, (epoch, step, params, metrics) -> {
                last[0] = params;
                lastMetrics[0] = metrics;
                bar.update(epoch, String.format("loss %.3e", metrics.trainLoss()));
                return true;
            });
        }
        double trainSeconds = (System.nanoTime() - wall0) / 1e9;
        Network net = new Network(task.description(), last[0]);
        TmsAnalyzer.Result r = TmsAnalyzer.analyze(net, task.dataset(), task.importances(), tau, topK);

        ObjectNode root = JsonFiles.object();
        root.put("experiment", "tms");
        ObjectNode cfg = root.putObject("config");
        cfg.put("features", features).put("hidden", hidden).put("sparsity", sparsity).put("importance", importance)
                .put("tau", tau).put("datasetSize", datasetSize).put("epochs", epochs).put("lr", lr)
                .put("seed", seed).put("topK", topK);
        ObjectNode fin = root.putObject("final");
        fin.put("epoch", epochs);
        JsonFiles.putFinite(fin, "trainLoss", lastMetrics[0].trainLoss());
        fin.setAll(JsonFiles.tree(r.spectrum().toRecord()));
        fin.put("recoveredFeatures", r.recoveredFeatures()).put("representedFeatures", r.representedFeatures());
        JsonFiles.array(fin, "heatmapArgmax", r.heatmap().argmax());
        JsonFiles.array(fin, "heatmapMax", r.heatmap().max());
        double wall = (System.nanoTime() - wall0) / 1e9;
        root.putObject("timings").put("wallSeconds", wall).put("trainSeconds", trainSeconds)
                .put("analysisSeconds", r.seconds());
        JsonFiles.write(out, root);

        int[] arg = r.heatmap().argmax();
        double[] max = r.heatmap().max();
        Table t = new Table("eigenvector", "eigenvalue", "feature", "alignment");
        for (int i = 0; i < Math.min(12, arg.length); i++) {
            t.row(i, r.spectrum().eigenvalues()[i], arg[i], max[i]);
        }
        System.out.print(t.render());
        System.out.printf("recovered features (alignment >= 0.9): %d of %d; represented (|W_j|^2 >= 0.75): %d; "
                + "final loss %.3e%n", r.recoveredFeatures(), features, r.representedFeatures(), lastMetrics[0].trainLoss());
        System.out.printf("wrote %s in %.1f s (training %.1f s, analysis %.2f s)%n", out, wall, trainSeconds, r.seconds());
        return 0;
    }
}

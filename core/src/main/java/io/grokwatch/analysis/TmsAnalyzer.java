package io.grokwatch.analysis;

import io.grokwatch.entk.Entk;
import io.grokwatch.features.TmsHeatmap;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.model.Network;

import java.util.Map;

/**
 * The toy-models-of-superposition analysis: the importance-rescaled flattened eNTK over the training set,
 * its top-k eigenvectors mapped to features through the indicator heatmap, and the recovery count.
 */
public final class TmsAnalyzer {
    private TmsAnalyzer() {
    }

    /**
     * @param spectrum            top-k eigenvalues, cliffs and effective rank of the flattened kernel
     * @param heatmap             feature x eigenvector alignment (columns normalised)
     * @param recoveredFeatures   distinct features that are the arg-max of some column with H >= 0.9
     * @param representedFeatures features with {@code (W^T W)_jj >= 0.75}
     */
    public record Result(SpectrumSummary spectrum, TmsHeatmap heatmap, int recoveredFeatures,
                         int representedFeatures, double seconds) {
    }

    public static Result analyze(Network net, Matrix dataset, double[] importance, double tau, int topK) {
        return analyze(net, dataset, importance, tau, topK, Precision.FLOAT64);
    }

    /**
     * As {@link #analyze(Network, Matrix, double[], double, int)}, decomposing in the given precision. The kernel
     * goes through the same path as a streamed TMS run ({@link KernelSpectra}): its P x P dual, solved densely up
     * to 2,000 parameters and by block Lanczos above.
     */
    public static Result analyze(Network net, Matrix dataset, double[] importance, double tau, int topK,
                                 Precision precision) {
        long t0 = System.nanoTime();
        KernelSpectra.KernelResult all = KernelSpectra.analyze(net, dataset, java.util.Optional.empty(),
                new KernelSpectra.Options(io.grokwatch.entk.KernelKind.FLATTENED, topK,
                        Entk.importanceScale(importance, tau), 0, precision), Map.of(), false).get(Entk.ALL);
        TmsHeatmap h = all.heatmap().orElseThrow(() -> new IllegalArgumentException(
                "a TMS model maps its inputs to outputs of the same width; this one has " + net.inputs() + " -> "
                        + net.outputs()));
        return new Result(all.spectrum(), h, h.recoveredFeatures(), representedFeatures(net.parameters().get("W")),
                (System.nanoTime() - t0) / 1e9);
    }

    /** Features whose embedding has norm^2 >= 0.75: {@code (W^T W)_jj} for W (m x n). */
    public static int representedFeatures(Matrix w) {
        int count = 0;
        for (int j = 0; j < w.cols(); j++) {
            double s = 0;
            for (int i = 0; i < w.rows(); i++) {
                s += w.get(i, j) * w.get(i, j);
            }
            if (s >= 0.75) {
                count++;
            }
        }
        return count;
    }
}

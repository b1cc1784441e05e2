package io.grokwatch.trainer;

import io.grokwatch.entk.KernelKind;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunDescriptor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The descriptors our own trainer publishes for its two tasks. */
public final class RunDescriptors {
    /** TMS analysis defaults of the paper: flattened kernel, tau 0.33, top 80. */
    public static final double TMS_TAU = 0.33;
    public static final int TMS_TOP_K = 80;

    private RunDescriptors() {
    }

    public static RunDescriptor modularAddition(String runId, ModularAdditionTask.Config c, int checkpointEvery,
                                                int topK) {
        Map<String, String> task = new LinkedHashMap<>();
        task.put("name", "modular-addition");
        task.put("p", Integer.toString(c.p()));
        task.put("width", Integer.toString(c.width()));
        task.put("alpha", Double.toString(c.alpha()));
        task.put("lr", Double.toString(c.lr()));
        task.put("weightDecay", Double.toString(c.weightDecay()));
        task.put("epochs", Integer.toString(c.epochs()));
        task.put("seed", Long.toString(c.seed()));
        return new RunDescriptor(runId, ModelDescription.modularAddition(c.p(), c.width()),
                ProbeSource.generator("modular-addition:p=" + c.p()), RunDescriptor.AnalysisSettings.classMean(topK),
                checkpointEvery, task);
    }

    /** TMS probes are the training set itself, sent inline. */
    public static RunDescriptor tms(String runId, TmsTask task, int checkpointEvery) {
        TmsTask.Config c = task.config();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("name", "tms");
        meta.put("features", Integer.toString(c.features()));
        meta.put("hidden", Integer.toString(c.hidden()));
        meta.put("sparsity", Double.toString(c.sparsity()));
        meta.put("importance", Double.toString(c.importanceBase()));
        meta.put("epochs", Integer.toString(c.epochs()));
        meta.put("seed", Long.toString(c.seed()));
        return new RunDescriptor(runId, ModelDescription.tms(c.features()), ProbeSource.inline(task.dataset()),
                new RunDescriptor.AnalysisSettings(KernelKind.FLATTENED, TMS_TOP_K, false,
                        Optional.of(c.importanceBase()), TMS_TAU, 0), checkpointEvery, meta);
    }
}

package io.grokwatch.trainer;

import io.grokwatch.model.Parameters;

/** Receives checkpoints during {@link FullBatchTask#run}. */
@FunctionalInterface
public interface CheckpointListener {

    /**
     * Called at epoch 0, every {@code every} epochs and at the last epoch.
     *
     * @param epoch      epochs (full-batch steps) completed so far
     * @param step       optimizer steps taken so far (equal to {@code epoch} for full-batch training)
     * @param parameters a copy of the parameters, owned by the listener
     * @param metrics    loss and accuracy of those parameters
     * @return true to keep training, false to stop after this checkpoint
     */
    boolean onCheckpoint(int epoch, long step, Parameters parameters, TrainingMetrics metrics);
}

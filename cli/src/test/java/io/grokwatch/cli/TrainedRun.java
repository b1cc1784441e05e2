package io.grokwatch.cli;

import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.trainer.ModularAdditionTask;
import io.grokwatch.trainer.RunDescriptors;

import java.util.ArrayList;
import java.util.List;

/**
 * A modular-addition run trained once in this JVM by the trainer's own task: its checkpoints, encoded as the trainer
 * publishes them, and its descriptor under any run id. Training is deterministic, so every copy of the run is the
 * run a trainer with these options would publish.
 */
record TrainedRun(ModularAdditionTask.Config config, int every, int topK, List<byte[]> checkpoints, List<Long> steps) {

    static TrainedRun train(int p, int width, int epochs, int every, int topK) {
        ModularAdditionTask.Config c = new ModularAdditionTask.Config(p, width, 0.7, 0.05, 0.01, epochs, 0);
        List<byte[]> checkpoints = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        ModularAdditionTask.create(c).run(every, (epoch, step, params, m) -> {
            checkpoints.add(CheckpointRecord.encode(params, CheckpointMetadata.of(step, epoch).withMetrics(
                    m.trainLoss(), m.testLoss(), m.trainAccuracy(), m.testAccuracy())));
            steps.add(step);
            return true;
        });
        return new TrainedRun(c, every, topK, List.copyOf(checkpoints), List.copyOf(steps));
    }

    RunDescriptor descriptor(String runId) {
        return RunDescriptors.modularAddition(runId, config, every, topK);
    }

    int size() {
        return checkpoints.size();
    }
}

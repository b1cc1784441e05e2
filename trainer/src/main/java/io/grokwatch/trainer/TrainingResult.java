package io.grokwatch.trainer;

/**
 * How a {@link FullBatchTask#run} call ended.
 *
 * @param epoch     epochs completed when the run returned
 * @param steps     optimizer steps taken
 * @param completed true when all configured epochs ran; false when the listener, the stop flag or an
 *                  interrupt stopped training early (the task can be run again to continue)
 */
public record TrainingResult(int epoch, long steps, boolean completed) {
}

package io.grokwatch.trainer;

/**
 * Loss and accuracy of the current parameters. Accuracy is the share of samples whose arg-max output is the
 * label (ties go to the lowest class, as numpy's {@code argmax}). Fields a task does not define are NaN: TMS
 * has no test split and no accuracy, so only {@code trainLoss} is set there.
 */
public record TrainingMetrics(double trainLoss, double testLoss, double trainAccuracy, double testAccuracy) {

    /** Metrics of a task that only has a training loss. */
    public static TrainingMetrics trainLossOnly(double trainLoss) {
        return new TrainingMetrics(trainLoss, Double.NaN, Double.NaN, Double.NaN);
    }
}

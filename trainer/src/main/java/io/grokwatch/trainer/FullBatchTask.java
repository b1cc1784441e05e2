package io.grokwatch.trainer;

import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;

import java.util.function.BooleanSupplier;

/**
 * A model trained full batch: one optimizer step per epoch on the whole training set. Holds the live
 * parameters, the optimizer and the epoch counter; subclasses define the loss and the metrics.
 *
 * <p>Not thread-safe: one thread trains a task; listeners receive copies of the parameters.
 */
public abstract class FullBatchTask {
    private final ModelDescription description;
    private final Parameters parameters;
    private final Optimizer optimizer;
    private final int epochs;
    private int epoch;
    private int lastReported = -1;

    protected FullBatchTask(ModelDescription description, Parameters initial, Optimizer optimizer, int epochs) {
        if (epochs < 0) {
            throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        }
        this.description = description;
        this.parameters = initial.copy();
        new Network(description, parameters); // checks the shapes against the model
        this.optimizer = optimizer;
        this.epochs = epochs;
    }

    /**
     * The mean squared error of a forward pass's outputs against one-hot {@code targets} (the mean over all
     * entries, as PyTorch's {@code MSELoss}) and the parameters' gradient through {@code net}.
     */
    protected static LossGradient meanSquaredError(io.grokwatch.model.Network net,
                                                   io.grokwatch.model.Network.Activations acts,
                                                   io.grokwatch.linalg.Matrix targets) {
        io.grokwatch.linalg.Matrix out = acts.output();
        double[] o = out.data();
        double[] y = targets.data();
        io.grokwatch.linalg.Matrix g = new io.grokwatch.linalg.Matrix(out.rows(), out.cols());
        double[] gd = g.data();
        double scale = 2.0 / o.length;
        double sum = 0;
        for (int i = 0; i < o.length; i++) {
            double r = o[i] - y[i];
            sum += r * r;
            gd[i] = scale * r;
        }
        return new LossGradient(sum / o.length, net.gradient(acts, g));
    }

    /** Training loss and its gradient at {@code params} (any parameters of this model, not only the live ones). */
    public abstract LossGradient lossAndGradient(Parameters params);

    /** Loss and accuracy of {@code params}. */
    public abstract TrainingMetrics evaluate(Parameters params);

    public final ModelDescription description() {
        return description;
    }

    /** A copy of the current parameters. */
    public final Parameters parameters() {
        return parameters.copy();
    }

    public final Optimizer optimizer() {
        return optimizer;
    }

    /** Configured number of epochs. */
    public final int epochs() {
        return epochs;
    }

    /** Epochs completed so far. */
    public final int epoch() {
        return epoch;
    }

    /** Metrics of the current parameters. */
    public final TrainingMetrics metrics() {
        return evaluate(parameters);
    }

    /**
     * One epoch: the training loss and gradient at the current parameters, then one optimizer step.
     *
     * @return the training loss before the step
     */
    public final double step() {
        LossGradient lg = lossAndGradient(parameters);
        optimizer.step(parameters, lg.gradient());
        epoch++;
        return lg.loss();
    }

    /** {@link #run(int, CheckpointListener, BooleanSupplier)} without a stop flag. */
    public final TrainingResult run(int every, CheckpointListener listener) {
        return run(every, listener, () -> false);
    }

    /**
     * Trains from the current epoch to {@link #epochs()}, calling {@code listener} at epoch 0, at every multiple
     * of {@code every} and at the last epoch (each epoch at most once, also across resumed runs).
     *
     * <p>Training stops early, and can be resumed by calling {@code run} again, when the listener returns
     * false, when {@code stopRequested} returns true (checked before every epoch), or when the thread is
     * interrupted (the interrupt flag stays set).
     */
    public final TrainingResult run(int every, CheckpointListener listener, BooleanSupplier stopRequested) {
        if (every <= 0) {
            throw new IllegalArgumentException("checkpoint interval 'every' must be > 0, got " + every);
        }
        while (true) {
            if ((epoch % every == 0 || epoch == epochs) && epoch != lastReported) {
                lastReported = epoch;
                boolean keepGoing = listener.onCheckpoint(epoch, optimizer.stepCount(), parameters.copy(), metrics());
                if (!keepGoing) {
                    return new TrainingResult(epoch, optimizer.stepCount(), epoch >= epochs);
                }
            }
            if (epoch >= epochs) {
                return new TrainingResult(epoch, optimizer.stepCount(), true);
            }
            if (stopRequested.getAsBoolean() || Thread.currentThread().isInterrupted()) {
                return new TrainingResult(epoch, optimizer.stepCount(), false);
            }
            step();
        }
    }
}

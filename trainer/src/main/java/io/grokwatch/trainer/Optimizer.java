package io.grokwatch.trainer;

import io.grokwatch.model.Parameters;

/** A first-order optimiser that updates parameters in place from their gradients. */
public interface Optimizer {

    /**
     * Applies one update to {@code params} (in place) given {@code grads}, which must hold the same tensor
     * names and shapes.
     */
    void step(Parameters params, Parameters grads);

    /** Number of steps taken so far (PyTorch's {@code state["step"]}). */
    long stepCount();
}

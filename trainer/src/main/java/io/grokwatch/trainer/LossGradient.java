package io.grokwatch.trainer;

import io.grokwatch.model.Parameters;

/** A training loss and its gradient with respect to every parameter tensor. */
public record LossGradient(double loss, Parameters gradient) {
}

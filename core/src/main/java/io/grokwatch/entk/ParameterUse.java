package io.grokwatch.entk;

/**
 * One place where a parameter enters the network. Its Jacobian for output c at probe x is the rank-one
 * matrix {@code delta_c(x) (x) a(x)} or, for a transposed (tied) use, {@code a(x) (x) delta_c(x)}, where
 * {@code a} is the activation the parameter multiplies and {@code delta_c} the output gradient at the op's
 * output. Biases are uses whose activation is the constant 1.
 *
 * @param parameter    state_dict name
 * @param op           index of the op
 * @param deltaFirst   true when the parameter's row index runs over delta (weight {@code [out,in]} in a
 *                     plain linear op, or a bias); false for a transposed use, where rows run over {@code a}
 * @param bias         true when the activation is the constant 1
 */
public record ParameterUse(String parameter, int op, boolean deltaFirst, boolean bias) {
}

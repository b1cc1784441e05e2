package io.grokwatch.entk;

import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricOperator;

import java.util.List;
import java.util.Optional;

/**
 * The eNTK of one model on one probe set, whole ({@link Entk#ALL}) and per parameter group: what the
 * analysis reads, whether the model is a sequential description ({@link Entk}) or a graph
 * ({@link GraphEntk}).
 */
public interface KernelSource {
    int samples();

    int classes();

    /** Parameter groups in model order (without {@link Entk#ALL}). */
    List<String> groups();

    /** The parameters of a group, or of the whole model for {@link Entk#ALL}. */
    List<String> parameters(String group);

    long parameterCount(String group);

    /** {@code K(x,x') = (1/C) sum_c J_c(x) . J_c(x')}, N x N. */
    Matrix classMean(String group);

    Eigenpairs classMeanTop(String group, int k, int vectors, Precision precision);

    /** One block {@code J_c(x) . J_d(x')}, N x N. */
    Matrix perClass(String group, int c, int d);

    /** {@code K[(c,x),(d,x')] = s_c s_d J_c(x) . J_d(x')}, NC x NC, rows channel-major; scale null = unweighted. */
    Matrix flattened(String group, double[] scale);

    Eigenpairs flattenedTop(String group, double[] scale, int k, int vectors, Precision precision);

    /** The flattened kernel as an operator that is never formed. */
    SymmetricOperator flattenedOperator(String group, double[] scale);

    /**
     * The flattened kernel's P x P dual when the analysis should solve through it (warm starts live in the
     * dual's space); empty when the kernel side is the one to solve.
     */
    default Optional<DualGram> flattenedDual(String group, double[] scale) {
        return Optional.empty();
    }
}

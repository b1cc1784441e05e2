package io.grokwatch.analysis;

import io.grokwatch.linalg.BlockLanczos;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.linalg.TopEigenSolver;

/**
 * Chooses how to get a kernel's leading spectrum: one dense tridiagonalisation when the kernel is small enough
 * that it costs less than block iterations (the wanted block would be a large share of the side), otherwise
 * block Lanczos seeded from the previous checkpoint's eigenbasis of the same kernel (cold when there is none).
 */
public final class SpectrumSolver {
    /** Kernels up to this side are decomposed densely (measured: below it LOBPCG's block work costs more). */
    public static final int DENSE_MAX_SIDE = 2000;
    /** Residual tolerance of iterative solves ({@code ||K v - lambda v|| / lambda}). */
    public static final double TOLERANCE = 1e-6;
    /**
     * Residual of an eigenvalue read only in a gap ratio past the last wanted vector (e.g. lambda_{2(p-1)+1} of a
     * layer kernel, the end of its first cliff): bounds its relative error, so the ratio is good to 1e-3 at worst
     * (about the residual squared over the relative gap in practice: 1e-6 at p = 113).
     */
    public static final double GAP_VALUE_TOLERANCE = 1e-3;
    /**
     * Block size of a solve with gap values. The vectors before the gap converge early; what is left is the top of a
     * flat bulk, which a narrower block reaches with fewer products and a smaller basis to orthogonalise against
     * (layer-1 kernels, 202-254 pairs at p = 101-127: 0.36-0.82 s in blocks of 16 against 0.87-1.30 s in blocks of
     * 32, 25-30% fewer products).
     */
    static final int GAP_VALUE_BLOCK = 16;

    private SpectrumSolver() {
    }

    /**
     * @param pairs   the {@code values} leading eigenvalues and {@code vectors} eigenvectors
     * @param basis   what the next checkpoint's solve of this kernel starts from (and drift is measured against)
     * @param info    how the solve went
     */
    public record Solve(Eigenpairs pairs, Matrix basis, SolveInfo info) {
    }

    /** Top {@code values} eigenvalues and {@code vectors} eigenvectors of a formed symmetric kernel. */
    public static Solve top(Matrix kernel, int values, int vectors, Matrix warm) {
        return top(kernel, values, vectors, warm, Precision.FLOAT64);
    }

    /**
     * As {@link #top(Matrix, int, int, Matrix)}; {@code precision} applies to dense decompositions (iterative
     * solves keep float64 products, which their 1e-6 residual tolerance needs for the small eigenvalues).
     */
    public static Solve top(Matrix kernel, int values, int vectors, Matrix warm, Precision precision) {
        int n = kernel.rows();
        int k = Math.min(n, Math.max(values, vectors));
        if (n <= DENSE_MAX_SIDE || 3 * TopEigenSolver.blockSize(k, n, TopEigenSolver.Options.DEFAULT) >= n) {
            long t0 = System.nanoTime();
            Eigenpairs e = SymmetricEigen.top(kernel, Math.min(values, n), Math.min(vectors, n), precision);
            return new Solve(e, e.vectors(), new SolveInfo(SolveInfo.DENSE, false, 0, e.residual(),
                    (System.nanoTime() - t0) / 1e9, precision));
        }
        return iterative(SymmetricOperator.of(kernel), values, vectors, warm);
    }

    /**
     * Block size for {@code k} wanted pairs: 32 for hundreds of pairs, smaller for fewer, where a wide block mostly
     * buys products the solve does not need (TMS dual, 80 pairs: blocks of 16 take 200 ms against 320 ms).
     */
    public static int lanczosBlock(int k) {
        return Math.max(8, Math.min(BlockLanczos.Options.DEFAULT.blockSize(), k / 5));
    }

    /**
     * Warm-started (or cold) iterative solve of an operator that need not be formed: thick-restart block Lanczos
     * (two to three operator products per wanted pair), or LOBPCG when the Krylov basis would not fit the side.
     */
    public static Solve iterative(SymmetricOperator op, int values, int vectors, Matrix warm) {
        return iterative(op, values, vectors, Math.max(values, vectors), warm);
    }

    /**
     * As {@link #iterative(SymmetricOperator, int, int, Matrix)}, but only the leading {@code certified} eigenvalues
     * (and every wanted vector) need the residual {@link #TOLERANCE}; the eigenvalues after them are read only in a
     * gap ratio and need {@link #GAP_VALUE_TOLERANCE}, which bounds their relative error (block Lanczos only).
     */
    public static Solve iterative(SymmetricOperator op, int values, int vectors, int certified, Matrix warm) {
        long t0 = System.nanoTime();
        int n = op.size();
        int k = Math.min(n, Math.max(values, vectors));
        int exact = Math.min(k, Math.max(vectors, certified));
        BlockLanczos.Options lanczos = BlockLanczos.Options.DEFAULT.withTolerance(TOLERANCE)
                .withValueTolerance(GAP_VALUE_TOLERANCE)
                .withBlockSize(exact < k ? Math.min(lanczosBlock(k), GAP_VALUE_BLOCK) : lanczosBlock(k));
        TopEigenSolver.Solution s = BlockLanczos.applicable(k, n, lanczos)
                ? BlockLanczos.solve(op, k, k - exact, warm, lanczos)
                : TopEigenSolver.solve(op, k, warm, TopEigenSolver.Options.DEFAULT.withTolerance(TOLERANCE));
        Eigenpairs all = s.pairs();
        double[] v = java.util.Arrays.copyOf(all.values(), Math.min(values, k));
        Eigenpairs e = new Eigenpairs(v, all.vectors().columns(0, Math.min(vectors, k)), all.residual());
        TopEigenSolver.Report r = s.report();
        return new Solve(e, s.basis(), new SolveInfo(r.start().label(), r.fellBack(), r.iterations(), r.residual(),
                (System.nanoTime() - t0) / 1e9));
    }
}

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
     * Residual of an iterative solve on float32 products: they carry errors of about 1e-7 of the kernel's norm, which
     * is up to a few hundred times its 450th eigenvalue at p = 113 (what such solves reach on the float64 kernel:
     * docs/benchmarks.md).
     */
    public static final double FLOAT32_TOLERANCE = 1e-4;
    /** Block steps a float32 solve may take before it reports what it reached (a float64 one stops at 2,000). */
    static final int FLOAT32_MAX_BLOCK_STEPS = 300;
    /**
     * Block size of a layer kernel's solve ({@link #iterative(SymmetricOperator, int, int, int, Matrix, Precision)}).
     * Its wanted spectrum runs past the first cliff into a flat bulk (top-k beyond 2(p-1) below p = 101, the gap value
     * after it above): the vectors before the cliff converge early, and what is left, the top of that bulk, a narrower
     * block reaches with fewer products and a smaller basis to orthogonalise against: layer-1 kernels solve faster in
     * blocks of 16 than of 32 at every p measured (docs/benchmarks.md). The whole-model kernel's products are dearer
     * and its basis larger: blocks of 16 gained nothing there at p = 113, so it keeps 32.
     */
    static final int LAYER_BLOCK = 16;

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
     * As {@link #top(Matrix, int, int, Matrix)} in the given precision: of the dense decomposition, or of the
     * products of an iterative solve (see {@link #iterative(SymmetricOperator, int, int, int, Matrix, Precision)}).
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
        return iterative(SymmetricOperator.of(kernel), values, vectors, warm, precision);
    }

    /**
     * Top {@code values} eigenvalues and {@code vectors} eigenvectors of a kernel known by its terms (float64, dense):
     * formed once in native memory and decomposed there ({@link SymmetricEigen#topFormed}), for sides up to
     * {@link #DENSE_MAX_SIDE}, where the formed route beats iterations.
     */
    public static Solve formed(SymmetricOperator kernel, int values, int vectors) {
        long t0 = System.nanoTime();
        int n = kernel.size();
        Eigenpairs e = SymmetricEigen.topFormed(kernel, Math.min(values, n), Math.min(vectors, n));
        return new Solve(e, e.vectors(), new SolveInfo(SolveInfo.DENSE, false, 0, e.residual(),
                (System.nanoTime() - t0) / 1e9, Precision.FLOAT64));
    }

    /**
     * Block size for {@code k} wanted pairs: 32 for hundreds of pairs, smaller for fewer, where a wide block mostly
     * buys products the solve does not need (TMS dual, 80 pairs: measured faster in blocks of 16).
     */
    public static int lanczosBlock(int k) {
        return Math.max(8, Math.min(BlockLanczos.Options.DEFAULT.blockSize(), k / 5));
    }

    /**
     * Warm-started (or cold) iterative solve of an operator that need not be formed: thick-restart block Lanczos
     * (two to three operator products per wanted pair), or LOBPCG when the Krylov basis would not fit the side.
     */
    public static Solve iterative(SymmetricOperator op, int values, int vectors, Matrix warm) {
        return iterative(op, values, vectors, warm, Precision.FLOAT64);
    }

    /** As {@link #iterative(SymmetricOperator, int, int, Matrix)}, with products in the given precision. */
    public static Solve iterative(SymmetricOperator op, int values, int vectors, Matrix warm, Precision precision) {
        int k = Math.min(op.size(), Math.max(values, vectors));
        return solve(op, values, vectors, k, warm, precision, lanczosBlock(k));
    }

    /**
     * A layer kernel's solve: as {@link #iterative(SymmetricOperator, int, int, Matrix)} in blocks of
     * {@link #LAYER_BLOCK}, and only the leading {@code certified} eigenvalues (and every wanted vector) need the
     * residual {@link #TOLERANCE}; the eigenvalues after them are read only in a gap ratio and need
     * {@link #GAP_VALUE_TOLERANCE}, which bounds their relative error (block Lanczos only).
     */
    public static Solve iterative(SymmetricOperator op, int values, int vectors, int certified, Matrix warm) {
        return iterative(op, values, vectors, certified, warm, Precision.FLOAT64);
    }

    /**
     * As {@link #iterative(SymmetricOperator, int, int, int, Matrix)}; with {@link Precision#FLOAT32}, and when the
     * operator has a single-precision form ({@link SymmetricOperator#inFloat32()}), the products run in float32
     * down to {@link #FLOAT32_TOLERANCE} (what float32 products can resolve), and the residuals the solve reports
     * are then measured on the float64 operator, one float64 product per vector: the precision actually reached.
     * Otherwise the solve runs in float64 and says so.
     */
    public static Solve iterative(SymmetricOperator op, int values, int vectors, int certified, Matrix warm,
                                  Precision precision) {
        int k = Math.min(op.size(), Math.max(values, vectors));
        return solve(op, values, vectors, certified, warm, precision, Math.min(lanczosBlock(k), LAYER_BLOCK));
    }

    private static Solve solve(SymmetricOperator op, int values, int vectors, int certified, Matrix warm,
                               Precision precision, int block) {
        long t0 = System.nanoTime();
        int n = op.size();
        int k = Math.min(n, Math.max(values, vectors));
        int exact = Math.min(k, Math.max(vectors, certified));
        java.util.Optional<SymmetricOperator> single = precision == Precision.FLOAT32
                ? op.inFloat32() : java.util.Optional.empty();
        double tolerance = single.isPresent() ? FLOAT32_TOLERANCE : TOLERANCE;
        BlockLanczos.Options lanczos = BlockLanczos.Options.DEFAULT.withTolerance(tolerance)
                .withValueTolerance(Math.max(tolerance, GAP_VALUE_TOLERANCE))
                .withBlockSize(block);
        if (single.isPresent()) {
            // Unit roundoff of float32: a kernel more ill-conditioned than p = 113's stops at its products' floor.
            lanczos = lanczos.withMaxBlockSteps(FLOAT32_MAX_BLOCK_STEPS).withProductRoundoff(0x1p-24);
        }
        SymmetricOperator products = single.orElse(op);
        TopEigenSolver.Solution s = BlockLanczos.applicable(k, n, lanczos)
                ? BlockLanczos.solve(products, k, k - exact, warm, lanczos)
                : TopEigenSolver.solve(products, k, warm, TopEigenSolver.Options.DEFAULT.withTolerance(tolerance));
        Eigenpairs all = s.pairs();
        double[] v = java.util.Arrays.copyOf(all.values(), Math.min(values, k));
        Matrix wanted = all.vectors().columns(0, Math.min(vectors, k));
        TopEigenSolver.Report r = s.report();
        // Every certified pair is measured, whether or not its vector is returned: a values-only solve (vectors = 0)
        // must not report a perfect residual.
        double residual = single.isPresent() ? worstResidual(op, all.vectors(), all.values()) : r.residual();
        Eigenpairs e = new Eigenpairs(v, wanted, single.isPresent() ? residual : all.residual());
        return new Solve(e, s.basis(), new SolveInfo(r.start().label(), r.fellBack(), r.iterations(), residual,
                (System.nanoTime() - t0) / 1e9, single.isPresent() ? Precision.FLOAT32 : Precision.FLOAT64));
    }

    /** {@code max_j ||A v_j - lambda_j v_j|| / lambda_j} over the given vectors, from explicit products. */
    private static double worstResidual(SymmetricOperator a, Matrix vectors, double[] values) {
        if (vectors.cols() == 0) {
            return 0;
        }
        double worst = 0;
        for (double r : io.grokwatch.linalg.RayleighRitz.relativeResiduals(a.apply(vectors), vectors, values)) {
            worst = Math.max(worst, r);
        }
        return worst;
    }
}

package io.grokwatch.linalg;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas;

import java.util.Arrays;
import java.util.SplittableRandom;

import static io.grokwatch.linalg.NativeBlocks.view;

/**
 * The leading eigenpairs of a large symmetric positive semi-definite operator by thick-restart block Lanczos
 * with full re-orthogonalisation.
 *
 * <p>Why not only LOBPCG ({@link TopEigenSolver}): for hundreds of wanted pairs of a kernel with tens of
 * thousands of rows, every LOBPCG iteration orthogonalises and rotates a block three times the wanted count,
 * which costs ten times more than the operator products themselves. A Krylov basis grows by a small block per
 * operator product and needs about two to three products per wanted pair in all (a p = 113 modular-addition
 * kernel, 450 pairs: about 1,000 to 1,800 products), and its Rayleigh-Ritz matrix comes for free from the
 * re-orthogonalisation coefficients.
 *
 * <p>The basis lives in native memory, one contiguous row per basis vector, so each block step is two
 * level-3 BLAS calls over the whole basis. When the basis is full the solver keeps the leading Ritz vectors
 * (a thick restart; their Krylov relation to the next block is exact) and goes on. Convergence is the same
 * as {@link TopEigenSolver}'s, {@code ||A v - lambda v|| / lambda <= tolerance}, read from the Lanczos relation
 * ({@code A Q = Q H + Q_next R E^T}, so a Ritz pair's residual is {@code ||R s_last||}), which full
 * re-orthogonalisation keeps exact to rounding.
 *
 * <p>A warm start (the previous checkpoint's eigenvectors) seeds the first block with random combinations of
 * those vectors, so the Krylov space starts inside last checkpoint's leading eigenspace. One that cannot be used,
 * or that the first step shows to point at less of the operator than random directions, is abandoned for a random
 * block, and the report says it fell back.
 */
public final class BlockLanczos {
    /** Basis columns transformed per chunk during a restart (bounds the scratch memory). */
    private static final int RESTART_CHUNK = 2048;
    /** Fewest block steps between convergence checks (each is an eigen-decomposition of the projected matrix). */
    private static final int CHECK_EVERY = 2;
    /**
     * A residual block whose smallest squared singular value is below this share of the operator image's squared
     * scale is projected against the basis a third time (amplified rounding would exceed 1e-12 otherwise).
     */
    private static final double REPROJECT_BELOW = 1e-8;
    /** Basis vectors per wanted pair before the first convergence check of a cold solve. */
    private static final double FIRST_CHECK_PER_PAIR = 2.0;
    /**
     * The same for a warm solve: late in a run, where the kernel has settled, warm solves converge at about 1.5
     * vectors per pair, so a first look at 2.0 would hold them back (docs/benchmarks.md).
     */
    private static final double WARM_FIRST_CHECK_PER_PAIR = 1.5;
    /**
     * Residual decades a warm solve gains per block step near convergence (about half, on eNTK spectra), which
     * times the look after a warm solve's first look, when there is no earlier look to extrapolate from.
     */
    private static final double WARM_DECADES_PER_STEP = 0.5;
    /** A residual this many product roundoffs of {@code lambda_max / lambda_j} is at the products' noise floor. */
    static final double PRODUCT_FLOOR = 10;
    /** Most block steps between two convergence checks (restarts force one anyway). */
    private static final int MAX_CHECK_WAIT = 16;
    /** Random rows in a warm start's first block. */
    private static final int RANDOM_SEED_ROWS = 2;

    private BlockLanczos() {
    }

    /**
     * @param tolerance     relative residual every wanted pair must reach
     * @param blockSize     vectors added to the basis per operator application
     * @param maxBasis      basis vectors kept before a thick restart; 0 chooses {@code 2 k + 6 blockSize}
     * @param maxBlockSteps operator applications before giving up (the report then says not converged)
     * @param seed          seed of the random start (results are reproducible)
     */
    public record Options(double tolerance, int blockSize, int maxBasis, int maxBlockSteps, long seed,
                          double valueTolerance, double productRoundoff) {
        /** Residual 1e-6, blocks of 32, automatic basis size, 2,000 block steps, value-only pairs to 1e-3. */
        public static final Options DEFAULT = new Options(1e-6, 32, 0, 2000, 0x5eedL, 1e-3, 0);

        /**
         * @param valueTolerance relative residual of the trailing pairs wanted for their eigenvalue only (see
         *                       {@link #solve(SymmetricOperator, int, int, Matrix, Options)}); never below
         *                       {@code tolerance}
         * @param productRoundoff unit roundoff of the operator's products (0 for float64 products, whose rounding is
         *                        far below any tolerance; 6e-8 for float32 ones): a pair whose residual is within
         *                        ten times the roundoff of {@code lambda_max / lambda_j} is as
         *                        converged as the products can tell, whatever the tolerance
         */
        public Options {
            if (!(tolerance > 0) || tolerance >= 1) {
                throw new IllegalArgumentException("tolerance must be in (0, 1), got " + tolerance);
            }
            if (!(productRoundoff >= 0) || productRoundoff >= 1) {
                throw new IllegalArgumentException("productRoundoff must be in [0, 1), got " + productRoundoff);
            }
            if (!(valueTolerance >= tolerance) || valueTolerance >= 1) {
                throw new IllegalArgumentException("valueTolerance must be in [tolerance, 1), got " + valueTolerance
                        + " with tolerance " + tolerance);
            }
            if (blockSize < 1) {
                throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
            }
            if (maxBasis < 0) {
                throw new IllegalArgumentException("maxBasis must be >= 0 (0 = automatic), got " + maxBasis);
            }
            if (maxBlockSteps < 1) {
                throw new IllegalArgumentException("maxBlockSteps must be >= 1, got " + maxBlockSteps);
            }
        }

        /** This residual tolerance; the value-only tolerance is raised to it if it was below. */
        public Options withTolerance(double t) {
            return new Options(t, blockSize, maxBasis, maxBlockSteps, seed, Math.max(t, valueTolerance),
                    productRoundoff);
        }

        public Options withBlockSize(int b) {
            return new Options(tolerance, b, maxBasis, maxBlockSteps, seed, valueTolerance, productRoundoff);
        }

        public Options withMaxBasis(int m) {
            return new Options(tolerance, blockSize, m, maxBlockSteps, seed, valueTolerance, productRoundoff);
        }

        public Options withProductRoundoff(double u) {
            return new Options(tolerance, blockSize, maxBasis, maxBlockSteps, seed, valueTolerance, u);
        }

        public Options withMaxBlockSteps(int steps) {
            return new Options(tolerance, blockSize, maxBasis, steps, seed, valueTolerance, productRoundoff);
        }

        public Options withValueTolerance(double t) {
            return new Options(tolerance, blockSize, maxBasis, maxBlockSteps, seed, t, productRoundoff);
        }

        /**
         * The basis size used for {@code k} wanted pairs of an operator of side {@code n}. Early in a run warm solves
         * of eNTK spectra converge just past {@code 2 k + 4} blocks at p = 113: six blocks let them finish before their
         * first thick restart, whose rotation of the whole basis costs as much as three block steps (measured faster
         * for p = 113 warm solves; p = 59 and cold solves, which restart either way, unchanged; docs/benchmarks.md).
         */
        public int basisSize(int k, int n) {
            int m = maxBasis > 0 ? maxBasis : 2 * k + 6 * blockSize;
            return Math.min(m, n - blockSize);
        }
    }

    /** Whether the solver can run: the basis must hold the wanted pairs plus two blocks and leave room. */
    public static boolean applicable(int k, int n, Options options) {
        return options.basisSize(k, n) >= k + 2 * options.blockSize();
    }

    /**
     * The {@code k} largest eigenpairs of {@code a}.
     *
     * @param warm n x w previous eigenvectors (any w), or null for a cold start
     */
    public static TopEigenSolver.Solution solve(SymmetricOperator a, int k, Matrix warm, Options options) {
        return solve(a, k, 0, warm, options);
    }

    /**
     * The {@code k} largest eigenvalues of {@code a}, the last {@code valueOnly} of them wanted for their value
     * alone (a gap ratio past the last wanted vector): their residual need only reach
     * {@link Options#valueTolerance()}, which bounds the eigenvalue's relative error (Bauer-Fike; in practice the
     * error is about the residual squared over the relative gap to the next eigenvalue). Such a pair often sits in
     * a flat bulk where a residual of 1e-6 costs more block steps than all the pairs before it (the layer-1
     * kernel's end of first cliff at p = 113: 17 steps for the 225 vectors, 32 with the 226th pair at 1e-6).
     * The solution holds vectors for the first {@code k - valueOnly} pairs only, and its residual is theirs.
     */
    public static TopEigenSolver.Solution solve(SymmetricOperator a, int k, int valueOnly, Matrix warm,
                                                Options options) {
        int n = a.size();
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("need 1 <= k <= n, got k=" + k + " n=" + n);
        }
        if (valueOnly < 0 || valueOnly >= k) {
            throw new IllegalArgumentException("need 0 <= valueOnly < k, got valueOnly=" + valueOnly + " k=" + k);
        }
        if (!applicable(k, n, options)) {
            throw new IllegalArgumentException("a Krylov basis for " + k + " pairs in blocks of " + options.blockSize()
                    + " does not fit n=" + n + "; decompose the formed matrix instead (SymmetricEigen)");
        }
        try (Run run = new Run(a, k, k - valueOnly, options)) {
            return run.solve(TopEigenSolver.usableWarm(warm, n) ? warm : null, warm != null);
        }
    }

    /**
     * When to look at the Ritz pairs next. Each look is a dense eigen-decomposition of the projected matrix (as
     * costly as several block steps once the basis holds a thousand vectors), so the solver extrapolates the
     * worst residual's decay per step from the last two looks and waits a third of the predicted distance to
     * the tolerance (convergence speeds up as it goes): a few looks per solve instead of one every other step.
     */
    static final class CheckSchedule {
        /** Within this factor of the tolerance a restart resets the extrapolation. */
        private static final double NEAR_CONVERGED = 1e4;
        private final double tolerance;
        private int lastStep = -1;
        private double lastWorst;

        CheckSchedule(double tolerance) {
            this.tolerance = tolerance;
        }

        /** @param restarting a thick restart follows this look (near the end it converges faster than before) */
        int stepsUntilNextCheck(int step, double worst, boolean restarting) {
            if (restarting && worst < NEAR_CONVERGED * tolerance) {
                lastStep = -1;
                return CHECK_EVERY;
            }
            int wait = CHECK_EVERY;
            if (lastStep >= 0 && step > lastStep && worst > tolerance && worst < lastWorst) {
                double decayPerStep = Math.log(lastWorst / worst) / (step - lastStep);
                double predicted = Math.log(worst / tolerance) / decayPerStep;
                wait = (int) Math.max(CHECK_EVERY, Math.min(MAX_CHECK_WAIT, Math.floor(predicted / 3)));
            }
            lastStep = step;
            lastWorst = worst;
            return wait;
        }
    }

    /** One solve: owns the native basis. */
    private static final class Run implements AutoCloseable {
        private final SymmetricOperator a;
        private final int n;
        private final int k;
        /** Leading pairs that need the residual tolerance (and vectors); the rest of the k need only their value. */
        private final int exact;
        private final int b;
        private final int mMax;
        private final Options options;
        private final SplittableRandom rng;
        /** mMax + b rows of n: the basis, then room for the next block. */
        private final DoublePointer basis;
        private final DoublePointer work;
        /** b rows of n: a block between the two orthonormalising passes. */
        private final DoublePointer transformed;
        /** n x b: the block being multiplied, as the operator takes it. */
        private final DoublePointer operand;
        /** n x b: the operator's image of {@link #operand}. */
        private final DoublePointer image;
        /** b rows of n: the last residual block before normalisation, which the coupling to the next block reads. */
        private final DoublePointer residual;
        /** Projected matrix H = Q^T A Q over the processed rows, mMax x mMax row-major. */
        private final double[] h;
        private long products;
        private int steps;
        private boolean warmStart;
        /** A warm start was offered and abandoned (unusable, or poor by {@link #pointsAtLessThanRandom}). */
        private boolean fellBack;
        /** Rows of the first block that came from the warm start. */
        private int warmRows;
        /** Largest row norm of the latest operator image: the scale below which a residual direction is noise. */
        private double imageScale;
        /**
         * First basis row the next block's image can have more than rounding-level components along: the block
         * before it (the three-term recurrence), or row 0 after a start, a restart (the kept Ritz vectors couple
         * with the first new block) or fresh random rows.
         */
        private int localFrom;

        Run(SymmetricOperator a, int k, int exact, Options options) {
            this.a = a;
            this.n = a.size();
            this.k = k;
            this.exact = exact;
            this.b = options.blockSize();
            this.mMax = options.basisSize(k, n);
            this.options = options;
            this.rng = new SplittableRandom(options.seed());
            this.basis = new DoublePointer((long) (mMax + b) * n);
            this.work = new DoublePointer((long) b * n);
            this.transformed = new DoublePointer((long) b * n);
            this.operand = new DoublePointer((long) b * n);
            this.image = new DoublePointer((long) b * n);
            this.residual = new DoublePointer((long) b * n);
            this.h = new double[mMax * mMax];
        }

        /**
         * @param warm    the previous eigenvectors, or null
         * @param offered a warm start was offered (possibly unusable, then {@code warm} is null)
         */
        TopEigenSolver.Solution solve(Matrix warm, boolean offered) {
            int first = warm == null ? -1 : seedWarm(warm);
            warmStart = first > 0;
            fellBack = offered && !warmStart;
            if (!warmStart) {
                first = seedRandom(b, 0);
            }
            if (first == 0) {
                throw new IllegalStateException("start block has no usable direction");
            }
            int processed = 0;
            int size = first;
            double[] lastR = null;
            int lastBlockRows = 0;
            Ritz ritz = null;
            int sinceCheck = 0;
            int checkAfter = CHECK_EVERY;
            // A cold Krylov basis needs about 2 vectors per wanted pair before the last wanted pairs converge (measured
            // on eNTK spectra: docs/benchmarks.md), so there is nothing to look at before that (or before the first
            // restart, after which the kept Ritz vectors can converge at any step). A look at a thousand-vector basis
            // costs as much as one to two block steps, so early looks are not free: from 1.2 or 1.5 vectors per pair
            // they cost cold solves measurably. Warm solves late in a run converge sooner (about 1.5 vectors per pair),
            // so they look first at 1.5 and then wait at their usual pace; early in a run, where they need more, the
            // one early look costs little.
            int coldFirstCheck = firstCheckAt(FIRST_CHECK_PER_PAIR);
            int firstCheck = warmStart ? firstCheckAt(WARM_FIRST_CHECK_PER_PAIR) : coldFirstCheck;
            int looks = 0;
            CheckSchedule schedule = new CheckSchedule(options.tolerance());
            while (true) {
                int blk = size - processed;
                steps++;
                double[] c = expand(processed, blk, size);
                if (steps == 1 && warmStart && pointsAtLessThanRandom(c, blk)) {
                    // The first block's products are spent; the rest of the solve runs from a random block.
                    warmStart = false;
                    fellBack = true;
                    firstCheck = coldFirstCheck;
                    size = seedRandom(b, 0);
                    continue;
                }
                for (int i = 0; i < size; i++) {
                    for (int j = 0; j < blk; j++) {
                        double v = c[i * blk + j];
                        h[i * mMax + processed + j] = v;
                        h[(processed + j) * mMax + i] = v;
                    }
                }
                for (int i = 0; i < blk; i++) {
                    for (int j = 0; j < i; j++) {
                        int p = (processed + i) * mMax + processed + j;
                        int q = (processed + j) * mMax + processed + i;
                        double v = 0.5 * (h[p] + h[q]);
                        h[p] = v;
                        h[q] = v;
                    }
                }
                processed = size;
                // The residual block W (in work, blk rows) becomes the next basis block Q_next with W = Q_next^T R.
                openblas.cblas_dcopy(blk * n, work, 1, residual, 1);
                int next = normaliseInto(work, blk, processed, true);
                double[] r = coupling(processed, next, blk);
                lastR = r;
                lastBlockRows = blk;
                sinceCheck++;
                boolean full = processed + Math.max(next, 1) > mMax;
                // A full basis must restart, which needs the Ritz vectors (it holds more than k + b of them then).
                boolean check = full || (processed >= firstCheck
                        && (sinceCheck >= checkAfter || next == 0 || steps >= options.maxBlockSteps()));
                if (check) {
                    sinceCheck = 0;
                    ritz = ritz(processed, Math.min(processed, full ? keepCount(processed) : k), lastR, next,
                            lastBlockRows);
                    if (ritz.converged(options) || steps >= options.maxBlockSteps()) {
                        return finish(ritz, processed);
                    }
                    checkAfter = schedule.stepsUntilNextCheck(steps, ritz.lag(options), full);
                    if (++looks == 1 && warmStart && !full) {
                        // A warm solve looks early; with one look only, wait for the decades still to go at the
                        // usual pace, but no longer than a cold solve would have waited for its first look.
                        int untilCold = (int) Math.ceil((coldFirstCheck - processed) / (double) b);
                        int paced = (int) Math.ceil(Math.log10(ritz.lag(options) / options.tolerance())
                                / WARM_DECADES_PER_STEP);
                        checkAfter = Math.max(CHECK_EVERY, Math.min(untilCold, paced));
                    }
                    if (full) {
                        int keep = ritz.values.length;
                        restart(ritz, processed, keep, lastR, next, lastBlockRows);
                        localFrom = 0;
                        processed = keep;
                        firstCheck = 0;
                    }
                }
                if (next == 0) {
                    // The basis spans an invariant subspace: continue from fresh random directions.
                    next = seedRandom(b, processed);
                    localFrom = 0;
                }
                size = processed + next;
            }
        }

        /** Basis size of the first convergence check at {@code perPair} vectors per wanted pair (within the basis). */
        private int firstCheckAt(double perPair) {
            return Math.min(Math.max(k + b, (int) Math.ceil(perPair * k)), mMax);
        }

        /** Applies A to basis rows [from, from+blk) and orthogonalises the images against rows [0, size) twice. */
        private double[] expand(int from, int blk, int size) {
            // The block's rows become the columns of an n x blk operand, and the image's columns the rows of the
            // residual block, by strided copies in native memory (the operators work there too).
            for (int r = 0; r < blk; r++) {
                openblas.cblas_dcopy(n, view(basis, (long) (from + r) * n), 1, view(operand, r), blk);
            }
            products += blk;
            a.applyTo(operand, blk, image);
            imageScale = 0;
            for (int r = 0; r < blk; r++) {
                DoublePointer row = view(work, (long) r * n);
                openblas.cblas_dcopy(n, view(image, r), blk, row, 1);
                imageScale = Math.max(imageScale, openblas.cblas_dnrm2(n, row, 1));
            }
            // Twice is enough, and the first pass only needs the rows the image is not already orthogonal to in exact
            // arithmetic: it removes the large components (where the cancellation happens), so one pass over the
            // whole basis then leaves the new block orthogonal to rounding. normaliseInto projects once more when the
            // block nearly cancelled even so.
            int lo = Math.min(localFrom, from);
            localFrom = from;
            double[] total = new double[size * blk];
            for (int pass = 0; pass < 2; pass++) {
                int start = pass == 0 ? lo : 0;
                double[] c = subtractProjection(work, blk, start, size);
                int rowsDone = size - start;
                // H's column block is Q (A X)^T, the transpose of the coefficients (blk x rows).
                for (int j = 0; j < blk; j++) {
                    for (int i = 0; i < rowsDone; i++) {
                        total[(start + i) * blk + j] += c[j * rowsDone + i];
                    }
                }
            }
            return total;
        }

        /**
         * {@code W -= (W Q^T) Q} in place for the {@code r} rows at {@code w}, against basis rows [0, rows);
         * returns the coefficients {@code W Q^T} (r x rows).
         */
        private double[] subtractProjection(DoublePointer w, int r, int rows) {
            return subtractProjection(w, r, 0, rows);
        }

        /** As {@link #subtractProjection(DoublePointer, int, int)} against basis rows [first, last) only. */
        private double[] subtractProjection(DoublePointer w, int r, int first, int last) {
            int rows = last - first;
            if (rows == 0) {
                return new double[0];
            }
            int mid = TwoWay.worthSplitting((long) r * rows * n) ? TwoWay.middle(n) : n;
            DoublePointer coef = new DoublePointer((long) r * rows);
            DoublePointer coef2 = new DoublePointer((long) r * rows);
            try {
                // Coefficients W Q^T as the sum of the two column halves' products, then each half of W updated.
                if (mid < n) {
                    TwoWay.run(() -> coefficients(w, r, first, rows, 0, mid, coef),
                            () -> coefficients(w, r, first, rows, mid, n, coef2));
                } else {
                    coefficients(w, r, first, rows, 0, n, coef);
                }
                double[] c = new double[r * rows];
                coef.get(c, 0, c.length);
                if (mid < n) {
                    double[] c2 = new double[r * rows];
                    coef2.get(c2, 0, c2.length);
                    for (int i = 0; i < c.length; i++) {
                        c[i] += c2[i];
                    }
                    coef.put(c, 0, c.length);
                    TwoWay.run(() -> subtract(w, r, first, rows, 0, mid, coef),
                            () -> subtract(w, r, first, rows, mid, n, coef));
                } else {
                    subtract(w, r, first, rows, 0, n, coef);
                }
                return c;
            } finally {
                coef.close();
                coef2.close();
            }
        }

        /** {@code out = W[:, from:to] Q[first:first+rows, from:to]^T} (r x rows). */
        private void coefficients(DoublePointer w, int r, int first, int rows, int from, int to, DoublePointer out) {
            openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasTrans,
                    r, rows, to - from, 1.0, view(w, from), n, view(basis, (long) first * n + from), n, 0.0, out, rows);
        }

        /** {@code W[:, from:to] -= coef Q[first:first+rows, from:to]}. */
        private void subtract(DoublePointer w, int r, int first, int rows, int from, int to, DoublePointer coef) {
            openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans,
                    r, to - from, rows, -1.0, coef, rows, view(basis, (long) first * n + from), n, 1.0, view(w, from),
                    n);
        }


        /**
         * Orthonormalises the {@code rows} rows in {@code work} (already orthogonal to the basis up to rounding)
         * and writes them to basis rows starting at {@code at}; directions below the noise level of the residual
         * are dropped. Returns the number written.
         */
        private int normaliseInto(DoublePointer block, int rows, int at, boolean residualBlock) {
            // Two passes (an orthonormalising transform of the Gram matrix, then a second transform) keep the new
            // rows orthonormal to rounding. The transform scales the rounding-level components along the basis that
            // the projections left by up to 1/sigma_min; only when that amplification could make them visible
            // (the block nearly cancelled, e.g. close to an invariant subspace) is the block projected once more.
            // All of it stays in native memory: the block is n wide, its Gram matrix and transform tiny.
            boolean reproject = true;
            DoublePointer src = block;
            int count = rows;
            for (int pass = 0; pass < 2; pass++) {
                if (pass == 1 && at > 0 && reproject) {
                    subtractProjection(src, count, at);
                }
                double[] g = gramOf(src, count);
                Eigenpairs e = SymmetricEigen.topRobust(TopEigenSolver.symmetrise(new Matrix(count, count, g)), count);
                double[] d = e.values();
                // Pass 0 drops directions of the residual at the rounding level of the operator's image (an
                // invariant subspace was found), pass 1 those that the projection showed to be dependent.
                double floor = pass == 0 ? (!residualBlock ? 1e-24 * d[0] : 1e-24 * imageScale * imageScale)
                        : 1e-12;
                int keep = 0;
                while (keep < d.length && d[keep] > floor) {
                    keep++;
                }
                if (keep == 0) {
                    return 0;
                }
                if (pass == 0 && residualBlock) {
                    reproject = d[keep - 1] < REPROJECT_BELOW * imageScale * imageScale;
                }
                double[] t = new double[keep * count];
                for (int i = 0; i < keep; i++) {
                    double inv = 1.0 / Math.sqrt(d[i]);
                    for (int j = 0; j < count; j++) {
                        t[i * count + j] = e.vectors().get(j, i) * inv;
                    }
                }
                DoublePointer dst = pass == 0 ? transformed : view(basis, (long) at * n);
                try (DoublePointer tp = new DoublePointer(t)) {
                    openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans,
                            keep, n, count, 1.0, tp, count, src, n, 0.0, dst, n);
                }
                src = transformed;
                count = keep;
            }
            return count;
        }

        /** {@code W W^T} of the {@code rows} rows at {@code w}, both triangles filled. */
        private double[] gramOf(DoublePointer w, int rows) {
            double[] g = new double[rows * rows];
            try (DoublePointer gp = new DoublePointer((long) rows * rows)) {
                openblas.cblas_dsyrk(openblas.CblasRowMajor, openblas.CblasUpper, openblas.CblasNoTrans,
                        rows, n, 1.0, w, n, 0.0, gp, rows);
                gp.get(g);
            }
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < i; j++) {
                    g[i * rows + j] = g[j * rows + i];
                }
            }
            return g;
        }

        /** {@code q - (q Q^T) Q} against basis rows [0, rows). */
        private Matrix projectOut(Matrix q, int rows) {
            DoublePointer qp = new DoublePointer(q.data());
            try {
                subtractProjection(qp, q.rows(), rows);
                double[] out = new double[q.rows() * n];
                qp.get(out, 0, out.length);
                return new Matrix(q.rows(), n, out);
            } finally {
                qp.close();
            }
        }

        /** R (next x blk) with W = Q_next^T R: the coupling of the new block to the one just processed. */
        private double[] coupling(int at, int next, int blk) {
            if (next == 0) {
                return new double[0];
            }
            double[] r = new double[next * blk];
            try (DoublePointer out = new DoublePointer((long) next * blk)) {
                openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasTrans, next, blk, n,
                        1.0, view(basis, (long) at * n), n, residual, n, 0.0, out, blk);
                out.get(r);
            }
            return r;
        }

        /** {@code rows} random directions orthonormalised into basis rows from {@code at}; how many survive. */
        private int seedRandom(int rows, int at) {
            double[] w = new double[rows * n];
            for (int i = 0; i < w.length; i++) {
                w[i] = rng.nextDouble() - 0.5;
            }
            Matrix q = at > 0 ? projectOut(new Matrix(rows, n, w), at) : new Matrix(rows, n, w);
            work.position(0).put(q.data(), 0, q.data().length);
            return normaliseInto(work, rows, at, false);
        }

        /**
         * The first block from a warm start: random combinations of the previous eigenvectors in rows
         * [0, warmRows), so the Krylov space starts inside the last checkpoint's leading eigenspace, then
         * {@link #RANDOM_SEED_ROWS} random rows, so that a wrong but invariant warm subspace cannot look converged
         * and the first step can judge the warm rows against directions that know nothing. Returns the block's
         * rows, or -1 when the warm vectors span nothing.
         */
        private int seedWarm(Matrix warm) {
            int random = Math.min(RANDOM_SEED_ROWS, b - 1);
            int combos = b - random;
            int w = warm.cols();
            Matrix g = new Matrix(combos, w);
            double[] gd = g.data();
            for (int i = 0; i < gd.length; i++) {
                gd[i] = rng.nextDouble() - 0.5;
            }
            // Row r of the block is sum_j g[r][j] warm[:, j]: one GEMM (combos x n) = G warm^T.
            double[] start = Blas.multiply(g, false, warm, true).data();
            work.position(0).put(start, 0, start.length);
            warmRows = normaliseInto(work, combos, 0, false);
            if (warmRows == 0) {
                return -1;
            }
            return random == 0 ? warmRows : warmRows + seedRandom(random, warmRows);
        }

        /**
         * A warm start is poor when its vectors point at less of the operator than random directions do: the
         * largest Ritz value of the warm rows is no larger than the random rows' largest Rayleigh quotient (random
         * directions average the whole spectrum; a leading eigenspace of a nearby operator sits far above that
         * average). Krylov iteration from such a start converges, but from further away than a random start
         * (measured: more products from trailing or middle eigenvectors; docs/benchmarks.md).
         *
         * @param c the first step's coefficients {@code Q^T A Q} (blk x blk, row-major with stride blk)
         */
        private boolean pointsAtLessThanRandom(double[] c, int blk) {
            if (warmRows >= blk) {
                return false;
            }
            Matrix hw = new Matrix(warmRows, warmRows);
            for (int i = 0; i < warmRows; i++) {
                for (int j = 0; j < warmRows; j++) {
                    hw.set(i, j, 0.5 * (c[i * blk + j] + c[j * blk + i]));
                }
            }
            double warmBest = SymmetricEigen.topRobust(hw, 1).values()[0];
            double randomBest = Double.NEGATIVE_INFINITY;
            for (int i = warmRows; i < blk; i++) {
                randomBest = Math.max(randomBest, c[i * blk + i]);
            }
            return !(warmBest > randomBest);
        }

        /**
         * The leading Ritz pairs at a check; the Ritz vectors (coefficients over the basis) are formed only when a
         * restart or the end reads them.
         */
        /**
         * @param worst          largest residual of the pairs that need the tolerance (what the solve reports)
         * @param unresolved     the same, each residual first divided by its pair's floor-raised tolerance, on the
         *                       tolerance's scale (equals {@code worst} for float64 products)
         * @param worstValueOnly as {@code unresolved} for the value-only pairs, on the value tolerance's scale
         */
        private record Ritz(double[] values, RitzDecomposition decomposition, Matrix lastRows, double[] residuals,
                            double worst, double unresolved, double worstValueOnly) {
            Matrix vectors() {
                return decomposition.vectors();
            }

            boolean converged(Options o) {
                return unresolved <= o.tolerance() && worstValueOnly <= o.valueTolerance();
            }

            /** The worst residual on the scale of the vector tolerance, for the check schedule. */
            double lag(Options o) {
                return Math.max(unresolved, worstValueOnly * o.tolerance() / o.valueTolerance());
            }
        }

        /**
         * Rayleigh-Ritz on the processed basis: the leading {@code count} pairs of H and their residuals
         * {@code ||R s_last||} (the wanted ones relative to their eigenvalue).
         */
        private Ritz ritz(int processed, int count, double[] r, int next, int blk) {
            Matrix hm = new Matrix(processed, processed);
            double[] hd = hm.data();
            for (int i = 0; i < processed; i++) {
                System.arraycopy(h, i * mMax, hd, i * processed, processed);
            }
            RitzDecomposition e = RitzDecomposition.of(hm, count);
            double[] values = e.values();
            // Row l of the last block of every Ritz vector: all a residual reads.
            Matrix last = e.lastRows(blk);
            double[] ld = last.data();
            double[] residuals = new double[count];
            double scale = Math.abs(values[0]);
            double worst = 0;
            double unresolved = 0;
            double worstValueOnly = 0;
            double tol = options.tolerance();
            double valueTol = options.valueTolerance();
            for (int j = 0; j < count; j++) {
                double sum = 0;
                for (int i = 0; i < next; i++) {
                    double v = 0;
                    for (int l = 0; l < blk; l++) {
                        v += r[i * blk + l] * ld[l * count + j];
                    }
                    sum += v * v;
                }
                residuals[j] = Math.sqrt(sum) / Math.max(Math.abs(values[j]),
                        TopEigenSolver.ZERO_EIGENVALUE * scale + Double.MIN_NORMAL);
                double floor = PRODUCT_FLOOR * options.productRoundoff() * scale
                        / Math.max(Math.abs(values[j]), Double.MIN_NORMAL);
                if (j < exact) {
                    worst = Math.max(worst, residuals[j]);
                    unresolved = Math.max(unresolved, residuals[j] * tol / Math.max(tol, floor));
                } else if (j < k) {
                    worstValueOnly = Math.max(worstValueOnly, residuals[j] * valueTol / Math.max(valueTol, floor));
                }
            }
            return new Ritz(values, e, last, residuals, worst, unresolved, worstValueOnly);
        }

        /** Ritz vectors kept at a restart: the wanted pairs plus half the rest of the basis, leaving room to grow. */
        private int keepCount(int processed) {
            return Math.min(processed - b, k + (mMax - k) / 2);
        }

        /**
         * Thick restart: basis rows [0, keep) become the leading Ritz vectors, H their diagonal, and the block
         * after them is the pending next block (moved down), coupled to them through {@code R S_last}.
         */
        private void restart(Ritz ritz, int processed, int keep, double[] r, int next, int blk) {
            Matrix s = ritz.vectors().columns(0, keep);
            rotateRows(s, processed, keep);
            if (next > 0) {
                openblas.cblas_dcopy(next * n, view(basis, (long) processed * n), 1, view(basis, (long) keep * n), 1);
            }
            Arrays.fill(h, 0.0);
            for (int i = 0; i < keep; i++) {
                h[i * mMax + i] = ritz.values[i];
            }
            double[] ld = ritz.lastRows().data();
            int count = ritz.values().length;
            for (int i = 0; i < next; i++) {
                for (int j = 0; j < keep; j++) {
                    double v = 0;
                    for (int l = 0; l < blk; l++) {
                        v += r[i * blk + l] * ld[l * count + j];
                    }
                    h[(keep + i) * mMax + j] = v;
                    h[j * mMax + keep + i] = v;
                }
            }
        }

        /** Basis rows [0, keep) = S^T Q over rows [0, processed), column chunk by column chunk, in place. */
        private void rotateRows(Matrix s, int processed, int keep) {
            DoublePointer sp = new DoublePointer(s.data());
            try {
                int chunks = (n + RESTART_CHUNK - 1) / RESTART_CHUNK;
                if (chunks > 1 && TwoWay.worthSplitting((long) keep * processed * n)) {
                    int half = chunks / 2;
                    TwoWay.run(() -> rotateChunks(sp, processed, keep, 0, half),
                            () -> rotateChunks(sp, processed, keep, half, chunks));
                } else {
                    rotateChunks(sp, processed, keep, 0, chunks);
                }
            } finally {
                sp.close();
            }
        }

        /** {@link #rotateRows} over column chunks [from, to); touches only those columns. */
        private void rotateChunks(DoublePointer sp, int processed, int keep, int from, int to) {
            try (DoublePointer tmp = new DoublePointer((long) keep * RESTART_CHUNK)) {
                for (int chunk = from; chunk < to; chunk++) {
                    int c0 = chunk * RESTART_CHUNK;
                    int w = Math.min(RESTART_CHUNK, n - c0);
                    openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasTrans, openblas.CblasNoTrans,
                            keep, w, processed, 1.0, sp, keep, view(basis, c0), n, 0.0, tmp, w);
                    for (int i = 0; i < keep; i++) {
                        openblas.cblas_dcopy(w, view(tmp, (long) i * w), 1, view(basis, (long) i * n + c0), 1);
                    }
                }
            }
        }

        private TopEigenSolver.Solution finish(Ritz ritz, int processed) {
            int m = exact;
            Matrix s = ritz.vectors().columns(0, m);
            // V = Q^T S (n x m).
            DoublePointer sp = new DoublePointer(s.data());
            DoublePointer vp = new DoublePointer((long) n * m);
            Matrix v = new Matrix(n, m);
            try {
                int mid = TwoWay.worthSplitting((long) n * m * processed) ? TwoWay.middle(n) : n;
                Runnable top = () -> openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasTrans,
                        openblas.CblasNoTrans, mid, m, processed, 1.0, view(basis, 0), n, sp, m, 0.0, vp, m);
                Runnable bottom = () -> openblas.cblas_dgemm(openblas.CblasRowMajor, openblas.CblasTrans,
                        openblas.CblasNoTrans, n - mid, m, processed, 1.0, view(basis, mid), n, sp, m, 0.0,
                        view(vp, (long) mid * m), m);
                if (mid < n) {
                    TwoWay.run(top, bottom);
                } else {
                    top.run();
                }
                vp.get(v.data(), 0, n * m);
            } finally {
                sp.close();
                vp.close();
            }
            Matrix wanted = v;
            Columns.fixSigns(wanted);
            double worst = ritz.worst;
            TopEigenSolver.Report report = new TopEigenSolver.Report(
                    warmStart ? TopEigenSolver.Start.WARM : TopEigenSolver.Start.COLD, fellBack, steps, products,
                    worst, ritz.converged(options));
            // The wanted vectors are all a later warm start needs (it mixes them into its first block).
            return new TopEigenSolver.Solution(new Eigenpairs(Arrays.copyOf(ritz.values, k), wanted, worst), wanted,
                    report);
        }

        @Override
        public void close() {
            basis.close();
            work.close();
            transformed.close();
            operand.close();
            image.close();
            residual.close();
        }
    }
}

package io.grokwatch.entk;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Columns;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;

import java.util.ArrayList;
import java.util.List;

/**
 * The P x P dual of the flattened kernel, {@code G = sum_{c,x} s_c^2 g_c(x) g_c(x)^T}, assembled from the
 * layer structure: for uses u, v the block is {@code sum_x (a_u a_v^T)(x) (x) (sum_c s_c^2 delta_u,c
 * delta_v,c^T)(x)}, one GEMM over the probes instead of one rank-one update per (class, probe).
 */
public final class DualGram {
    /** Weighted activations held at once by {@link #factoredBlockProduct} (doubles). */
    private static final long MAX_WEIGHTED_ENTRIES = 4_000_000L;

    private final LayerStructure s;
    private final java.util.concurrent.atomic.AtomicInteger factoredBlocks = new java.util.concurrent.atomic.AtomicInteger();
    private final List<String> parameters;
    private final double[] scale;
    private final int[] offsets;
    private final int size;

    DualGram(LayerStructure s, List<String> parameters, double[] scale) {
        this.s = s;
        this.parameters = parameters;
        this.scale = scale;
        this.offsets = new int[parameters.size()];
        int off = 0;
        for (int i = 0; i < parameters.size(); i++) {
            offsets[i] = off;
            Matrix m = s.network().parameters().get(parameters.get(i));
            off += m.rows() * m.cols();
        }
        this.size = off;
    }

    /** The P x P matrix (formed anew on every call; P at most {@link Entk#MAX_DENSE_SIDE}). */
    public Matrix gram() {
        Entk.requireDense("dual Gram", size);
        record Block(ParameterUse u, int offU, ParameterUse v, int offV, boolean mirror) {
        }
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < parameters.size(); i++) {
            List<ParameterUse> ui = s.usesOf(parameters.get(i));
            for (int j = i; j < parameters.size(); j++) {
                List<ParameterUse> uj = s.usesOf(parameters.get(j));
                for (int a = 0; a < ui.size(); a++) {
                    // Within one parameter, block (v, u) is the transpose of (u, v): compute it once.
                    for (int b = i == j ? a : 0; b < uj.size(); b++) {
                        blocks.add(new Block(ui.get(a), offsets[i], uj.get(b), offsets[j], i != j || a != b));
                    }
                }
            }
        }
        factoredBlocks.set(0);
        Matrix g = new Matrix(size, size);
        // Blocks of distinct uses also stand for their transposes, collected apart and added transposed at the end:
        // scattering each entry twice would write the mirror column by column, one cache line per entry.
        Matrix mirrored = null;
        // The per-block products are independent; scattering them into G is cheap and done in order.
        List<Product> products = blocks.parallelStream().map(b -> blockProduct(b.u(), b.v())).toList();
        for (int k = 0; k < blocks.size(); k++) {
            Block b = blocks.get(k);
            if (b.mirror() && mirrored == null) {
                mirrored = new Matrix(size, size);
            }
            scatter(b.mirror() ? mirrored : g, products.get(k), b.u(), b.offU(), b.v(), b.offV());
        }
        if (mirrored != null) {
            addWithTranspose(g, mirrored);
        }
        return g;
    }

    /**
     * A block product over the rows ({@code j1 * dav + j2}) and columns ({@code i1 * ddv + i2}) that can be
     * non-zero; null stands for all of them.
     */
    private record Product(Matrix values, int[] rows, int[] cols) {
    }

    /** {@code g += m + m^T}, tile by tile so that both the rows and the columns of a tile stay in cache. */
    private static void addWithTranspose(Matrix g, Matrix m) {
        int n = g.rows();
        double[] gd = g.data();
        double[] md = m.data();
        int tile = 64;
        for (int i0 = 0; i0 < n; i0 += tile) {
            for (int j0 = 0; j0 < n; j0 += tile) {
                int i1 = Math.min(n, i0 + tile);
                int j1 = Math.min(n, j0 + tile);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        gd[i * n + j] += md[i * n + j] + md[j * n + i];
                    }
                }
            }
        }
    }

    /** {@code t[(j1,j2),(i1,i2)] = sum_x a_u[j1] a_v[j2] sum_c s_c^2 delta_u,c[i1] delta_v,c[i2]}. */
    private Product blockProduct(ParameterUse u, ParameterUse v) {
        java.util.Optional<LayerStructure.ClassFactor> fu = s.classFactor(u.op());
        java.util.Optional<LayerStructure.ClassFactor> fv = s.classFactor(v.op());
        if (fu.isPresent() && fv.isPresent()) {
            int[] pairs = directionPairs(fu.get().directions(), fv.get().directions());
            double n = s.samples();
            double c = s.classes();
            double dau = s.activation(u).cols();
            double dav = s.activation(v).cols();
            // Multiply-adds of either route; the non-zero output-gradient pairs bound both GEMMs' widths. The probe-first
            // route also fills and scans two probe-by-outer-product matrices (measured: the TMS read-out block with its
            // 50 non-zero pairs takes several times longer that way than class-first, at about equal multiply-adds).
            double ddu = s.deltaWidth(u);
            double ddv = s.deltaWidth(v);
            double probeFirst = n * c * pairs.length + n * dau * dav * pairs.length + 2 * n * (dau * dav + ddu * ddv);
            double classFirst = n * dau * c * dav + dau * dav * c * pairs.length;
            if (classFirst < probeFirst) {
                factoredBlocks.incrementAndGet();
                return factoredBlockProduct(u, fu.get(), v, fv.get(), pairs);
            }
        }
        return probeFirstBlockProduct(u, v);
    }

    /** Columns {@code i1 * ddv + i2} of the block where some class has {@code b_u[i1,c] b_v[i2,c] != 0}. */
    private int[] directionPairs(Matrix bu, Matrix bv) {
        int c = s.classes();
        int ddv = bv.rows();
        boolean[] used = new boolean[bu.rows() * ddv];
        double[] bud = bu.data();
        double[] bvd = bv.data();
        for (int cls = 0; cls < c; cls++) {
            for (int i1 = 0; i1 < bu.rows(); i1++) {
                if (bud[i1 * c + cls] == 0.0) {
                    continue;
                }
                for (int i2 = 0; i2 < ddv; i2++) {
                    if (bvd[i2 * c + cls] != 0.0) {
                        used[i1 * ddv + i2] = true;
                    }
                }
            }
        }
        return java.util.stream.IntStream.range(0, used.length).filter(i -> used[i]).toArray();
    }

    /**
     * The block when both uses' output gradients factor as {@code delta_c(x) = r_c(x) b_c}
     * ({@link LayerStructure#classFactor}): {@code t = sum_c M_c (x) (b_u,c b_v,c^T)} with
     * {@code M_c = A_u^T diag(s_c^2 r_u,c r_v,c) A_v}. The probe sum runs once per class over the activations
     * alone, and the class sum is one GEMM over the directions, instead of a GEMM over every probe's outer product
     * of output gradients (TMS m = 40: ~0.3 instead of ~2 billion multiply-adds per weight block).
     */
    private Product factoredBlockProduct(ParameterUse u, LayerStructure.ClassFactor fu, ParameterUse v,
                                         LayerStructure.ClassFactor fv, int[] pairs) {
        int n = s.samples();
        int c = s.classes();
        Matrix au = s.activation(u);
        Matrix av = s.activation(v);
        int dau = au.cols();
        int dav = av.cols();
        Matrix bu = fu.directions();
        Matrix bv = fv.directions();
        int ddu = bu.rows();
        int ddv = bv.rows();
        double[] ru = fu.rates().data();
        double[] rv = fv.rates().data();
        double[] avd = av.data();
        // Classes in chunks so that the weighted activations stay within a few tens of megabytes.
        int chunk = (int) Math.max(1, Math.min(c, MAX_WEIGHTED_ENTRIES / Math.max(1L, (long) n * dav)));
        Matrix compact = new Matrix(dau * dav, pairs.length);
        for (int c0 = 0; c0 < c; c0 += chunk) {
            int cs = Math.min(chunk, c - c0);
            // z[x, k*dav + j2] = s_c^2 r_u,c(x) r_v,c(x) a_v[x, j2] for c = c0 + k.
            Matrix z = new Matrix(n, cs * dav);
            double[] zd = z.data();
            for (int x = 0; x < n; x++) {
                for (int k = 0; k < cs; k++) {
                    int cls = c0 + k;
                    double q = scale[cls] * scale[cls] * ru[x * c + cls] * rv[x * c + cls];
                    if (q == 0.0) {
                        continue;
                    }
                    int dst = x * cs * dav + k * dav;
                    int src = x * dav;
                    for (int j2 = 0; j2 < dav; j2++) {
                        zd[dst + j2] = q * avd[src + j2];
                    }
                }
            }
            double[] m = Blas.multiply(au, true, z, false).data();
            // mp[(j1,j2), k] = M_(c0+k)[j1, j2].
            Matrix mp = new Matrix(dau * dav, cs);
            double[] mpd = mp.data();
            for (int j1 = 0; j1 < dau; j1++) {
                for (int k = 0; k < cs; k++) {
                    for (int j2 = 0; j2 < dav; j2++) {
                        mpd[(j1 * dav + j2) * cs + k] = m[j1 * cs * dav + k * dav + j2];
                    }
                }
            }
            // bp[k, p] = b_u[i1, c0+k] b_v[i2, c0+k] for the p-th non-zero pair (i1, i2).
            Matrix bp = new Matrix(cs, pairs.length);
            double[] bpd = bp.data();
            double[] bud = bu.data();
            double[] bvd = bv.data();
            for (int k = 0; k < cs; k++) {
                int cls = c0 + k;
                for (int p = 0; p < pairs.length; p++) {
                    int i1 = pairs[p] / ddv;
                    int i2 = pairs[p] % ddv;
                    bpd[k * pairs.length + p] = bud[i1 * c + cls] * bvd[i2 * c + cls];
                }
            }
            Blas.gemm(1.0, mp, false, bp, false, 1.0, compact);
        }
        return new Product(compact, null, pairs.length == ddu * ddv ? null : pairs);
    }

    /** Per-probe outer products of activations and of class-summed output gradients, then one GEMM over probes. */
    private Product probeFirstBlockProduct(ParameterUse u, ParameterUse v) {
        int n = s.samples();
        int c = s.classes();
        Matrix au = s.activation(u);
        Matrix av = s.activation(v);
        int dau = au.cols();
        int dav = av.cols();
        Matrix gu = s.classGradients(u.op());
        Matrix gv = s.classGradients(v.op());
        int ddu = gu.cols();
        int ddv = gv.cols();

        Matrix acts = new Matrix(n, dau * dav);
        Matrix deltas = new Matrix(n, ddu * ddv);
        double[] ad = acts.data();
        double[] dd = deltas.data();
        double[] aud = au.data();
        double[] avd = av.data();
        double[] gud = gu.data();
        double[] gvd = gv.data();
        double[] sq = new double[c];
        for (int k = 0; k < c; k++) {
            sq[k] = scale[k] * scale[k];
        }
        for (int x = 0; x < n; x++) {
            int ab = x * dau * dav;
            for (int j1 = 0; j1 < dau; j1++) {
                double a1 = aud[x * dau + j1];
                for (int j2 = 0; j2 < dav; j2++) {
                    ad[ab + j1 * dav + j2] = a1 * avd[x * dav + j2];
                }
            }
            int db = x * ddu * ddv;
            for (int k = 0; k < c; k++) {
                int ru = (x * c + k) * ddu;
                int rv = (x * c + k) * ddv;
                for (int i1 = 0; i1 < ddu; i1++) {
                    double w = sq[k] * gud[ru + i1];
                    if (w == 0.0) {
                        continue;
                    }
                    int row = db + i1 * ddv;
                    for (int i2 = 0; i2 < ddv; i2++) {
                        dd[row + i2] += w * gvd[rv + i2];
                    }
                }
            }
        }
        return compressedProduct(acts, deltas);
    }

    /**
     * {@code A^T D} over the columns of each that are non-zero for some probe: sparse inputs (TMS: 90% of features
     * are zero per input, every feature non-zero somewhere) keep all columns, but one-hot output derivatives leave
     * only the diagonal of their outer products (50 of 2,500 columns), which would otherwise cost a GEMM and a
     * scatter fifty times larger than needed.
     */
    private static Product compressedProduct(Matrix a, Matrix d) {
        int[] ca = nonZeroColumns(a);
        int[] cd = nonZeroColumns(d);
        if (ca.length == a.cols() && cd.length == d.cols()) {
            return new Product(Blas.multiply(a, true, d, false), null, null);
        }
        return new Product(Blas.multiply(columns(a, ca), true, columns(d, cd), false), ca, cd);
    }

    private static int[] nonZeroColumns(Matrix m) {
        boolean[] used = new boolean[m.cols()];
        double[] md = m.data();
        int cols = m.cols();
        for (int i = 0; i < md.length; i++) {
            if (md[i] != 0.0) {
                used[i % cols] = true;
            }
        }
        return java.util.stream.IntStream.range(0, cols).filter(j -> used[j]).toArray();
    }

    private static Matrix columns(Matrix m, int[] keep) {
        Matrix out = new Matrix(m.rows(), keep.length);
        double[] md = m.data();
        double[] od = out.data();
        for (int i = 0; i < m.rows(); i++) {
            for (int j = 0; j < keep.length; j++) {
                od[i * keep.length + j] = md[i * m.cols() + keep[j]];
            }
        }
        return out;
    }

    /** Adds a block product to G at the parameter entries its rows and columns stand for. */
    private void scatter(Matrix g, Product t, ParameterUse u, int offU, ParameterUse v, int offV) {
        int dau = s.activation(u).cols();
        int dav = s.activation(v).cols();
        int ddu = s.deltaWidth(u);
        int ddv = s.deltaWidth(v);
        int rowCount = t.rows() == null ? dau * dav : t.rows().length;
        int colCount = t.cols() == null ? ddu * ddv : t.cols().length;
        // A parameter index is flat(i, j) = (part from i) + (part from j) either way round, so an entry's place in G
        // is a per-row base plus a per-column offset: the inner loop only adds.
        int[] offset = new int[colCount];
        for (int p = 0; p < colCount; p++) {
            int col = t.cols() == null ? p : t.cols()[p];
            offset[p] = flat(u, col / ddv, 0, ddu, dau) * size + flat(v, col % ddv, 0, ddv, dav);
        }
        double[] td = t.values().data();
        double[] gd = g.data();
        for (int r = 0; r < rowCount; r++) {
            int row = t.rows() == null ? r : t.rows()[r];
            int base = (offU + flat(u, 0, row / dav, ddu, dau)) * size + offV + flat(v, 0, row % dav, ddv, dav);
            int src = r * colCount;
            for (int p = 0; p < colCount; p++) {
                double val = td[src + p];
                if (val != 0.0) {
                    gd[base + offset[p]] += val;
                }
            }
        }
    }

    /** Index of the parameter entry that multiplies delta[i] and a[j] in this use. */
    private static int flat(ParameterUse u, int i, int j, int dDelta, int dAct) {
        return u.deltaFirst() ? i * dAct + j : j * dDelta + i;
    }

    /** Blocks of the last {@link #gram()} that summed over classes first (for tests). */
    int factoredBlocks() {
        return factoredBlocks.get();
    }

    /** Side of the dual (the parameter count P). */
    public int size() {
        return size;
    }

    /** Eigenpairs of the flattened kernel through this dual: {@code u = S J v / ||S J v||}. */
    Eigenpairs topEigenpairs(int k, int vectors, io.grokwatch.linalg.Precision precision) {
        int rows = s.samples() * s.classes();
        k = Math.min(k, rows);
        return lift(SymmetricEigen.top(gram(), k, Math.min(vectors, k), precision), k);
    }

    /**
     * The flattened kernel's leading {@code k} eigenpairs from the dual's: the same non-zero eigenvalues (zeros
     * past the dual's side), and eigenvectors mapped to kernel space as {@code u = S J v / ||S J v||}.
     */
    public Eigenpairs lift(Eigenpairs dual, int k) {
        int rows = s.samples() * s.classes();
        double[] values = java.util.Arrays.copyOf(dual.values(), Math.min(k, rows));
        if (dual.vectorCount() == 0) {
            return new Eigenpairs(values, new Matrix(rows, 0), dual.residual());
        }
        Matrix u = Columns.normaliseWithSign(jacobianTimes(dual.vectors()));
        // Quality in the dual, where the solve happened; the map to NC space is exact up to rounding.
        return new Eigenpairs(values, u, dual.residual());
    }

    /**
     * The dual {@code J^T S^2 J} as a matrix-free operator: each block product is one Jacobian-vector product
     * ({@code S J W}) and one vector-Jacobian product ({@code J^T S Z}) through the layer structure, so neither
     * the P x P matrix nor the NC x NC kernel ever exists. For parameter counts above the dense limit.
     */
    public io.grokwatch.linalg.SymmetricOperator operator() {
        return new JacobianProducts(size, false, Precision.FLOAT64);
    }

    /**
     * The flattened kernel {@code S J J^T S} itself (NC x NC) as a matrix-free operator, one vector-Jacobian and
     * one Jacobian-vector product per block: for models whose kernel side NC is the smaller one but still above
     * the dense limit.
     */
    public io.grokwatch.linalg.SymmetricOperator kernelOperator() {
        return new JacobianProducts(s.samples() * s.classes(), true, Precision.FLOAT64);
    }

    /**
     * {@code J^T S^2 J} (parameter side) or {@code S J J^T S} (kernel side) through the two Jacobian products. Its
     * float32 form runs their GEMMs (activations against pulled-back cotangents, the bulk of the work) in float32;
     * the per-probe class sums stay in float64.
     */
    private final class JacobianProducts implements io.grokwatch.linalg.SymmetricOperator {
        private final int side;
        private final boolean kernelSide;
        private final Precision precision;

        JacobianProducts(int side, boolean kernelSide, Precision precision) {
            this.side = side;
            this.kernelSide = kernelSide;
            this.precision = precision;
        }

        @Override
        public int size() {
            return side;
        }

        @Override
        public Matrix apply(Matrix x) {
            return kernelSide ? jacobianTimes(jacobianTransposeTimes(x, precision), precision)
                    : jacobianTransposeTimes(jacobianTimes(x, precision), precision);
        }

        @Override
        public java.util.Optional<io.grokwatch.linalg.SymmetricOperator> inFloat32() {
            return java.util.Optional.of(precision == Precision.FLOAT32 ? this
                    : new JacobianProducts(side, kernelSide, Precision.FLOAT32));
        }
    }

    /**
     * {@code J^T S Z} for kernel-space columns Z ({@code NC x k}, channel-major rows {@code c*N + x}): per
     * parameter use, the scaled output cotangents are pulled back to that use's output, {@code D = sum_c s_c z_c
     * delta_c} (N x dd per column), and the parameter gradient is {@code D^T a}.
     */
    Matrix jacobianTransposeTimes(Matrix z) {
        return jacobianTransposeTimes(z, Precision.FLOAT64);
    }

    private Matrix jacobianTransposeTimes(Matrix z, Precision precision) {
        int n = s.samples();
        int c = s.classes();
        int k = z.cols();
        if (z.rows() != n * c) {
            throw new IllegalArgumentException("kernel-space block " + z.shape() + " needs " + (n * c) + " rows");
        }
        Matrix out = new Matrix(size, k);
        double[] od = out.data();
        double[] zd = z.data();
        for (int pi = 0; pi < parameters.size(); pi++) {
            for (ParameterUse u : s.usesOf(parameters.get(pi))) {
                Matrix a = s.activation(u);
                Matrix g = s.classGradients(u.op());
                int da = a.cols();
                int dd = g.cols();
                // pulled[x, i*k + kk] = sum_c s_c Z[(c,x), kk] delta_c(x)[i]
                Matrix pulled = new Matrix(n, dd * k);
                scaledDeltaProducts(g, k, zd, pulled.data(), false);
                // grad[j, i*k + kk] = sum_x a[x, j] pulled[x, i*k + kk]
                double[] grad = Blas.multiply(a, true, pulled, false, precision).data();
                for (int j = 0; j < da; j++) {
                    for (int i = 0; i < dd; i++) {
                        int dst = (offsets[pi] + flat(u, i, j, dd, da)) * k;
                        int src = (j * dd + i) * k;
                        for (int kk = 0; kk < k; kk++) {
                            od[dst + kk] += grad[src + kk];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** {@code S J V} for parameter-space columns V ({@code P x k}), as channel-major rows {@code c*N + x}. */
    Matrix jacobianTimes(Matrix v) {
        return jacobianTimes(v, Precision.FLOAT64);
    }

    private Matrix jacobianTimes(Matrix v, Precision precision) {
        int n = s.samples();
        int c = s.classes();
        int k = v.cols();
        if (v.rows() != size) {
            throw new IllegalArgumentException("parameter-space block " + v.shape() + " needs " + size + " rows");
        }
        Matrix out = new Matrix(n * c, k);
        double[] od = out.data();
        double[] vd = v.data();
        for (int pi = 0; pi < parameters.size(); pi++) {
            for (ParameterUse u : s.usesOf(parameters.get(pi))) {
                Matrix a = s.activation(u);
                Matrix g = s.classGradients(u.op());
                int da = a.cols();
                int dd = g.cols();
                // stacked[j, i*k + kk] = V_kk[entry multiplying delta[i] and a[j]] (columns innermost, see scaledDeltaProducts)
                Matrix stacked = new Matrix(da, dd * k);
                double[] sd = stacked.data();
                for (int j = 0; j < da; j++) {
                    for (int i = 0; i < dd; i++) {
                        int src = (offsets[pi] + flat(u, i, j, dd, da)) * k;
                        System.arraycopy(vd, src, sd, (j * dd + i) * k, k);
                    }
                }
                Matrix b = Blas.multiply(a, false, stacked, false, precision);
                scaledDeltaProducts(g, k, od, b.data(), true);
            }
        }
        return out;
    }

    /**
     * The per-probe step both Jacobian products share. For every probe x, class c and output i of a use with
     * {@code w = s_c delta_c(x)[i] != 0}: kernel row {@code (c, x)} += w * probe row {@code (x, i)} when
     * {@code toKernel} ({@code S J V}), else the reverse ({@code J^T S Z}). Rows are k long with the columns
     * innermost, so the loops run over contiguous memory and skip zero derivatives (one-hot ones of an output
     * layer leave one in dd). Each probe touches only its own rows on either side: probes are split across cores.
     */
    private void scaledDeltaProducts(Matrix g, int k, double[] kernelSide, double[] probeSide, boolean toKernel) {
        int n = s.samples();
        int c = s.classes();
        int dd = g.cols();
        double[] gd = g.data();
        java.util.stream.IntStream.range(0, n).parallel().forEach(x -> {
            for (int cls = 0; cls < c; cls++) {
                int gr = (x * c + cls) * dd;
                int kr = (cls * n + x) * k;
                double sc = scale[cls];
                for (int i = 0; i < dd; i++) {
                    double w = sc * gd[gr + i];
                    if (w == 0.0) {
                        continue;
                    }
                    int pr = (x * dd + i) * k;
                    if (toKernel) {
                        for (int kk = 0; kk < k; kk++) {
                            kernelSide[kr + kk] += w * probeSide[pr + kk];
                        }
                    } else {
                        for (int kk = 0; kk < k; kk++) {
                            probeSide[pr + kk] += w * kernelSide[kr + kk];
                        }
                    }
                }
            }
        });
    }
}

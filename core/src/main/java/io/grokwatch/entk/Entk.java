package io.grokwatch.entk;

import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SparseHadamardGram;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Empirical NTK of one network on one probe set, per parameter group ("layer") and for the whole model,
 * built from the layer structure: for a parameter used as {@code delta (x) a}, the Jacobian inner product
 * factorises into {@code (delta . delta') (a . a')}. The N x C x P Jacobian never exists.
 *
 * <p>Kernels of different groups may be computed from different threads; per-op intermediate results are
 * cached and shared.
 */
public final class Entk implements KernelSource {
    /** The group name that stands for all parameters. */
    public static final String ALL = "all";
    /** Largest kernel side (rows of the N-side kernel or of the dual Gram) formed densely. */
    public static final int MAX_DENSE_SIDE = 12_000;

    private final LayerStructure s;
    private final ModelDescription description;
    private final Map<String, Matrix> classMeanByParameter = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, java.util.Optional<SymmetricOperator>> operatorByParameter =
            new java.util.concurrent.ConcurrentHashMap<>();

    public Entk(Network network, Matrix probes) {
        this.s = new LayerStructure(network, probes);
        this.description = network.description();
    }

    @Override
    public int samples() {
        return s.samples();
    }

    @Override
    public int classes() {
        return s.classes();
    }

    /** Parameter groups in model order (without {@link #ALL}). */
    @Override
    public List<String> groups() {
        return description.groups();
    }

    /** The parameters of a group, or of the whole model for {@link #ALL}. */
    @Override
    public List<String> parameters(String group) {
        List<String> r = new ArrayList<>();
        for (String p : description.parameterNames()) {
            if (ALL.equals(group) || ModelDescription.groupOf(p).equals(group)) {
                r.add(p);
            }
        }
        if (r.isEmpty()) {
            throw new IllegalArgumentException("no parameter group '" + group + "'; groups are " + groups()
                    + " and " + ALL);
        }
        return r;
    }

    @Override
    public long parameterCount(String group) {
        long n = 0;
        for (String p : parameters(group)) {
            Matrix m = s.network().parameters().get(p);
            n += (long) m.rows() * m.cols();
        }
        return n;
    }

    // ---------------------------------------------------------------- class-mean

    /** {@code K(x,x') = (1/C) sum_c J_c(x) . J_c(x')} over the group's parameters, N x N. */
    @Override
    public Matrix classMean(String group) {
        List<String> params = parameters(group);
        if (params.size() == 1) {
            // One parameter: its cached kernel, copied so callers may modify the result.
            return classMeanByParameter.computeIfAbsent(params.get(0), this::classMeanOf).copy();
        }
        Matrix k = null;
        for (String p : params) {
            Matrix t = classMeanByParameter.computeIfAbsent(p, this::classMeanOf);
            k = k == null ? t.copy() : k.addInPlace(1.0, t);
        }
        return k;
    }

    private Matrix classMeanOf(String parameter) {
        List<ParameterUse> uses = s.usesOf(parameter);
        Matrix k = null;
        for (int i = 0; i < uses.size(); i++) {
            for (int j = i; j < uses.size(); j++) {
                Matrix t = classSumTerm(uses.get(i), uses.get(j));
                if (j != i) {
                    t.addInPlace(1.0, t.transpose());
                }
                k = k == null ? t : k.addInPlace(1.0, t);
            }
        }
        return k.scaleInPlace(1.0 / s.classes());
    }

    /** {@code sum_c <J_c^u(x), J_c^v(x')>} for two uses of the same parameter. */
    private Matrix classSumTerm(ParameterUse u, ParameterUse v) {
        Matrix au = s.activation(u);
        Matrix av = s.activation(v);
        if (u == v) {
            // One use: both Grams have a single factor, so a sparse activation (one-hot inputs) can skip the
            // probe pairs it zeroes instead of forming the output-gradient Gram for all of them.
            Matrix factor = s.collapsedFactor(u.op()).orElseGet(() -> flatClassGradients(u));
            java.util.Optional<SparseHadamardGram> sparse = SparseHadamardGram.of(factor, au);
            if (sparse.isPresent()) {
                return sparse.get().formed();
            }
        }
        if (u.deltaFirst() == v.deltaFirst()) {
            Matrix deltaGram;
            if (u.op() == v.op() && s.collapsedFactor(u.op()).isPresent()) {
                deltaGram = Blas.gram(s.collapsedFactor(u.op()).get());
            } else {
                deltaGram = Blas.multiply(flatClassGradients(u), false, flatClassGradients(v), true);
            }
            Matrix actGram = u == v || au == av ? Blas.gram(au) : Blas.multiply(au, false, av, true);
            return deltaGram.hadamardInPlace(actGram);
        }
        Matrix sum = new Matrix(s.samples(), s.samples());
        for (int c = 0; c < s.classes(); c++) {
            sum.addInPlace(1.0, mixedTerm(u, v, c, c, au, av));
        }
        return sum;
    }

    /** Tied use in opposite directions: {@code (delta_u . a_v')(a_u . delta_v')}. */
    private Matrix mixedTerm(ParameterUse u, ParameterUse v, int cu, int cv, Matrix au, Matrix av) {
        Matrix p = Blas.multiply(s.classBlock(u.op(), cu), false, av, true);
        Matrix q = Blas.multiply(au, false, s.classBlock(v.op(), cv), true);
        return p.hadamardInPlace(q);
    }

    private Matrix flatClassGradients(ParameterUse u) {
        Matrix g = s.classGradients(u.op());
        // Rows x*C + c of width d, read as one row of width C*d per probe.
        return new Matrix(s.samples(), s.classes() * g.cols(), g.data());
    }

    /**
     * A factor {@code F} (N x r) with {@code classMean(group) = F F^T}, when the group is a single parameter
     * used once whose output gradient is the same for every probe (a read-out followed only by scales and
     * biases): then the kernel is a scaled Gram of the activation it multiplies and its spectrum comes from
     * the r x r dual. Empty otherwise.
     */
    public java.util.Optional<Matrix> classMeanFactor(String group) {
        List<String> params = parameters(group);
        if (params.size() != 1) {
            return java.util.Optional.empty();
        }
        List<ParameterUse> uses = s.usesOf(params.get(0));
        if (uses.size() != 1) {
            return java.util.Optional.empty();
        }
        return singleUseReadoutFactor(uses.get(0));
    }

    /** {@link #classMeanFactor} of one parameter use. */
    private java.util.Optional<Matrix> singleUseReadoutFactor(ParameterUse u) {
        if (!u.deltaFirst()) {
            return java.util.Optional.empty();
        }
        java.util.Optional<Matrix> phi = s.collapsedFactor(u.op());
        if (phi.isEmpty() || !rowsIdentical(phi.get())) {
            return java.util.Optional.empty();
        }
        double[] row = phi.get().row(0);
        double norm2 = 0;
        for (double v : row) {
            norm2 += v * v;
        }
        Matrix f = s.activation(u).copy();
        return java.util.Optional.of(f.scaleInPlace(Math.sqrt(norm2 / s.classes())));
    }

    private static boolean rowsIdentical(Matrix m) {
        double[] d = m.data();
        int c = m.cols();
        for (int r = 1; r < m.rows(); r++) {
            for (int j = 0; j < c; j++) {
                if (d[r * c + j] != d[j]) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The class-mean kernel of a group (or {@link #ALL}) as an operator that is never formed, when every
     * parameter's term has a structure that allows it: a read-out's scaled activation Gram ({@code F F^T} with
     * the narrow factor of {@link #classMeanFactor}) or a sparse activation's blocks
     * ({@link SparseHadamardGram}). Products then cost {@code O(N r)} per vector instead of {@code O(N^2)}, and
     * memory stays linear in N, which is what kernels of tens of thousands of probes need. Empty when some term
     * has neither structure (tied or repeated uses, dense activations with per-probe output gradients).
     */
    public java.util.Optional<SymmetricOperator> classMeanOperator(String group) {
        List<SymmetricOperator> terms = new ArrayList<>();
        for (String p : parameters(group)) {
            java.util.Optional<SymmetricOperator> t = operatorByParameter.computeIfAbsent(p, this::classMeanOperatorOf);
            if (t.isEmpty()) {
                return java.util.Optional.empty();
            }
            terms.add(t.get());
        }
        return java.util.Optional.of(SymmetricOperator.sum(terms));
    }

    private java.util.Optional<SymmetricOperator> classMeanOperatorOf(String parameter) {
        List<ParameterUse> uses = s.usesOf(parameter);
        if (uses.size() != 1) {
            return java.util.Optional.empty();
        }
        ParameterUse u = uses.get(0);
        java.util.Optional<Matrix> readout = singleUseReadoutFactor(u);
        if (readout.isPresent()) {
            return java.util.Optional.of(SymmetricOperator.lowRank(readout.get()));
        }
        Matrix factor = s.collapsedFactor(u.op()).orElseGet(() -> flatClassGradients(u));
        return SparseHadamardGram.of(factor, s.activation(u))
                .map(g -> SymmetricOperator.scaled(g, 1.0 / s.classes()));
    }

    /**
     * Leading eigenpairs of the class-mean kernel, through the cheaper of the N x N kernel and, when the
     * kernel has a narrow factor ({@link #classMeanFactor}), its dual.
     */
    public Eigenpairs classMeanTop(String group, int k, int vectors) {
        return classMeanTop(group, k, vectors, Precision.FLOAT64);
    }

    /** As {@link #classMeanTop(String, int, int)}, decomposing in the given precision. */
    @Override
    public Eigenpairs classMeanTop(String group, int k, int vectors, Precision precision) {
        java.util.Optional<Matrix> factor = classMeanFactor(group);
        if (factor.isPresent() && factor.get().cols() < samples()) {
            return LowRankEigen.top(factor.get(), k, vectors, precision);
        }
        return SymmetricEigen.top(classMean(group), k, vectors, precision);
    }

    // ---------------------------------------------------------------- per-class

    /** One block {@code J_c(x) . J_d(x')} over the group's parameters, N x N. */
    @Override
    public Matrix perClass(String group, int c, int d) {
        checkClass(c);
        checkClass(d);
        Matrix k = new Matrix(s.samples(), s.samples());
        for (String p : parameters(group)) {
            List<ParameterUse> uses = s.usesOf(p);
            for (ParameterUse u : uses) {
                for (ParameterUse v : uses) {
                    k.addInPlace(1.0, blockTerm(u, v, c, d));
                }
            }
        }
        return k;
    }

    private Matrix blockTerm(ParameterUse u, ParameterUse v, int cu, int cv) {
        Matrix au = s.activation(u);
        Matrix av = s.activation(v);
        if (u.deltaFirst() == v.deltaFirst()) {
            Matrix dg = Blas.multiply(s.classBlock(u.op(), cu), false, s.classBlock(v.op(), cv), true);
            return dg.hadamardInPlace(Blas.multiply(au, false, av, true));
        }
        return mixedTerm(u, v, cu, cv, au, av);
    }

    private void checkClass(int c) {
        if (c < 0 || c >= s.classes()) {
            throw new IllegalArgumentException("class " + c + " out of range 0.." + (s.classes() - 1));
        }
    }

    // ---------------------------------------------------------------- flattened

    /**
     * The flattened kernel {@code K[(c,x),(d,x')] = s_c s_d J_c(x) . J_d(x')} formed densely (NC x NC,
     * channel-major rows {@code c*N + x}). {@code scale} may be null for unweighted outputs.
     */
    @Override
    public Matrix flattened(String group, double[] scale) {
        double[] sc = scales(scale);
        int n = s.samples();
        int c = s.classes();
        requireDense("flattened kernel", (long) n * c);
        Matrix k = new Matrix(n * c, n * c);
        double[] kd = k.data();
        int side = n * c;
        for (int a = 0; a < c; a++) {
            for (int b = a; b < c; b++) {
                Matrix block = perClass(group, a, b);
                double w = sc[a] * sc[b];
                double[] bd = block.data();
                for (int x = 0; x < n; x++) {
                    for (int y = 0; y < n; y++) {
                        double v = w * bd[x * n + y];
                        kd[(a * n + x) * side + b * n + y] = v;
                        kd[(b * n + y) * side + a * n + x] = v;
                    }
                }
            }
        }
        return k;
    }

    /**
     * Leading eigenpairs of the flattened kernel. Chooses the cheaper side by shape: the NC x NC kernel when
     * NC <= P, otherwise the P x P dual Gram {@code J^T S^2 J}, whose eigenvectors map back as
     * {@code u = S J v / sqrt(lambda)}.
     */
    public Eigenpairs flattenedTop(String group, double[] scale, int k, int vectors) {
        return flattenedTop(group, scale, k, vectors, Precision.FLOAT64);
    }

    /** As {@link #flattenedTop(String, double[], int, int)}, decomposing in the given precision. */
    @Override
    public Eigenpairs flattenedTop(String group, double[] scale, int k, int vectors, Precision precision) {
        long nc = (long) s.samples() * s.classes();
        long p = parameterCount(group);
        if (nc <= p) {
            return SymmetricEigen.top(flattened(group, scale), k, vectors, precision);
        }
        DualGram dual = new DualGram(s, parameters(group), scales(scale));
        return dual.topEigenpairs(k, vectors, precision);
    }

    /**
     * The flattened kernel's P x P dual when it is the smaller side (NC > P), for callers that choose their own
     * eigensolver (warm starts live in the dual's P-dimensional space); empty when the kernel itself is smaller.
     */
    @Override
    public java.util.Optional<DualGram> flattenedDual(String group, double[] scale) {
        long nc = (long) s.samples() * s.classes();
        if (nc <= parameterCount(group)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new DualGram(s, parameters(group), scales(scale)));
    }

    /**
     * The NC x NC flattened kernel {@code S J J^T S} as a matrix-free operator (a vector-Jacobian and a
     * Jacobian-vector product per block), for kernels too large to form.
     */
    @Override
    public io.grokwatch.linalg.SymmetricOperator flattenedOperator(String group, double[] scale) {
        return new DualGram(s, parameters(group), scales(scale)).kernelOperator();
    }

    /** The P x P dual Gram {@code sum_{c,x} s_c^2 g_c(x) g_c(x)^T} (exposed for tests and benchmarks). */
    public Matrix dualGram(String group, double[] scale) {
        return new DualGram(s, parameters(group), scales(scale)).gram();
    }

    private double[] scales(double[] scale) {
        if (scale == null) {
            double[] ones = new double[s.classes()];
            Arrays.fill(ones, 1.0);
            return ones;
        }
        if (scale.length != s.classes()) {
            throw new IllegalArgumentException("output weights have " + scale.length + " entries, the model has "
                    + s.classes() + " outputs");
        }
        return scale.clone();
    }

    static void requireDense(String what, long side) {
        if (side > MAX_DENSE_SIDE) {
            throw new IllegalArgumentException(what + " would be " + side + " x " + side
                    + ", above the dense limit of " + MAX_DENSE_SIDE + "; use the class-mean or per-class kernel");
        }
    }

    /** Importance rescaling with geometric importances {@code I_c = base^c}: {@code s_c = (base^c)^(tau/2)}. */
    public static double[] importanceScale(double base, int outputs, double tau) {
        double[] imp = new double[outputs];
        for (int c = 0; c < outputs; c++) {
            imp[c] = Math.pow(base, c);
        }
        return importanceScale(imp, tau);
    }

    /** Importance rescaling of outputs: {@code s_c = I_c^(tau/2)}. */
    public static double[] importanceScale(double[] importance, double tau) {
        double[] r = new double[importance.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = Math.pow(importance[i], tau / 2.0);
        }
        return r;
    }
}

package io.grokwatch.entk;

import io.grokwatch.graph.GraphNetwork;
import io.grokwatch.graph.NdArray;
import io.grokwatch.linalg.Blas;
import io.grokwatch.linalg.Eigenpairs;
import io.grokwatch.linalg.Matrix;
import io.grokwatch.linalg.Precision;
import io.grokwatch.linalg.SymmetricEigen;
import io.grokwatch.linalg.SymmetricOperator;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.ModelFormatException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The exact eNTK of any {@link GraphNetwork} on a probe set, from one reverse-mode pass per probe that gives
 * the gradients of all C outputs at once. Per parameter group it keeps the Jacobian rows of its own
 * parameters ({@code N*C x P_g}, channel-major rows {@code c*N + x}); kernels of a group are Grams of those
 * rows and the whole model's kernel is their sum, so the {@code N x C x P} Jacobian of the whole model is
 * never held as one array, and a group's kernel is decomposed through its smaller side.
 */
public final class GraphEntk implements KernelSource {
    /** Largest number of Jacobian entries (doubles) held at once, by default: 2 GiB. */
    public static final long DEFAULT_MAX_ENTRIES = 1L << 28;

    private final int n;
    private final int c;
    private final List<String> groups;
    private final Map<String, List<String>> parametersByGroup = new LinkedHashMap<>();
    private final Map<String, Matrix> jacobians = new LinkedHashMap<>();

    public GraphEntk(GraphNetwork net, Matrix probes) {
        this(net, probes, ForkJoinPool.commonPool().getParallelism(), DEFAULT_MAX_ENTRIES);
    }

    /**
     * @param threads    probes analysed in parallel
     * @param maxEntries refuse (with the figures and the way out) a Jacobian larger than this
     */
    public GraphEntk(GraphNetwork net, Matrix probes, int threads, long maxEntries) {
        this.n = probes.rows();
        Map<String, NdArray> params = net.parameters();
        for (String p : params.keySet()) {
            parametersByGroup.computeIfAbsent(ModelDescription.groupOf(p), g -> new ArrayList<>()).add(p);
        }
        this.groups = List.copyOf(parametersByGroup.keySet());
        int[] sampleShape = sampleShape(net, probes.cols());
        NdArray first = net.forward(probe(probes, 0, sampleShape, net));
        this.c = first.size();
        long total = 0;
        for (NdArray v : params.values()) {
            total += v.size();
        }
        long entries = (long) n * c * total;
        if (entries > maxEntries) {
            throw new ModelFormatException(String.format("the exact eNTK of %d probes x %d outputs x %d parameters "
                            + "needs %.1f GB of Jacobian; analyse a probe sample (--probe-sample N) or fewer outputs",
                    n, c, total, entries * 8 / 1e9));
        }
        Map<String, Integer> offset = new LinkedHashMap<>();
        for (String g : groups) {
            int width = 0;
            for (String p : parametersByGroup.get(g)) {
                offset.put(p, width);
                width += params.get(p).size();
            }
            jacobians.put(g, new Matrix(n * c, width));
        }
        Runnable all = () -> IntStream.range(0, n).parallel().forEach(x -> {
            Map<String, NdArray> grads = net.outputGradients(probe(probes, x, sampleShape, net));
            for (String g : groups) {
                Matrix j = jacobians.get(g);
                double[] jd = j.data();
                int width = j.cols();
                for (String p : parametersByGroup.get(g)) {
                    double[] gd = grads.get(p).data();
                    int size = params.get(p).size();
                    int off = offset.get(p);
                    for (int cls = 0; cls < c; cls++) {
                        System.arraycopy(gd, cls * size, jd, (cls * n + x) * width + off, size);
                    }
                }
            }
        });
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads));
        try {
            pool.submit(all).join();
        } finally {
            pool.shutdown();
        }
    }

    /** The shape of one probe as the graph takes it: {@code [1, ...]} from the graph input's dimensions. */
    private static int[] sampleShape(GraphNetwork net, int width) {
        long[] dims = net.graph().input().dims();
        int[] shape = new int[Math.max(dims.length, 2)];
        shape[0] = 1;
        long known = 1;
        boolean symbolic = false;
        for (int i = 1; i < dims.length; i++) {
            if (dims[i] < 0) {
                symbolic = true;
            } else {
                known *= dims[i];
            }
            shape[i] = (int) dims[i];
        }
        if (dims.length <= 2) {
            shape = new int[] {1, width};
        } else if (symbolic || known != width) {
            throw new ModelFormatException("the graph input '" + net.graph().input().name() + "' has shape "
                    + Arrays.toString(dims) + " (" + known + " values per probe), the probes have " + width);
        }
        if (dims.length == 2 && dims[1] >= 0 && dims[1] != width) {
            throw new ModelFormatException("the graph input '" + net.graph().input().name() + "' takes " + dims[1]
                    + " values per probe, the probes have " + width);
        }
        return shape;
    }

    private static NdArray probe(Matrix probes, int row, int[] shape, GraphNetwork net) {
        return new NdArray(shape, probes.row(row), net.graph().input().integer());
    }

    @Override
    public int samples() {
        return n;
    }

    @Override
    public int classes() {
        return c;
    }

    @Override
    public List<String> groups() {
        return groups;
    }

    @Override
    public List<String> parameters(String group) {
        if (Entk.ALL.equals(group)) {
            List<String> all = new ArrayList<>();
            parametersByGroup.values().forEach(all::addAll);
            return all;
        }
        List<String> p = parametersByGroup.get(group);
        if (p == null) {
            throw new IllegalArgumentException("no parameter group '" + group + "'; groups are " + groups + " and "
                    + Entk.ALL);
        }
        return List.copyOf(p);
    }

    @Override
    public long parameterCount(String group) {
        long total = 0;
        for (String g : groupsOf(group)) {
            total += jacobians.get(g).cols();
        }
        return total;
    }

    private List<String> groupsOf(String group) {
        if (Entk.ALL.equals(group)) {
            return groups;
        }
        parameters(group);
        return List.of(group);
    }

    /** Rows {@code c*N .. c*N + N - 1} of a group's Jacobian: {@code J_c}, N x P_g. */
    private Matrix block(String group, int cls) {
        Matrix j = jacobians.get(group);
        int w = j.cols();
        return new Matrix(n, w, Arrays.copyOfRange(j.data(), cls * n * w, (cls + 1) * n * w));
    }

    /** {@code K(x,x') = (1/C) sum_c J_c(x) . J_c(x')}, N x N. */
    @Override
    public Matrix classMean(String group) {
        Matrix k = new Matrix(n, n);
        for (String g : groupsOf(group)) {
            for (int cls = 0; cls < c; cls++) {
                Matrix b = block(g, cls);
                Blas.gemm(1.0 / c, b, false, b, true, 1.0, k);
            }
        }
        return k;
    }

    /** A factor F with {@code classMean(group) = F F^T}: row x holds {@code J_c(x) / sqrt(C)} for every c. */
    private Matrix classMeanFactor(String group) {
        long width = (long) c * parameterCount(group);
        Matrix f = new Matrix(n, Math.toIntExact(width));
        double[] fd = f.data();
        double s = 1 / Math.sqrt(c);
        int at = 0;
        for (String g : groupsOf(group)) {
            Matrix j = jacobians.get(g);
            int w = j.cols();
            double[] jd = j.data();
            for (int cls = 0; cls < c; cls++) {
                for (int x = 0; x < n; x++) {
                    int src = (cls * n + x) * w;
                    int dst = x * (int) width + at;
                    for (int q = 0; q < w; q++) {
                        fd[dst + q] = s * jd[src + q];
                    }
                }
                at += w;
            }
        }
        return f;
    }

    @Override
    public Eigenpairs classMeanTop(String group, int k, int vectors, Precision precision) {
        if ((long) c * parameterCount(group) < n) {
            return LowRankEigen.top(classMeanFactor(group), k, vectors, precision);
        }
        return SymmetricEigen.top(classMean(group), k, vectors, precision);
    }

    /** One block {@code J_c(x) . J_d(x')}, N x N. */
    @Override
    public Matrix perClass(String group, int cls, int d) {
        if (cls < 0 || cls >= c || d < 0 || d >= c) {
            throw new IllegalArgumentException("class out of range 0.." + (c - 1) + ": " + cls + ", " + d);
        }
        Matrix k = new Matrix(n, n);
        for (String g : groupsOf(group)) {
            Blas.gemm(1.0, block(g, cls), false, block(g, d), true, 1.0, k);
        }
        return k;
    }

    /** {@code S J}: the Jacobian rows of the group (or all groups side by side), row c*N + x scaled by s_c. */
    private Matrix scaledJacobian(String group, double[] scale) {
        List<String> gs = groupsOf(group);
        int width = Math.toIntExact(parameterCount(group));
        Matrix f = new Matrix(n * c, width);
        double[] fd = f.data();
        int at = 0;
        for (String g : gs) {
            Matrix j = jacobians.get(g);
            int w = j.cols();
            double[] jd = j.data();
            for (int r = 0; r < n * c; r++) {
                double s = scale == null ? 1.0 : scale[r / n];
                for (int q = 0; q < w; q++) {
                    fd[r * width + at + q] = s * jd[r * w + q];
                }
            }
            at += w;
        }
        return f;
    }

    private double[] checkScale(double[] scale) {
        if (scale != null && scale.length != c) {
            throw new IllegalArgumentException("output weights have " + scale.length + " entries, the model has " + c
                    + " outputs");
        }
        return scale;
    }

    /** {@code K[(c,x),(d,x')] = s_c s_d J_c(x) . J_d(x')}, NC x NC, rows channel-major. */
    @Override
    public Matrix flattened(String group, double[] scale) {
        Entk.requireDense("flattened kernel", (long) n * c);
        return Blas.gram(scaledJacobian(group, checkScale(scale)));
    }

    @Override
    public Eigenpairs flattenedTop(String group, double[] scale, int k, int vectors, Precision precision) {
        checkScale(scale);
        if (parameterCount(group) < (long) n * c) {
            return LowRankEigen.top(scaledJacobian(group, scale), k, vectors, precision);
        }
        return SymmetricEigen.top(flattened(group, scale), k, vectors, precision);
    }

    @Override
    public SymmetricOperator flattenedOperator(String group, double[] scale) {
        return SymmetricOperator.lowRank(scaledJacobian(group, checkScale(scale)));
    }
}

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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

/**
 * The exact eNTK of any {@link GraphNetwork} on a probe set, from one reverse-mode pass per probe that carries
 * all C outputs at once. Parameters that meet the probes at a factorable site ({@link FactoredSites}: weights of
 * matrix products, embeddings, broadcast biases) contribute through their activation rows and output cotangents;
 * every other parameter through its per-probe gradients ({@code N*C x P_g}, rows {@code c*N + x}). Kernels of a
 * group add the two; the whole model's kernel is the sum over groups. The {@code N x C x P} Jacobian of the whole
 * model is never held.
 */
public final class GraphEntk implements KernelSource {
    /**
     * Largest number of doubles of Jacobian factors held at once, by default: 60% of the heap (the kernels and
     * their decompositions need the rest).
     */
    public static final long DEFAULT_MAX_ENTRIES = (long) (0.6 * Runtime.getRuntime().maxMemory() / Double.BYTES);

    private final int n;
    private final int c;
    private final int threads;
    private final List<String> groups;
    private final Map<String, List<String>> parametersByGroup = new LinkedHashMap<>();
    private final Map<String, Long> sizes = new LinkedHashMap<>();
    /** Per group: the per-probe gradients of its parameters that have no factored site. */
    private final Map<String, Matrix> jacobians = new LinkedHashMap<>();
    private final FactoredSites sites;
    private final Map<String, Capture> captures = new LinkedHashMap<>();
    private final Map<FactoredSites.Site, Matrix> activations = new HashMap<>();
    private final Map<String, Matrix> classSums = new ConcurrentHashMap<>();
    private final Map<FactoredSites.Site, Matrix> siteClassMeans = new ConcurrentHashMap<>();
    private boolean batched;

    /**
     * The output cotangents of one site value: rows {@code x*r + t} (the kept rows t of probe x), columns
     * {@code c*d + j}.
     *
     * @param rows the rows of the value kept (those any probe's cotangent reaches)
     */
    private record Capture(int[] rows, int width, Matrix g) {
    }

    public GraphEntk(GraphNetwork net, Matrix probes) {
        this(net, probes, ForkJoinPool.commonPool().getParallelism(), DEFAULT_MAX_ENTRIES);
    }

    public GraphEntk(GraphNetwork net, Matrix probes, int threads, long maxEntries) {
        this(net, probes, threads, maxEntries, true);
    }

    /**
     * @param threads    probes analysed in parallel
     * @param maxEntries refuse (with the figures and the way out) factors larger than this
     * @param factored   use factored sites (false: every parameter by its per-probe gradients, for tests)
     */
    public GraphEntk(GraphNetwork net, Matrix probes, int threads, long maxEntries, boolean factored) {
        this.n = probes.rows();
        this.threads = Math.max(1, threads);
        Map<String, NdArray> params = net.parameters();
        for (String p : params.keySet()) {
            parametersByGroup.computeIfAbsent(ModelDescription.groupOf(p), g -> new ArrayList<>()).add(p);
            sizes.put(p, (long) params.get(p).size());
        }
        this.groups = List.copyOf(parametersByGroup.keySet());
        int[] sampleShape = sampleShape(net, probes.cols());
        Map<String, NdArray> first = net.evaluate(probe(probes, 0, sampleShape, net));
        this.c = first.get(net.graph().output().name()).size();
        this.sites = factored ? FactoredSites.find(net, first) : FactoredSites.none();
        if (!fill(net, probes, sampleShape, first, threads, maxEntries, false)) {
            // A later probe's cotangent reached a row the first one did not: keep every row.
            fill(net, probes, sampleShape, first, threads, maxEntries, true);
        }
    }

    /** Runs every probe's reverse pass and keeps the factors; false when the kept rows did not hold. */
    private boolean fill(GraphNetwork net, Matrix probes, int[] sampleShape, Map<String, NdArray> first, int threads,
                         long maxEntries, boolean allRows) {
        Map<String, NdArray> params = net.parameters();
        captures.clear();
        activations.clear();
        jacobians.clear();
        Set<String> keep = sites.captures();
        Set<String> stop = sites.operands();
        // Rows of each captured value that the first probe's cotangents reach; the others are checked to stay zero.
        NdArray firstProbe = probe(probes, 0, sampleShape, net);
        GraphNetwork.Pass pass0 = net.reverse(firstProbe, keep, stop);
        long entries = 0;
        for (String key : keep) {
            NdArray y = first.get(key);
            int d = y.rank() == 0 ? 1 : y.dim(y.rank() - 1);
            int rowsAll = y.size() / Math.max(d, 1);
            NdArray g = pass0.cotangents().get(key);
            List<Integer> kept = new ArrayList<>();
            for (int t = 0; t < rowsAll; t++) {
                if (allRows || g == null || rowReached(g, c, rowsAll, d, t)) {
                    kept.add(t);
                }
            }
            int[] rows = kept.stream().mapToInt(Integer::intValue).toArray();
            entries += (long) n * rows.length * c * d;
            captures.put(key, new Capture(rows, d, null));
        }
        for (FactoredSites.Site s : sites.sites) {
            if (s.kind() == FactoredSites.Kind.MATMUL) {
                NdArray x = first.get(s.activation());
                entries += (long) n * captures.get(s.capture()).rows().length * x.dim(x.rank() - 1);
            }
        }
        long generic = 0;
        for (String p : params.keySet()) {
            if (!sites.factored.contains(p)) {
                generic += params.get(p).size();
            }
        }
        entries += (long) n * c * generic;
        if (entries > maxEntries) {
            throw new ModelFormatException(String.format("the exact eNTK of %d probes x %d outputs needs %.1f GB of "
                            + "Jacobian factors (%d parameters by per-probe gradients), more than the %.1f GB allowed; "
                            + "analyse a probe sample (--probe-sample N) or give the JVM more heap",
                    n, c, entries * 8 / 1e9, generic, maxEntries * 8 / 1e9));
        }
        Map<String, Integer> offset = new LinkedHashMap<>();
        for (String g : groups) {
            int width = 0;
            for (String p : parametersByGroup.get(g)) {
                if (!sites.factored.contains(p)) {
                    offset.put(p, width);
                    width += params.get(p).size();
                }
            }
            jacobians.put(g, new Matrix(n * c, width));
        }
        for (Map.Entry<String, Capture> e : captures.entrySet()) {
            Capture cap = e.getValue();
            e.setValue(new Capture(cap.rows(), cap.width(), new Matrix(n * cap.rows().length, c * cap.width())));
        }
        for (FactoredSites.Site s : sites.sites) {
            if (s.kind() == FactoredSites.Kind.MATMUL || s.kind() == FactoredSites.Kind.GATHER) {
                NdArray x = first.get(s.activation());
                int width = s.kind() == FactoredSites.Kind.GATHER ? 1 : x.dim(x.rank() - 1);
                activations.put(s, new Matrix(n * captures.get(s.capture()).rows().length, width));
            }
        }
        AtomicBoolean unreached = new AtomicBoolean();
        Layouts layouts = generic == 0 && n >= 2 ? batchLayouts(net, probes, sampleShape, first, pass0, keep, stop)
                : null;
        Runnable all;
        batched = layouts != null;
        if (layouts != null) {
            // Every parameter is factored, so only cotangents and activations are needed, and those one reverse
            // pass over a batch gives for all its probes at once (the calibration showed the graph keeps probes
            // apart and where each probe's rows are): larger products, far fewer passes.
            int chunk = batchSize(net, first, threads);
            int chunks = (n + chunk - 1) / chunk;
            all = () -> IntStream.range(0, chunks).parallel().forEach(ci -> {
                int from = ci * chunk;
                int b = Math.min(n, from + chunk) - from;
                GraphNetwork.Pass pass = net.reverseBatch(batch(probes, from, b, sampleShape, net), c, keep, stop);
                for (Map.Entry<String, Capture> e : captures.entrySet()) {
                    int[] single = first.get(e.getKey()).shape();
                    if (!fillCaptureBatch(e.getValue(), pass.cotangents().get(e.getKey()),
                            layouts.captures().get(e.getKey()).rowOf(single, b), BatchAxis.rows(single), from, b)) {
                        unreached.set(true);
                    }
                }
                for (Map.Entry<FactoredSites.Site, Matrix> e : activations.entrySet()) {
                    int[] single = activationDims(e.getKey(), first);
                    fillActivationBatch(e.getValue(), pass.values().get(e.getKey().activation()),
                            layouts.activations().get(e.getKey()).rowOf(single, b), BatchAxis.rows(single),
                            captures.get(e.getKey().capture()).rows(), from, b);
                }
            });
        } else {
            all = () -> IntStream.range(0, n).parallel().forEach(x -> {
                GraphNetwork.Pass pass = x == 0 ? pass0 : net.reverse(probe(probes, x, sampleShape, net), keep, stop);
                fillGeneric(pass.gradients(), x, offset, params);
                for (Map.Entry<String, Capture> e : captures.entrySet()) {
                    if (!fillCapture(e.getValue(), pass.cotangents().get(e.getKey()), x)) {
                        unreached.set(true);
                    }
                }
                for (Map.Entry<FactoredSites.Site, Matrix> e : activations.entrySet()) {
                    fillActivation(e.getValue(), pass.values().get(e.getKey().activation()),
                            captures.get(e.getKey().capture()).rows(), x);
                }
            });
        }
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, threads));
        try {
            pool.submit(all).join();
        } finally {
            pool.shutdown();
        }
        return !unreached.get();
    }

    /** Where each probe's rows sit in the captured values and the site activations of a batched pass. */
    private record Layouts(Map<String, BatchAxis> captures, Map<FactoredSites.Site, BatchAxis> activations) {
    }

    /** Relative agreement required between a batched pass and single-probe passes (rounding only). */
    private static final double BATCH_AGREEMENT = 1e-9;
    /** Doubles one batched pass may hold, roughly: 128 MB per chunk. */
    private static final long BATCH_BUDGET = 16L << 20;

    /**
     * Runs probes 0 and 1 as a batch of two and alone, and finds for every captured value and site activation
     * the one layout of the batch under which both probes' rows (values, and cotangents for captures) equal
     * their own passes'. Null when the graph cannot be batched, mixes probes, or a layout is ambiguous: then
     * every probe gets its own pass.
     */
    private Layouts batchLayouts(GraphNetwork net, Matrix probes, int[] sampleShape, Map<String, NdArray> first,
                                 GraphNetwork.Pass pass0, Set<String> keep, Set<String> stop) {
        GraphNetwork.Pass two;
        GraphNetwork.Pass pass1;
        try {
            two = net.reverseBatch(batch(probes, 0, 2, sampleShape, net), c, keep, stop);
            pass1 = net.reverse(probe(probes, 1, sampleShape, net), keep, stop);
        } catch (RuntimeException e) {
            return null; // e.g. a shape fixed to one probe at export
        }
        GraphNetwork.Pass[] singles = {pass0, pass1};
        Map<String, BatchAxis> capture = new HashMap<>();
        for (String key : captures.keySet()) {
            BatchAxis a = layoutOf(first.get(key).shape(), two.values().get(key), two.cotangents().get(key), singles,
                    p -> p.values().get(key), p -> p.cotangents().get(key));
            if (a == null) {
                return null;
            }
            capture.put(key, a);
        }
        Map<FactoredSites.Site, BatchAxis> activation = new HashMap<>();
        for (FactoredSites.Site site : activations.keySet()) {
            int[] single = activationDims(site, first);
            NdArray v = two.values().get(site.activation());
            BatchAxis a = v == null ? null : layoutOf(single, v.reshape(unitLast(v.shape(), single.length)), null,
                    singles, p -> p.values().get(site.activation()), p -> null);
            if (a == null) {
                return null;
            }
            activation.put(site, a);
        }
        return new Layouts(capture, activation);
    }

    /** A Gather site's activation is its index tensor: every index is a row (a unit axis is appended). */
    private static int[] activationDims(FactoredSites.Site site, Map<String, NdArray> first) {
        int[] d = first.get(site.activation()).shape();
        return site.kind() == FactoredSites.Kind.GATHER ? unitLast(d, d.length + 1) : d;
    }

    private static int[] unitLast(int[] dims, int rank) {
        if (rank == dims.length) {
            return dims;
        }
        int[] out = Arrays.copyOf(dims, rank);
        out[rank - 1] = 1;
        return out;
    }

    private BatchAxis layoutOf(int[] single, NdArray batchedValue, NdArray batchedCot, GraphNetwork.Pass[] singles,
                               java.util.function.Function<GraphNetwork.Pass, NdArray> value,
                               java.util.function.Function<GraphNetwork.Pass, NdArray> cot) {
        if (batchedValue == null) {
            return null;
        }
        int[] batchedDims = batchedValue.shape();
        BatchAxis chosen = null;
        int[] chosenRows = null;
        for (BatchAxis a : BatchAxis.candidates(single, batchedDims, 2)) {
            int[] rowOf = a.rowOf(single, 2);
            boolean ok = true;
            for (int b = 0; b < 2 && ok; b++) {
                ok = sameRows(value.apply(singles[b]), batchedValue, rowOf, b, single, 1)
                        && sameRows(cot.apply(singles[b]), batchedCot, rowOf, b, single, c);
            }
            if (!ok) {
                continue;
            }
            if (chosen != null && !Arrays.equals(chosenRows, rowOf)) {
                return null; // two layouts explain what was seen: do not guess
            }
            chosen = a;
            chosenRows = rowOf;
        }
        return chosen;
    }

    /** Whether probe b's rows of a batched value (k leading directions) equal its single pass's. */
    private static boolean sameRows(NdArray single, NdArray batched, int[] rowOf, int b, int[] singleDims, int k) {
        if (single == null || batched == null) {
            return single == batched;
        }
        int local = BatchAxis.rows(singleDims);
        int d = singleDims[singleDims.length - 1];
        int batchedRows = batched.size() / (k * d);
        if (single.size() != k * local * d || batchedRows * k * d != batched.size()) {
            return false;
        }
        double[] s = single.data();
        double[] v = batched.data();
        double scale = 0;
        for (double x : s) {
            scale = Math.max(scale, Math.abs(x));
        }
        double tol = BATCH_AGREEMENT * scale + Double.MIN_NORMAL;
        for (int dir = 0; dir < k; dir++) {
            for (int t = 0; t < local; t++) {
                int src = (dir * batchedRows + rowOf[b * local + t]) * d;
                int dst = (dir * local + t) * d;
                for (int j = 0; j < d; j++) {
                    if (!(Math.abs(v[src + j] - s[dst + j]) <= tol)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** Probes per batched pass: as many as the budget allows, and at least one chunk per thread. */
    private int batchSize(GraphNetwork net, Map<String, NdArray> first, int threads) {
        long sum = 0;
        long max = 1;
        for (Map.Entry<String, NdArray> e : first.entrySet()) {
            if (net.dependsOnInput(e.getKey())) {
                sum += e.getValue().size();
                max = Math.max(max, e.getValue().size());
            }
        }
        // Forward values, plus a few C-direction cotangents of the largest value alive at once.
        long perProbe = sum + 4L * c * max;
        int byBudget = (int) Math.max(1, Math.min(Integer.MAX_VALUE, BATCH_BUDGET / perProbe));
        int perThread = (n + Math.max(1, threads) - 1) / Math.max(1, threads);
        return Math.max(1, Math.min(byBudget, perThread));
    }

    private static NdArray batch(Matrix probes, int from, int b, int[] sampleShape, GraphNetwork net) {
        int[] shape = sampleShape.clone();
        shape[0] = b;
        int w = probes.cols();
        return new NdArray(shape, Arrays.copyOfRange(probes.data(), from * w, (from + b) * w),
                net.graph().input().integer());
    }

    /** As {@link #fillCapture} for the probes {@code from .. from+b-1} of a batched pass. */
    private boolean fillCaptureBatch(Capture cap, NdArray g, int[] rowOf, int local, int from, int b) {
        if (g == null) {
            return true;
        }
        int d = cap.width();
        int rowsAll = g.size() / (c * d);
        int r = cap.rows().length;
        double[] gd = g.data();
        double[] dst = cap.g().data();
        int cols = c * d;
        boolean ok = true;
        for (int i = 0; i < b; i++) {
            int x = from + i;
            int k = 0;
            for (int t = 0; t < local; t++) {
                int src = rowOf[i * local + t];
                if (k < r && cap.rows()[k] == t) {
                    for (int cls = 0; cls < c; cls++) {
                        System.arraycopy(gd, (cls * rowsAll + src) * d, dst, (x * r + k) * cols + cls * d, d);
                    }
                    k++;
                } else {
                    ok &= !rowReached(g, c, rowsAll, d, src);
                }
            }
        }
        return ok;
    }

    private static void fillActivationBatch(Matrix a, NdArray value, int[] rowOf, int local, int[] rows, int from,
                                            int b) {
        int width = a.cols();
        int r = rows.length;
        double[] v = value.data();
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < r; k++) {
                System.arraycopy(v, rowOf[i * local + rows[k]] * width, a.data(), ((from + i) * r + k) * width, width);
            }
        }
    }

    private static boolean rowReached(NdArray g, int c, int rowsAll, int d, int t) {
        double[] gd = g.data();
        for (int cls = 0; cls < c; cls++) {
            int base = (cls * rowsAll + t) * d;
            for (int j = 0; j < d; j++) {
                if (gd[base + j] != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private void fillGeneric(Map<String, NdArray> grads, int x, Map<String, Integer> offset, Map<String, NdArray> params) {
        for (String g : groups) {
            Matrix j = jacobians.get(g);
            double[] jd = j.data();
            int width = j.cols();
            for (String p : parametersByGroup.get(g)) {
                Integer off = offset.get(p);
                if (off == null) {
                    continue;
                }
                double[] gd = grads.get(p).data();
                int size = params.get(p).size();
                for (int cls = 0; cls < c; cls++) {
                    System.arraycopy(gd, cls * size, jd, (cls * n + x) * width + off, size);
                }
            }
        }
    }

    /** Copies probe x's kept rows; false when a dropped row carries a non-zero cotangent. */
    private boolean fillCapture(Capture cap, NdArray g, int x) {
        if (g == null) {
            return true;
        }
        int rows = g.size() / (c * cap.width());
        return fillCaptureBatch(cap, g, identity(rows), rows, x, 1);
    }

    private static void fillActivation(Matrix a, NdArray value, int[] rows, int x) {
        int local = value.size() / a.cols();
        fillActivationBatch(a, value, identity(local), local, rows, x, 1);
    }

    /** One probe alone: its rows are where they are. */
    private static int[] identity(int n) {
        return IntStream.range(0, n).toArray();
    }

    /** The shape of one probe as the graph takes it: {@code [1, ...]} from the graph input's dimensions. */
    private static int[] sampleShape(GraphNetwork net, int width) {
        long[] dims = net.graph().input().dims();
        if (dims.length <= 2) {
            if (dims.length == 2 && dims[1] >= 0 && dims[1] != width) {
                throw new ModelFormatException("the graph input '" + net.graph().input().name() + "' takes " + dims[1]
                        + " values per probe, the probes have " + width);
            }
            return new int[] {1, width};
        }
        int[] shape = new int[dims.length];
        shape[0] = 1;
        long known = 1;
        boolean symbolic = false;
        for (int i = 1; i < dims.length; i++) {
            symbolic |= dims[i] < 0;
            known *= Math.max(dims[i], 1);
            shape[i] = (int) dims[i];
        }
        if (symbolic || known != width) {
            throw new ModelFormatException("the graph input '" + net.graph().input().name() + "' has shape "
                    + Arrays.toString(dims) + ", the probes have " + width + " values each");
        }
        return shape;
    }

    /** The graph's outputs on each probe, one forward pass per probe: N x outputs. */
    public static Matrix outputs(GraphNetwork net, Matrix probes) {
        int[] shape = sampleShape(net, probes.cols());
        Matrix out = null;
        for (int i = 0; i < probes.rows(); i++) {
            double[] y = net.forward(probe(probes, i, shape, net)).data();
            if (out == null) {
                out = new Matrix(probes.rows(), y.length);
            }
            System.arraycopy(y, 0, out.data(), i * y.length, y.length);
        }
        return out == null ? new Matrix(0, 0) : out;
    }

    private static NdArray probe(Matrix probes, int row, int[] shape, GraphNetwork net) {
        return new NdArray(shape, probes.row(row), net.graph().input().integer());
    }

    /**
     * Whether the probes went through batched reverse passes (every parameter factored and the graph keeps
     * probes apart) rather than one pass each.
     */
    public boolean batched() {
        return batched;
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
        for (String p : parameters(group)) {
            total += sizes.get(p);
        }
        return total;
    }

    /** Parameters whose kernels come from factored sites (the rest from per-probe gradients). */
    public Set<String> factoredParameters() {
        return sites.factored;
    }

    private List<String> groupsOf(String group) {
        if (Entk.ALL.equals(group)) {
            return groups;
        }
        parameters(group);
        return List.of(group);
    }

    private List<FactoredSites.Site> sitesOf(String group) {
        List<String> gs = groupsOf(group);
        List<FactoredSites.Site> r = new ArrayList<>();
        for (FactoredSites.Site s : sites.sites) {
            if (gs.contains(ModelDescription.groupOf(s.parameter()))) {
                r.add(s);
            }
        }
        return r;
    }

    /** Rows {@code c*N .. c*N + N - 1} of a group's per-probe gradients: {@code J_c}, N x P_g. */
    private Matrix block(String group, int cls) {
        Matrix j = jacobians.get(group);
        int w = j.cols();
        return new Matrix(n, w, Arrays.copyOfRange(j.data(), cls * n * w, (cls + 1) * n * w));
    }

    // ---------------------------------------------------------------- factored sites

    /** {@code A[(x,t),(x',t')]}: inner products of the site's activation rows. */
    private Matrix activationGram(FactoredSites.Site s) {
        int[] rows = captures.get(s.capture()).rows();
        int r = rows.length;
        int side = n * r;
        return switch (s.kind()) {
            case MATMUL -> Blas.gram(activations.get(s));
            case GATHER -> {
                double[] ids = activations.get(s).data();
                Matrix a = new Matrix(side, side);
                for (int i = 0; i < side; i++) {
                    for (int j = 0; j < side; j++) {
                        a.data()[i * side + j] = ids[i] == ids[j] ? 1 : 0;
                    }
                }
                yield a;
            }
            case ONES -> {
                Matrix a = new Matrix(side, side);
                Arrays.fill(a.data(), 1.0);
                yield a;
            }
            case IDENTITY -> {
                Matrix a = new Matrix(side, side);
                for (int i = 0; i < side; i++) {
                    for (int j = 0; j < side; j++) {
                        a.data()[i * side + j] = i % r == j % r ? 1 : 0;
                    }
                }
                yield a;
            }
        };
    }

    /** {@code sum_{t,t'} A[(x,t),(x',t')] B[(x,t),(x',t')]} times a factor: N x N from (N r) x (N r). */
    private Matrix blockSum(Matrix a, Matrix b, int r, double factor) {
        Matrix k = new Matrix(n, n);
        int side = n * r;
        double[] ad = a.data();
        double[] bd = b.data();
        double[] kd = k.data();
        for (int i = 0; i < side; i++) {
            int x = i / r;
            for (int j = 0; j < side; j++) {
                kd[x * n + j / r] += ad[i * side + j] * bd[i * side + j];
            }
        }
        if (factor != 1.0) {
            k.scaleInPlace(factor);
        }
        return k;
    }

    private Matrix siteClassMean(FactoredSites.Site s) {
        return siteClassMeans.computeIfAbsent(s, key -> {
            Capture cap = captures.get(key.capture());
            Matrix sum = classSums.computeIfAbsent(key.capture(), k -> Blas.gram(cap.g()));
            return blockSum(activationGram(key), sum, cap.rows().length, key.scale() * key.scale() / c);
        });
    }

    /** Columns {@code c*d .. c*d + d - 1} of a capture: {@code G_c}, (N r) x d. */
    private static Matrix classColumns(Capture cap, int cls) {
        int d = cap.width();
        Matrix g = cap.g();
        Matrix m = new Matrix(g.rows(), d);
        for (int i = 0; i < g.rows(); i++) {
            System.arraycopy(g.data(), i * g.cols() + cls * d, m.data(), i * d, d);
        }
        return m;
    }

    private Matrix sitePerClass(FactoredSites.Site s, int cls, int d) {
        Capture cap = captures.get(s.capture());
        Matrix b = Blas.multiply(classColumns(cap, cls), false, classColumns(cap, d), true);
        return blockSum(activationGram(s), b, cap.rows().length, s.scale() * s.scale());
    }

    /** {@code K[(c,x),(d,x')] = sum_{t,t'} A[(x,t),(x',t')] G_xct . G_x'dt'}, NC x NC. */
    private Matrix siteFlattened(FactoredSites.Site s) {
        Capture cap = captures.get(s.capture());
        int r = cap.rows().length;
        int w = cap.width();
        Entk.requireDense("flattened kernel factor", (long) c * n * r);
        // Rows (c, x, t) of width d.
        Matrix g = new Matrix(c * n * r, w);
        for (int cls = 0; cls < c; cls++) {
            for (int i = 0; i < n * r; i++) {
                System.arraycopy(cap.g().data(), i * cap.g().cols() + cls * w, g.data(), (cls * n * r + i) * w, w);
            }
        }
        Matrix m = Blas.gram(g);
        Matrix a = activationGram(s);
        int side = n * r;
        int big = c * side;
        Matrix k = new Matrix(n * c, n * c);
        double f = s.scale() * s.scale();
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < side; i++) {
                int row = ci * n + i / r;
                for (int cj = 0; cj < c; cj++) {
                    int mBase = (ci * side + i) * big + cj * side;
                    for (int j = 0; j < side; j++) {
                        k.data()[row * (n * c) + cj * n + j / r] += f * a.data()[i * side + j] * m.data()[mBase + j];
                    }
                }
            }
        }
        return k;
    }

    // ---------------------------------------------------------------- kernels

    /** {@code K(x,x') = (1/C) sum_c J_c(x) . J_c(x')}, N x N. */
    @Override
    public Matrix classMean(String group) {
        Matrix k = new Matrix(n, n);
        for (String g : groupsOf(group)) {
            if (jacobians.get(g).cols() == 0) {
                continue;
            }
            for (int cls = 0; cls < c; cls++) {
                Matrix b = block(g, cls);
                Blas.gemm(1.0 / c, b, false, b, true, 1.0, k);
            }
        }
        List<FactoredSites.Site> ss = sitesOf(group);
        // Sites' kernels are independent products: one per core (each BLAS call runs on one thread).
        ForkJoinPool pool = new ForkJoinPool(Math.max(1, Math.min(threads, ss.size())));
        try {
            pool.submit(() -> ss.parallelStream().forEach(this::siteClassMean)).join();
        } finally {
            pool.shutdown();
        }
        for (FactoredSites.Site s : ss) {
            k.addInPlace(1.0, siteClassMean(s));
        }
        return k;
    }

    /** A factor F with {@code classMean(group) = F F^T} for a group without factored sites. */
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
        if (sitesOf(group).isEmpty() && (long) c * parameterCount(group) < n) {
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
            if (jacobians.get(g).cols() > 0) {
                Blas.gemm(1.0, block(g, cls), false, block(g, d), true, 1.0, k);
            }
        }
        for (FactoredSites.Site s : sitesOf(group)) {
            k.addInPlace(1.0, sitePerClass(s, cls, d));
        }
        return k;
    }

    /** {@code S J}: per-probe gradient rows of the group's unfactored parameters, row c*N + x scaled by s_c. */
    private Matrix scaledJacobian(String group, double[] scale) {
        List<String> gs = groupsOf(group);
        int width = 0;
        for (String g : gs) {
            width += jacobians.get(g).cols();
        }
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
        checkScale(scale);
        Entk.requireDense("flattened kernel", (long) n * c);
        Matrix k = Blas.gram(scaledJacobian(group, scale));
        List<FactoredSites.Site> ss = sitesOf(group);
        if (!ss.isEmpty()) {
            Matrix f = new Matrix(n * c, n * c);
            for (FactoredSites.Site s : ss) {
                f.addInPlace(1.0, siteFlattened(s));
            }
            if (scale != null) {
                int side = n * c;
                for (int i = 0; i < side; i++) {
                    for (int j = 0; j < side; j++) {
                        f.data()[i * side + j] *= scale[i / n] * scale[j / n];
                    }
                }
            }
            k.addInPlace(1.0, f);
        }
        return k;
    }

    @Override
    public Eigenpairs flattenedTop(String group, double[] scale, int k, int vectors, Precision precision) {
        checkScale(scale);
        if (sitesOf(group).isEmpty() && parameterCount(group) < (long) n * c) {
            return LowRankEigen.top(scaledJacobian(group, scale), k, vectors, precision);
        }
        return SymmetricEigen.top(flattened(group, scale), k, vectors, precision);
    }

    @Override
    public SymmetricOperator flattenedOperator(String group, double[] scale) {
        checkScale(scale);
        if (sitesOf(group).isEmpty()) {
            return SymmetricOperator.lowRank(scaledJacobian(group, scale));
        }
        return SymmetricOperator.of(flattened(group, scale));
    }
}

package io.grokwatch.entk;

import io.grokwatch.graph.Graph;
import io.grokwatch.graph.GraphNetwork;
import io.grokwatch.graph.NdArray;
import io.grokwatch.graph.Node;
import io.grokwatch.graph.Ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a graph's parameters meet the probes in a way whose Jacobian factorises. A weight multiplied by an
 * activation ({@code Y = X W'}, Gemm, an embedding lookup, a broadcast bias or position table) has, for probe x
 * and output c, the Jacobian {@code X_x^T G_xc} with {@code G} the cotangent at the site's output; two probes'
 * Jacobians then meet as {@code sum_{t,t'} (X_x X_x'^T)[t,t'] (G_xc G_x'c^T)[t,t']}, so the kernel needs the
 * activation rows and the output cotangents, never the parameter-sized Jacobian.
 *
 * <p>{@code W'} may be the parameter itself or any arrangement of it by movement ops (transpose, reshape,
 * slices) that takes each entry at most once: then inner products in {@code W'} space equal those in the
 * parameter's. A parameter is factored when every use of it is such a site and its sites take disjoint
 * entries; any other use (tied weights, a LayerNorm scale, arithmetic on the weight) leaves the whole
 * parameter to the per-probe gradients.
 */
final class FactoredSites {
    /** How a site's activation rows are formed. */
    enum Kind {
        /** {@code X W'}: the input-dependent operand's rows. */
        MATMUL,
        /** {@code W'[ids]}: one-hot rows of the token ids. */
        GATHER,
        /** A bias broadcast over every row: a column of ones. */
        ONES,
        /** A table with one row per output row (position embeddings): the identity. */
        IDENTITY
    }

    /**
     * One site.
     *
     * @param parameter  the parameter whose entries the operand holds
     * @param capture    the value whose cotangent is the site's {@code G} (rows x width)
     * @param activation the value holding the activation rows (MATMUL) or the ids (GATHER), else null
     * @param operand    the parameter-derived operand, into which no cotangent is sent
     * @param scale      a constant factor of the Jacobian (Gemm's alpha or beta)
     */
    record Site(String parameter, Kind kind, String capture, String activation, String operand, double scale) {
    }

    final List<Site> sites;
    final Set<String> factored;

    private FactoredSites(List<Site> sites, Set<String> factored) {
        this.sites = List.copyOf(sites);
        this.factored = Set.copyOf(factored);
    }

    /** No site: every parameter by its per-probe gradients. */
    static FactoredSites none() {
        return new FactoredSites(List.of(), Set.of());
    }

    Set<String> captures() {
        Set<String> s = new LinkedHashSet<>();
        sites.forEach(x -> s.add(x.capture()));
        return s;
    }

    Set<String> operands() {
        Set<String> s = new HashSet<>();
        sites.forEach(x -> s.add(x.operand()));
        return s;
    }

    /**
     * @param values one probe's forward pass, to check that each site's shapes are those its factorisation reads
     */
    static FactoredSites find(GraphNetwork net, Map<String, NdArray> values) {
        Graph graph = net.graph();
        Map<String, NdArray> params = net.parameters();
        // Every parameter entry gets a global index (1-based); a movement op run on index tensors tells where
        // each entry of its output came from.
        Map<String, Integer> base = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(params.keySet());
        int offset = 0;
        Map<String, NdArray> index = new HashMap<>();
        for (String p : names) {
            base.put(p, offset);
            NdArray v = params.get(p);
            double[] d = new double[v.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = offset + i + 1;
            }
            index.put(p, new NdArray(v.shape(), d));
            offset += d.length;
        }
        Map<String, Set<String>> paramsOf = new HashMap<>();
        for (String p : names) {
            paramsOf.put(p, Set.of(p));
        }
        Map<String, Integer> consumers = new HashMap<>();
        for (Node n : graph.nodes()) {
            for (String in : n.inputs()) {
                consumers.merge(in, 1, Integer::sum);
            }
        }
        Set<String> generic = new HashSet<>();
        List<Site> found = new ArrayList<>();
        for (Node n : graph.nodes()) {
            boolean perProbe = false;
            for (String out : n.outputs()) {
                perProbe |= net.dependsOnInput(out);
            }
            if (!perProbe) {
                // Computed once from parameters and constants: follow entries through movement ops.
                Set<String> from = new HashSet<>();
                boolean pure = Ops.isMovement(n.opType());
                NdArray[] probe = new NdArray[n.inputs().size()];
                for (int i = 0; i < probe.length; i++) {
                    String in = n.inputs().get(i);
                    if (in.isEmpty()) {
                        continue;
                    }
                    probe[i] = net.fixedValue(in);
                    if (net.isActive(in)) {
                        from.addAll(paramsOf.getOrDefault(in, Set.of()));
                        if (Ops.differentiable(n, i) && index.containsKey(in)) {
                            probe[i] = index.get(in);
                        } else {
                            pure = false;
                        }
                    } else if (Ops.differentiable(n, i)) {
                        pure = false;
                    }
                }
                if (from.isEmpty()) {
                    continue;
                }
                for (String out : n.outputs()) {
                    paramsOf.put(out, from);
                }
                if (pure) {
                    NdArray[] moved = Ops.moveIndices(n, probe);
                    for (int o = 0; o < moved.length && o < n.outputs().size(); o++) {
                        if (moved[o] != null) {
                            index.put(n.outputs().get(o), moved[o]);
                        }
                    }
                } else {
                    generic.addAll(from);
                }
                continue;
            }
            for (int i = 0; i < n.inputs().size(); i++) {
                String in = n.inputs().get(i);
                if (in.isEmpty() || net.dependsOnInput(in) || !net.isActive(in)) {
                    continue;
                }
                Site s = site(net, n, i, consumers, values);
                String owner = s == null ? null : singleInjectiveOwner(index.get(in), base, names);
                if (s == null || owner == null) {
                    generic.addAll(paramsOf.getOrDefault(in, Set.of()));
                } else {
                    found.add(new Site(owner, s.kind(), s.capture(), s.activation(), in, s.scale()));
                }
            }
        }
        // Sites of one parameter must take disjoint entries (entries are positive flat indices: a bit set).
        Map<String, java.util.BitSet> taken = new HashMap<>();
        for (Site s : found) {
            java.util.BitSet seen = taken.computeIfAbsent(s.parameter(), k -> new java.util.BitSet());
            for (double v : index.get(s.operand()).data()) {
                int entry = (int) v;
                if (seen.get(entry)) {
                    generic.add(s.parameter());
                    break;
                }
                seen.set(entry);
            }
        }
        List<Site> sites = new ArrayList<>();
        Set<String> factored = new LinkedHashSet<>();
        for (Site s : found) {
            if (!generic.contains(s.parameter())) {
                sites.add(s);
                factored.add(s.parameter());
            }
        }
        return new FactoredSites(sites, factored);
    }

    /** The parameter all entries of an index map come from, when they are distinct and none is a constant fill. */
    private static String singleInjectiveOwner(NdArray map, Map<String, Integer> base, List<String> names) {
        if (map == null || map.size() == 0) {
            return null;
        }
        double[] d = map.data().clone();
        Arrays.sort(d);
        if (d[0] < 1) {
            return null;
        }
        for (int i = 1; i < d.length; i++) {
            if (d[i] == d[i - 1]) {
                return null;
            }
        }
        String owner = null;
        for (String p : names) {
            if (d[0] > base.get(p)) {
                owner = p;
            }
        }
        int end = base.get(owner) + sizeOf(owner, base, names);
        return d[d.length - 1] <= end ? owner : null;
    }

    private static int sizeOf(String p, Map<String, Integer> base, List<String> names) {
        int i = names.indexOf(p);
        return i + 1 < names.size() ? base.get(names.get(i + 1)) - base.get(p) : Integer.MAX_VALUE - base.get(p);
    }

    /** The site a parameter-derived operand at input i of a per-probe node forms, or null. */
    private static Site site(GraphNetwork net, Node n, int i, Map<String, Integer> consumers,
                             Map<String, NdArray> values) {
        NdArray w = net.fixedValue(n.inputs().get(i));
        String out = n.outputs().get(0);
        switch (n.opType()) {
            case "MatMul":
                if (i == 1 && w.rank() == 2 && net.dependsOnInput(n.inputs().get(0))) {
                    NdArray x = values.get(n.inputs().get(0));
                    if (x.rank() >= 2 && x.dim(x.rank() - 1) == w.dim(0)) {
                        return new Site(null, Kind.MATMUL, out, n.inputs().get(0), null, 1.0);
                    }
                }
                return null;
            case "Gemm":
                if (n.intAttr("transA", 0) != 0 || !net.dependsOnInput(n.inputs().get(0))) {
                    return null;
                }
                NdArray y = values.get(out);
                if (i == 1 && values.get(n.inputs().get(0)).dim(1) == (n.intAttr("transB", 0) != 0 ? w.dim(1) : w.dim(0))) {
                    return new Site(null, Kind.MATMUL, out, n.inputs().get(0), null, n.floatAttr("alpha", 1.0));
                }
                if (i == 2 && Arrays.equals(trailing(w.shape()), new int[] {y.dim(1)})) {
                    return new Site(null, Kind.ONES, out, null, null, n.floatAttr("beta", 1.0));
                }
                return null;
            case "Gather":
                if (i == 0 && n.intAttr("axis", 0) == 0 && w.rank() == 2 && net.dependsOnInput(n.inputs().get(1))
                        && values.get(n.inputs().get(1)).integer()) {
                    return new Site(null, Kind.GATHER, out, n.inputs().get(1), null, 1.0);
                }
                return null;
            case "Add": {
                String other = n.inputs().get(1 - i);
                if (!net.dependsOnInput(other)) {
                    return null;
                }
                // The other operand must already have the output's shape; its cotangent is then the output's,
                // and when this Add is its only reader, capturing it there shares the capture of the site
                // that produced it (a weight's product, an embedding lookup).
                NdArray sum = values.get(out);
                if (!Arrays.equals(values.get(other).shape(), sum.shape()) || sum.rank() == 0) {
                    return null;
                }
                String capture = consumers.getOrDefault(other, 0) == 1 ? other : out;
                int[] p = trailing(w.shape());
                if (Arrays.equals(p, new int[] {sum.dim(sum.rank() - 1)})) {
                    return new Site(null, Kind.ONES, capture, null, null, 1.0);
                }
                if (Arrays.equals(p, trailing(sum.shape()))) {
                    return new Site(null, Kind.IDENTITY, capture, null, null, 1.0);
                }
                return null;
            }
            default:
                return null;
        }
    }

    /** A shape without its leading length-1 axes. */
    static int[] trailing(int[] shape) {
        int k = 0;
        while (k < shape.length - 1 && shape[k] == 1) {
            k++;
        }
        return Arrays.copyOfRange(shape, k, shape.length);
    }
}

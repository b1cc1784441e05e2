package io.grokwatch.graph;

import io.grokwatch.model.ModelFormatException;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link Graph} bound to parameter values: forward pass over a batch, and exact Jacobian products with
 * respect to the parameters for one probe, in reverse mode (all outputs at once: the per-class gradients
 * the eNTK is built from) and in forward mode. Values that do not depend on the probes (constants, shape
 * arithmetic on them, transposed weights) are computed once at binding.
 */
public final class GraphNetwork {
    private final Graph graph;
    private final Map<String, NdArray> parameters;
    /** Values that do not depend on the graph input, computed at binding. */
    private final Map<String, NdArray> fixed = new HashMap<>();
    /** Nodes that read the graph input, directly or not, in order. */
    private final List<Node> perProbe;
    /** Values through which a derivative with respect to the parameters can flow. */
    private final Set<String> active = new HashSet<>();

    public GraphNetwork(Graph graph, Map<String, NdArray> parameters) {
        this.graph = graph;
        this.parameters = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> p : graph.parameterShapes().entrySet()) {
            NdArray v = parameters.get(p.getKey());
            if (v == null) {
                throw new ModelFormatException("parameter '" + p.getKey() + "' of the graph is missing from the checkpoint");
            }
            if (!Arrays.equals(v.dims(), p.getValue())) {
                throw new ModelFormatException("parameter '" + p.getKey() + "' has shape " + Shapes.text(v.dims())
                        + " in the checkpoint, the graph expects " + Shapes.text(p.getValue()));
            }
            this.parameters.put(p.getKey(), v);
        }
        fixed.putAll(graph.initializers());
        fixed.putAll(this.parameters);
        active.addAll(this.parameters.keySet());
        Set<String> dependsOnInput = new HashSet<>();
        dependsOnInput.add(graph.input().name());
        java.util.List<Node> rest = new java.util.ArrayList<>();
        for (Node n : graph.nodes()) {
            GraphOp op = Ops.get(n);
            boolean fromInput = false;
            boolean fromActive = false;
            for (int i = 0; i < n.inputs().size(); i++) {
                String in = n.inputs().get(i);
                fromInput |= dependsOnInput.contains(in);
                fromActive |= active.contains(in) && op.differentiable(n, i);
            }
            if (fromActive) {
                active.addAll(n.outputs());
            }
            if (fromInput) {
                dependsOnInput.addAll(n.outputs());
                rest.add(n);
            } else {
                store(fixed, n, run(op, n, fixed));
            }
        }
        this.perProbe = List.copyOf(rest);
    }

    public Graph graph() {
        return graph;
    }

    public Map<String, NdArray> parameters() {
        return java.util.Collections.unmodifiableMap(parameters);
    }

    private static NdArray[] inputsOf(Node n, Map<String, NdArray> values) {
        NdArray[] in = new NdArray[n.inputs().size()];
        for (int i = 0; i < in.length; i++) {
            String name = n.inputs().get(i);
            in[i] = name.isEmpty() ? null : values.get(name);
        }
        return in;
    }

    private static NdArray[] run(GraphOp op, Node n, Map<String, NdArray> values) {
        try {
            return op.forward(n, inputsOf(n, values));
        } catch (ModelFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new ModelFormatException(msg.startsWith("node '") ? msg : n.label() + ": " + msg, e);
        }
    }

    private static void store(Map<String, NdArray> values, Node n, NdArray[] out) {
        for (int i = 0; i < n.outputs().size() && i < out.length; i++) {
            if (!n.outputs().get(i).isEmpty() && out[i] != null) {
                values.put(n.outputs().get(i), out[i]);
            }
        }
    }

    /** Checks a batch against the graph input: rank, fixed dimensions, integer or float. */
    private NdArray checkInput(NdArray x) {
        long[] dims = graph.input().dims();
        if (dims.length != x.rank()) {
            throw new ModelFormatException("the graph input '" + graph.input().name() + "' has rank " + dims.length
                    + " (" + Arrays.toString(dims) + "), the probes give " + Shapes.text(x.dims()));
        }
        for (int i = 1; i < dims.length; i++) {
            if (dims[i] >= 0 && dims[i] != x.dim(i)) {
                throw new ModelFormatException("the graph input '" + graph.input().name() + "' expects shape "
                        + Arrays.toString(dims) + ", the probes give " + Shapes.text(x.dims()));
            }
        }
        return x.asInteger(graph.input().integer());
    }

    /** All values of one forward pass over a batch (graph input first axis). */
    public Map<String, NdArray> evaluate(NdArray x) {
        Map<String, NdArray> values = new HashMap<>(fixed);
        values.put(graph.input().name(), checkInput(x));
        for (Node n : perProbe) {
            store(values, n, run(Ops.get(n), n, values));
        }
        return values;
    }

    /** The graph output for a batch. */
    public NdArray forward(NdArray x) {
        NdArray y = evaluate(x).get(graph.output().name());
        if (y == null) {
            throw new ModelFormatException("graph output '" + graph.output().name() + "' was not computed");
        }
        return y;
    }

    /**
     * Reverse mode for one probe ({@code x} with a batch of 1): the gradient of each of the C outputs with
     * respect to every parameter, as {@code [C, ...parameter shape]} per parameter name.
     */
    public Map<String, NdArray> outputGradients(NdArray x) {
        return reverse(x, Set.of(), Set.of()).gradients();
    }

    /**
     * What one reverse pass for one probe keeps.
     *
     * @param values     every value of the forward pass
     * @param cotangents the cotangents ({@code [C, ...shape]}) of the values asked for, where any reached them
     * @param gradients  {@code [C, ...shape]} per parameter (zero for parameters reached only through stopped values)
     */
    public record Pass(Map<String, NdArray> values, Map<String, NdArray> cotangents, Map<String, NdArray> gradients) {
    }

    /**
     * Reverse mode for one probe with all C outputs as directions, keeping the cotangents of the values in
     * {@code keep} and sending none into the values in {@code stop} (operands whose contribution the caller
     * computes in factored form).
     */
    public Pass reverse(NdArray x, Set<String> keep, Set<String> stop) {
        if (x.dim(0) != 1) {
            throw new IllegalArgumentException("one probe at a time, got a batch of " + x.dim(0));
        }
        Map<String, NdArray> values = evaluate(x);
        NdArray y = values.get(graph.output().name());
        int c = y.size();
        double[] seed = new double[c * c];
        for (int i = 0; i < c; i++) {
            seed[i * c + i] = 1;
        }
        return backward(values, new NdArray(Shapes.prepend(c, y.dims()), seed), c, keep, stop, true);
    }

    /**
     * Reverse mode for a batch of B probes that the graph keeps apart (no op mixes one probe's values into
     * another's), with C directions: direction c seeds output c of every probe at once. Each kept cotangent
     * then holds, in every probe's own rows, exactly what that probe's own {@link #reverse} would give;
     * parameter gradients would be sums over the batch and are not returned. The caller checks that the
     * graph keeps probes apart (a Gather or Reshape may interleave them; a batch statistic mixes them).
     *
     * @param classes outputs per probe: the graph output must hold B x classes values, probe-major
     */
    public Pass reverseBatch(NdArray x, int classes, Set<String> keep, Set<String> stop) {
        Map<String, NdArray> values = evaluate(x);
        NdArray y = values.get(graph.output().name());
        int b = x.dim(0);
        if (y.rank() == 0 || y.dim(0) != b || y.size() != b * classes) {
            throw new ModelFormatException("graph output " + Shapes.text(y.dims()) + " is not " + b + " probes x "
                    + classes + " outputs");
        }
        double[] seed = new double[classes * b * classes];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < b; i++) {
                seed[(c * b + i) * classes + c] = 1;
            }
        }
        return backward(values, new NdArray(Shapes.prepend(classes, y.dims()), seed), classes, keep, stop, false);
    }

    private Pass backward(Map<String, NdArray> values, NdArray seed, int c, Set<String> keep, Set<String> stop,
                          boolean gradients) {
        Map<String, NdArray> cot = new HashMap<>();
        Map<String, NdArray> kept = new HashMap<>();
        cot.put(graph.output().name(), seed);
        List<Node> nodes = graph.nodes();
        for (int idx = nodes.size() - 1; idx >= 0; idx--) {
            Node n = nodes.get(idx);
            NdArray[] g = new NdArray[n.outputs().size()];
            boolean any = false;
            for (int o = 0; o < g.length; o++) {
                String name = n.outputs().get(o);
                g[o] = cot.remove(name);
                if (g[o] != null && keep.contains(name)) {
                    kept.put(name, g[o]);
                }
                any |= g[o] != null;
            }
            if (!any) {
                continue;
            }
            GraphOp op = Ops.get(n);
            boolean[] need = new boolean[n.inputs().size()];
            boolean needAny = false;
            for (int i = 0; i < need.length; i++) {
                String in = n.inputs().get(i);
                need[i] = !in.isEmpty() && active.contains(in) && !stop.contains(in) && op.differentiable(n, i)
                        && !values.get(in).integer();
                needAny |= need[i];
            }
            if (!needAny) {
                continue;
            }
            NdArray[] out = new NdArray[g.length];
            for (int o = 0; o < g.length; o++) {
                out[o] = values.get(n.outputs().get(o));
            }
            NdArray[] gin;
            try {
                gin = op.vjp(n, inputsOf(n, values), out, g, need, c);
            } catch (RuntimeException e) {
                throw new ModelFormatException(n.label() + ": reverse mode failed: " + e.getMessage(), e);
            }
            for (int i = 0; i < need.length; i++) {
                if (need[i] && gin[i] != null) {
                    cot.merge(n.inputs().get(i), gin[i], LinearAlgebraOps::add);
                }
            }
        }
        Map<String, NdArray> grads = new LinkedHashMap<>();
        for (Map.Entry<String, NdArray> p : gradients ? parameters.entrySet() : Map.<String, NdArray>of().entrySet()) {
            NdArray g = cot.get(p.getKey());
            grads.put(p.getKey(), g != null ? g : NdArray.zeros(Shapes.prepend(c, p.getValue().dims())));
        }
        return new Pass(values, kept, grads);
    }

    /** Whether a value depends on the probes (otherwise it was computed once, at binding). */
    public boolean dependsOnInput(String value) {
        return !fixed.containsKey(value);
    }

    /** A value that does not depend on the probes, or null. */
    public NdArray fixedValue(String value) {
        return fixed.get(value);
    }

    /** Whether a derivative with respect to the parameters flows through a value. */
    public boolean isActive(String value) {
        return active.contains(value);
    }

    /**
     * Forward mode for one or more probes: the output tangent {@code [K, ...output shape]} for K parameter
     * directions ({@code [K, ...parameter shape]} per parameter; a missing parameter does not move).
     */
    public NdArray outputTangent(NdArray x, Map<String, NdArray> directions, int k) {
        Map<String, NdArray> values = evaluate(x);
        Map<String, NdArray> tan = new HashMap<>();
        for (Map.Entry<String, NdArray> d : directions.entrySet()) {
            if (!parameters.containsKey(d.getKey())) {
                throw new IllegalArgumentException("no parameter '" + d.getKey() + "'");
            }
            tan.put(d.getKey(), d.getValue());
        }
        for (Node n : graph.nodes()) {
            GraphOp op = Ops.get(n);
            NdArray[] t = new NdArray[n.inputs().size()];
            boolean any = false;
            for (int i = 0; i < t.length; i++) {
                String in = n.inputs().get(i);
                if (!in.isEmpty() && op.differentiable(n, i) && tan.containsKey(in)) {
                    t[i] = tan.get(in);
                    any = true;
                }
            }
            if (!any) {
                continue;
            }
            NdArray[] out = new NdArray[n.outputs().size()];
            for (int o = 0; o < out.length; o++) {
                out[o] = values.get(n.outputs().get(o));
            }
            NdArray[] r;
            try {
                r = op.jvp(n, inputsOf(n, values), out, t, k);
            } catch (RuntimeException e) {
                throw new ModelFormatException(n.label() + ": forward mode failed: " + e.getMessage(), e);
            }
            for (int o = 0; o < out.length; o++) {
                if (r[o] != null && out[o] != null && !out[o].integer()) {
                    tan.put(n.outputs().get(o), r[o]);
                }
            }
        }
        NdArray y = values.get(graph.output().name());
        NdArray ty = tan.get(graph.output().name());
        return ty != null ? ty : NdArray.zeros(Shapes.prepend(k, y.dims()));
    }
}

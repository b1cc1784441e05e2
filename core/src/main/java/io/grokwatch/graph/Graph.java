package io.grokwatch.graph;

import io.grokwatch.model.ModelFormatException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A computation graph in topological order: one input (the probes, batch first), one output (the model's
 * outputs per probe, batch first), the initializers, and which initializers are trainable parameters (named
 * as in the PyTorch {@code state_dict}; the checkpoint supplies their values). The constructor checks that
 * every op is supported and every value is defined before it is read.
 *
 * @param initializers values of the initializers; a parameter's entry may be null when only its shape is
 *                     known (the checkpoint supplies it)
 * @param parameterShapes shape of every parameter, in order of first use
 */
public record Graph(ValueInfo input, ValueInfo output, Map<String, NdArray> initializers,
                    Map<String, int[]> parameterShapes, List<Node> nodes) {
    public Graph {
        initializers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        parameterShapes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameterShapes));
        nodes = List.copyOf(nodes);
        Set<String> defined = new HashSet<>(initializers.keySet());
        defined.addAll(parameterShapes.keySet());
        defined.add(input.name());
        for (Node n : nodes) {
            if (!Ops.isSupported(n.opType())) {
                throw Ops.unsupported(n);
            }
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !defined.contains(in)) {
                    throw new ModelFormatException(n.label() + ": reads '" + in + "', which no earlier node, initializer "
                            + "or graph input defines");
                }
            }
            defined.addAll(n.outputs());
        }
        if (!defined.contains(output.name())) {
            throw new ModelFormatException("graph output '" + output.name() + "' is never computed");
        }
        if (parameterShapes.isEmpty()) {
            throw new ModelFormatException("the graph has no trainable parameters (no float initializers)");
        }
    }

    /** Parameter names in order of first use. */
    public List<String> parameters() {
        return new ArrayList<>(parameterShapes.keySet());
    }

    /** Op types used by the graph, sorted. */
    public Set<String> opTypes() {
        Set<String> s = new java.util.TreeSet<>();
        for (Node n : nodes) {
            s.add(n.opType());
        }
        return s;
    }
}

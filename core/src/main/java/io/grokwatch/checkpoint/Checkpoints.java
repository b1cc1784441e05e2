package io.grokwatch.checkpoint;

import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.model.Network;
import io.grokwatch.model.Parameters;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;

import java.util.HashMap;
import java.util.Map;

/** Moves weights between safetensors files and bound networks, checking them against the model. */
public final class Checkpoints {
    private Checkpoints() {
    }

    /**
     * The tensors the model uses, converted to float64 and checked: present, the shapes chain, all finite.
     * Extra tensors in the file (optimizer state, buffers) are ignored.
     */
    public static Network bind(ModelDescription model, TensorFile file) {
        Map<String, long[]> shapes = new HashMap<>();
        for (Tensor t : file.tensors()) {
            shapes.put(t.name(), t.shape());
        }
        model.widths(shapes);
        Parameters params = new Parameters();
        for (String name : model.parameterNames()) {
            Tensor t = file.get(name);
            params.put(name, t.shape(), t.values().clone());
        }
        String bad = params.firstNonFinite();
        if (bad != null) {
            throw new io.grokwatch.model.NonFiniteWeightsException(bad);
        }
        return new Network(model, params);
    }

    /**
     * A graph bound to a checkpoint: every parameter present with the graph's shape, all finite; extra tensors
     * (optimizer state, buffers) are ignored.
     */
    public static io.grokwatch.graph.GraphNetwork bind(io.grokwatch.graph.Graph graph, TensorFile file) {
        Map<String, io.grokwatch.graph.NdArray> params = new HashMap<>();
        for (String name : graph.parameters()) {
            Tensor t = file.find(name).orElseThrow(() -> new ModelFormatException("parameter '" + name
                    + "' of the graph is missing from the checkpoint (it has " + String.join(", ", file.names()) + ")"));
            int[] shape = new int[t.rank()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = Math.toIntExact(t.shape()[i]);
            }
            double[] v = t.values().clone();
            for (double d : v) {
                if (!Double.isFinite(d)) {
                    throw new io.grokwatch.model.NonFiniteWeightsException(name);
                }
            }
            params.put(name, new io.grokwatch.graph.NdArray(shape, v));
        }
        return new io.grokwatch.graph.GraphNetwork(graph, params);
    }

    /** The network's parameters as float64 tensors with the given metadata. */
    public static TensorFile toTensorFile(Parameters params, Map<String, String> metadata) {
        TensorFile.Builder b = TensorFile.builder();
        for (String name : params.names()) {
            b.add(Tensor.f64(name, params.shape(name), params.get(name).data().clone()));
        }
        return b.metadata(metadata).build();
    }
}

package io.grokwatch.graph;

/**
 * A graph input or output: its name, whether it holds integers (token ids) and its dimensions, -1 for a
 * symbolic one such as the batch.
 */
public record ValueInfo(String name, boolean integer, long[] dims) {
    public ValueInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }
}

package io.grokwatch.safetensors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The content of one safetensors file: named tensors in a fixed order plus string metadata. Immutable
 * (apart from the tensors' value arrays, which are shared, not copied). Order is the order tensors were
 * added, or the order of the header when read, so checkpoints round-trip unchanged.
 */
public final class TensorFile {
    /** Header key reserved for metadata; no tensor may use it. */
    public static final String METADATA_KEY = "__metadata__";

    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    /**
     * @throws IllegalArgumentException on a duplicate tensor name or a tensor named {@value #METADATA_KEY}
     */
    public TensorFile(List<Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            Objects.requireNonNull(t, "tensor");
            if (METADATA_KEY.equals(t.name())) {
                throw new IllegalArgumentException("tensor name '" + METADATA_KEY + "' is reserved for metadata");
            }
            if (byName.putIfAbsent(t.name(), t) != null) {
                throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
            }
        }
        Map<String, String> meta = new LinkedHashMap<>();
        metadata.forEach((k, v) -> meta.put(Objects.requireNonNull(k, "metadata key"),
                Objects.requireNonNull(v, () -> "metadata value of '" + k + "'")));
        this.tensors = Collections.unmodifiableMap(byName);
        this.metadata = Collections.unmodifiableMap(meta);
    }

    /** Tensors in this order, no metadata. */
    public static TensorFile of(Tensor... tensors) {
        return new TensorFile(Arrays.asList(tensors), Map.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Unmodifiable, in insertion (header) order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** @throws NoSuchElementException naming the missing tensor */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException("no tensor '" + name + "' among " + tensors.size() + " tensors");
        }
        return t;
    }

    public Optional<Tensor> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** Unmodifiable, in order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** Unmodifiable, in order. */
    public List<Tensor> tensors() {
        return List.copyOf(tensors.values());
    }

    public int size() {
        return tensors.size();
    }

    /** Same tensors in the same order and same metadata. */
    @Override
    public boolean equals(Object o) {
        return o instanceof TensorFile f
                && new ArrayList<>(tensors.values()).equals(new ArrayList<>(f.tensors.values()))
                && metadata.equals(f.metadata);
    }

    @Override
    public int hashCode() {
        return Objects.hash(new ArrayList<>(tensors.values()), metadata);
    }

    @Override
    public String toString() {
        return "TensorFile[tensors=" + tensors.values() + ", metadata=" + metadata + "]";
    }

    /** Collects tensors and metadata in order; {@link #build()} applies the constructor's checks. */
    public static final class Builder {
        private final List<Tensor> tensors = new ArrayList<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder add(Tensor tensor) {
            tensors.add(Objects.requireNonNull(tensor, "tensor"));
            return this;
        }

        public Builder metadata(String key, String value) {
            metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
            return this;
        }

        public Builder metadata(Map<String, String> entries) {
            entries.forEach(this::metadata);
            return this;
        }

        public TensorFile build() {
            return new TensorFile(tensors, metadata);
        }
    }
}

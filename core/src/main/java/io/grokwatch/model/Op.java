package io.grokwatch.model;

import java.util.List;
import java.util.Optional;

/** One step of a sequential model. Parameters are referenced by their PyTorch {@code state_dict} names. */
public sealed interface Op permits Op.Linear, Op.Bias, Op.Scale, Op.Square, Op.Relu {

    /** The JSON name of the op, as in {@code {"op": "linear", ...}}. */
    String name();

    /** Names of the tensors this op reads, in a fixed order. */
    List<String> parameters();

    /**
     * {@code y = x W^T (+ b)} with {@code W} stored {@code [out, in]} as in PyTorch, or {@code y = x W (+ b)}
     * when {@code transpose} (tied weights: the same tensor used in both directions).
     */
    record Linear(String weight, Optional<String> bias, boolean transpose) implements Op {
        public Linear {
            requireName(weight, "weight");
            bias.ifPresent(b -> requireName(b, "bias"));
        }

        @Override
        public String name() {
            return "linear";
        }

        @Override
        public List<String> parameters() {
            return bias.map(b -> List.of(weight, b)).orElseGet(() -> List.of(weight));
        }
    }

    /** {@code y = x + b}. */
    record Bias(String bias) implements Op {
        public Bias {
            requireName(bias, "bias");
        }

        @Override
        public String name() {
            return "bias";
        }

        @Override
        public List<String> parameters() {
            return List.of(bias);
        }
    }

    /** {@code y = factor * x}. */
    record Scale(double factor) implements Op {
        public Scale {
            if (!Double.isFinite(factor)) {
                throw new IllegalArgumentException("scale factor must be finite, got " + factor);
            }
        }

        @Override
        public String name() {
            return "scale";
        }

        @Override
        public List<String> parameters() {
            return List.of();
        }
    }

    /** {@code y = x * x}, element-wise. */
    record Square() implements Op {
        @Override
        public String name() {
            return "square";
        }

        @Override
        public List<String> parameters() {
            return List.of();
        }
    }

    /** {@code y = max(x, 0)}, element-wise. */
    record Relu() implements Op {
        @Override
        public String name() {
            return "relu";
        }

        @Override
        public List<String> parameters() {
            return List.of();
        }
    }

    private static void requireName(String name, String what) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(what + " tensor name must be a non-empty string");
        }
    }

    /** True for ops that act element by element (their Jacobian is diagonal). */
    static boolean isElementwise(Op op) {
        return !(op instanceof Linear);
    }
}

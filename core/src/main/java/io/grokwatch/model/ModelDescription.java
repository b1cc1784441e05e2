package io.grokwatch.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A sequential model in the {@code grokwatch.model/v1} JSON format: the input width and a list of ops that
 * name their parameters as a PyTorch {@code state_dict} does, so a PyTorch user can describe an MLP and
 * ship {@code model.state_dict()} as safetensors.
 *
 * <pre>{"format": "grokwatch.model/v1", "inputs": 58, "ops": [{"op": "linear", "weight": "net.0.weight"}, ...]}</pre>
 */
public record ModelDescription(int inputs, List<Op> ops) {
    public static final String FORMAT = "grokwatch.model/v1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> OP_NAMES = List.of("linear", "bias", "scale", "square", "relu");

    public ModelDescription {
        if (inputs <= 0) {
            throw new ModelFormatException("\"inputs\" must be a positive integer, got " + inputs);
        }
        ops = List.copyOf(ops);
        if (ops.isEmpty()) {
            throw new ModelFormatException("\"ops\" must list at least one op");
        }
    }

    /** The paper's modular-addition MLP: {@code f(x) = (1/H) W2 ((W1 x / sqrt(2p))^2)}. */
    public static ModelDescription modularAddition(int p, int width) {
        return new ModelDescription(2 * p, List.of(
                new Op.Linear("net.0.weight", Optional.empty(), false),
                new Op.Scale(1.0 / Math.sqrt(2.0 * p)),
                new Op.Square(),
                new Op.Linear("net.3.weight", Optional.empty(), false),
                new Op.Scale(1.0 / width)));
    }

    /** The toy model of superposition: {@code y = ReLU(W^T W x + b)}. */
    public static ModelDescription tms(int features) {
        return new ModelDescription(features, List.of(
                new Op.Linear("W", Optional.empty(), false),
                new Op.Linear("W", Optional.empty(), true),
                new Op.Bias("b"),
                new Op.Relu()));
    }

    /** Every distinct parameter name, in order of first use. */
    public List<String> parameterNames() {
        Set<String> names = new LinkedHashSet<>();
        for (Op op : ops) {
            names.addAll(op.parameters());
        }
        return List.copyOf(names);
    }

    /**
     * The parameter group ("layer") of a tensor: its name up to the last dot, as PyTorch module paths go
     * ({@code net.0.weight -> net.0}); a name without a dot is its own group ({@code W -> W}).
     */
    public static String groupOf(String parameter) {
        int dot = parameter.lastIndexOf('.');
        return dot <= 0 ? parameter : parameter.substring(0, dot);
    }

    /** Distinct parameter groups in order of first use. */
    public List<String> groups() {
        Set<String> groups = new LinkedHashSet<>();
        for (String p : parameterNames()) {
            groups.add(groupOf(p));
        }
        return List.copyOf(groups);
    }

    public static ModelDescription read(Path path) {
        try {
            return parse(Files.readString(path));
        } catch (IOException e) {
            throw new ModelFormatException("cannot read model description " + path + ": " + e.getMessage(), e);
        }
    }

    public static ModelDescription parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException("model description is not valid JSON: "
                    + e.getOriginalMessage().replace('\n', ' '), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException("model description must be a JSON object");
        }
        return fromJson(root);
    }

    public static ModelDescription fromJson(JsonNode root) {
        JsonNode format = root.get("format");
        if (format == null || !FORMAT.equals(format.asText())) {
            throw new ModelFormatException("\"format\" must be \"" + FORMAT + "\", got "
                    + (format == null ? "nothing" : format.toString()));
        }
        JsonNode inputs = root.get("inputs");
        if (inputs == null || !inputs.canConvertToExactIntegral() || inputs.asInt() <= 0) {
            throw new ModelFormatException("\"inputs\" must be a positive integer, got "
                    + (inputs == null ? "nothing" : inputs.toString()));
        }
        JsonNode opsNode = root.get("ops");
        if (opsNode == null || !opsNode.isArray()) {
            throw new ModelFormatException("\"ops\" must be an array of ops");
        }
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < opsNode.size(); i++) {
            ops.add(parseOp(i, opsNode.get(i)));
        }
        return new ModelDescription(inputs.asInt(), ops);
    }

    private static Op parseOp(int index, JsonNode node) {
        if (!node.isObject() || !node.has("op")) {
            throw new ModelFormatException("op " + index + ": must be an object with an \"op\" field, got " + node);
        }
        String name = node.get("op").asText();
        try {
            Op op = switch (name) {
                case "linear" -> new Op.Linear(text(node, "weight", true), Optional.ofNullable(text(node, "bias", false)),
                        node.has("transpose") && bool(node, "transpose"));
                case "bias" -> new Op.Bias(text(node, "bias", true));
                case "scale" -> new Op.Scale(number(node, "factor"));
                case "square" -> new Op.Square();
                case "relu" -> new Op.Relu();
                default -> throw new ModelFormatException("unknown op '" + name + "', expected one of "
                        + String.join(", ", OP_NAMES));
            };
            rejectUnknownFields(node, op);
            return op;
        } catch (ModelFormatException | IllegalArgumentException e) {
            throw new ModelFormatException("op " + index + " (" + name + "): " + e.getMessage(), e);
        }
    }

    private static void rejectUnknownFields(JsonNode node, Op op) {
        Set<String> allowed = switch (op.name()) {
            case "linear" -> Set.of("op", "weight", "bias", "transpose");
            case "bias" -> Set.of("op", "bias");
            case "scale" -> Set.of("op", "factor");
            default -> Set.of("op");
        };
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new ModelFormatException("unknown field \"" + f + "\", allowed: " + String.join(", ", allowed));
            }
        }
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new ModelFormatException("missing \"" + field + "\" (a tensor name)");
            }
            return null;
        }
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new ModelFormatException("\"" + field + "\" must be a tensor name, got " + v);
        }
        return v.asText();
    }

    private static boolean bool(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (!v.isBoolean()) {
            throw new ModelFormatException("\"" + field + "\" must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static double number(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isNumber()) {
            throw new ModelFormatException("\"" + field + "\" must be a number, got " + (v == null ? "nothing" : v));
        }
        return v.asDouble();
    }

    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("inputs", inputs);
        ArrayNode arr = root.putArray("ops");
        for (Op op : ops) {
            ObjectNode o = arr.addObject();
            o.put("op", op.name());
            if (op instanceof Op.Linear l) {
                o.put("weight", l.weight());
                l.bias().ifPresent(b -> o.put("bias", b));
                if (l.transpose()) {
                    o.put("transpose", true);
                }
            } else if (op instanceof Op.Bias b) {
                o.put("bias", b.bias());
            } else if (op instanceof Op.Scale s) {
                o.put("factor", s.factor());
            }
        }
        return root;
    }

    public String toJsonString() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Checks the shape chain against the given tensor shapes and returns the width after each op
     * (index 0 = inputs). Errors name the op index, the tensor and both shapes.
     */
    public int[] widths(Map<String, long[]> shapes) {
        int[] w = new int[ops.size() + 1];
        w[0] = inputs;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            int d = w[i];
            String where = "op " + i + " (" + op.name() + ")";
            for (String p : op.parameters()) {
                if (!shapes.containsKey(p)) {
                    throw new ModelFormatException(where + ": tensor '" + p + "' is missing from the checkpoint (it has "
                            + String.join(", ", shapes.keySet()) + ")");
                }
            }
            if (op instanceof Op.Linear l) {
                long[] ws = shapes.get(l.weight());
                if (ws.length != 2) {
                    throw new ModelFormatException(where + ": weight '" + l.weight() + "' must be 2-D [out, in], got "
                            + shapeText(ws));
                }
                long in = l.transpose() ? ws[0] : ws[1];
                long out = l.transpose() ? ws[1] : ws[0];
                if (in != d) {
                    throw new ModelFormatException(where + ": weight '" + l.weight() + "' " + shapeText(ws)
                            + (l.transpose() ? " (transposed)" : "") + " takes inputs of width " + in
                            + " but the previous op produces width " + d);
                }
                d = (int) out;
                if (l.bias().isPresent()) {
                    requireVector(where, l.bias().get(), shapes.get(l.bias().get()), d);
                }
            } else if (op instanceof Op.Bias b) {
                requireVector(where, b.bias(), shapes.get(b.bias()), d);
            }
            w[i + 1] = d;
        }
        return w;
    }

    private static void requireVector(String where, String name, long[] shape, int width) {
        if (shape.length != 1 || shape[0] != width) {
            throw new ModelFormatException(where + ": bias '" + name + "' must have shape [" + width + "], got "
                    + shapeText(shape));
        }
    }

    static String shapeText(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(']').toString();
    }
}

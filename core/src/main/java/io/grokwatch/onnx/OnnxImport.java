package io.grokwatch.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grokwatch.graph.Graph;
import io.grokwatch.graph.NdArray;
import io.grokwatch.graph.Node;
import io.grokwatch.graph.Ops;
import io.grokwatch.graph.ValueInfo;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.onnx.proto.Onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns an ONNX model, as {@code torch.onnx.export} writes it (opset 13-17), into a {@link Graph}.
 *
 * <p>Trainable parameters are the floating-point initializers that carry {@code state_dict} names: exported
 * with {@code do_constant_folding=False}, PyTorch keeps those names, so each checkpoint's safetensors tensors
 * replace the initializers by name. Names the exporter makes up ({@code onnx::...}, {@code /...}) are
 * constants. A model may list its parameters itself in the metadata property {@value #PARAMETERS_KEY}
 * (comma-separated), which then wins. The exporter merges initializers whose values were equal at export
 * time (zero biases, unit LayerNorm weights) and reads the merged one through an {@code Identity} node named
 * after the other; such a node becomes a parameter of its own again.
 */
public final class OnnxImport {
    /** Metadata property listing the trainable parameters, comma-separated. */
    public static final String PARAMETERS_KEY = "grokwatch.parameters";
    public static final int MIN_OPSET = 13;
    public static final int MAX_OPSET = 17;

    private OnnxImport() {
    }

    /** Parses the bytes of a {@code .onnx} file; errors are one line and say what is wrong. */
    public static Onnx.ModelProto parse(byte[] bytes) {
        Onnx.ModelProto model;
        try {
            model = Onnx.ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelFormatException("not a readable ONNX model (" + bytes.length + " bytes): "
                    + e.getMessage().replace('\n', ' '), e);
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new ModelFormatException("not an ONNX model: no graph with nodes (" + bytes.length + " bytes; "
                    + "truncated or another file?)");
        }
        return model;
    }

    public static Graph toGraph(byte[] bytes) {
        return toGraph(parse(bytes));
    }

    public static Graph toGraph(Onnx.ModelProto model) {
        checkOpset(model);
        if (model.getFunctionsCount() > 0) {
            throw new ModelFormatException("the model defines local functions ("
                    + model.getFunctions(0).getName() + ", ...); export without export_modules_as_functions");
        }
        Onnx.GraphProto g = model.getGraph();
        Set<String> declared = declaredParameters(model);
        Map<String, NdArray> constants = new LinkedHashMap<>();
        Map<String, int[]> parameterShapes = new LinkedHashMap<>();
        Map<String, Onnx.TensorProto> initializers = new HashMap<>();
        for (Onnx.TensorProto t : g.getInitializerList()) {
            initializers.put(t.getName(), t);
        }
        Set<String> parameterNames = new HashSet<>();
        for (Onnx.TensorProto t : g.getInitializerList()) {
            if (isParameter(t, declared)) {
                parameterNames.add(t.getName());
            }
        }
        // Parameters in order of first use, so groups follow the model.
        Map<String, int[]> aliasShapes = new HashMap<>();
        List<Node> nodes = new ArrayList<>();
        for (Onnx.NodeProto n : g.getNodeList()) {
            Node node = toNode(n);
            if (node.opType().equals("Identity") && parameterNames.contains(node.inputs().get(0))
                    && looksLikeStateDictName(node.outputs().get(0))) {
                // A parameter merged by the exporter: its own tensor again, bound from the checkpoint.
                String alias = node.outputs().get(0);
                parameterNames.add(alias);
                aliasShapes.put(alias, dims(initializers.get(node.inputs().get(0))));
                continue;
            }
            for (String in : node.inputs()) {
                if (parameterNames.contains(in)) {
                    parameterShapes.putIfAbsent(in, initializers.containsKey(in) ? dims(initializers.get(in))
                            : aliasShapes.get(in));
                }
            }
            nodes.add(node);
        }
        for (Onnx.TensorProto t : g.getInitializerList()) {
            if (!parameterNames.contains(t.getName())) {
                constants.put(t.getName(), toArray(t));
            }
        }
        Set<String> initializerNames = initializers.keySet();
        List<Onnx.ValueInfoProto> inputs = new ArrayList<>();
        for (Onnx.ValueInfoProto v : g.getInputList()) {
            if (!initializerNames.contains(v.getName())) {
                inputs.add(v);
            }
        }
        if (inputs.size() != 1) {
            throw new ModelFormatException("the graph must have exactly one input (the probes), it has " + inputs.size()
                    + ": " + inputs.stream().map(Onnx.ValueInfoProto::getName).toList());
        }
        if (g.getOutputCount() != 1) {
            throw new ModelFormatException("the graph must have exactly one output (the model's outputs), it has "
                    + g.getOutputCount() + ": " + g.getOutputList().stream().map(Onnx.ValueInfoProto::getName).toList());
        }
        return new Graph(valueInfo(inputs.get(0)), valueInfo(g.getOutput(0)), constants, parameterShapes, nodes);
    }

    private static void checkOpset(Onnx.ModelProto model) {
        for (Onnx.OperatorSetIdProto o : model.getOpsetImportList()) {
            String domain = o.getDomain();
            if (domain.isEmpty() || domain.equals("ai.onnx")) {
                if (o.getVersion() < MIN_OPSET || o.getVersion() > MAX_OPSET) {
                    throw new ModelFormatException("the model uses ONNX opset " + o.getVersion() + "; grokwatch reads opsets "
                            + MIN_OPSET + "-" + MAX_OPSET + " (torch.onnx.export(..., opset_version=14))");
                }
            }
        }
    }

    private static Set<String> declaredParameters(Onnx.ModelProto model) {
        for (Onnx.StringStringEntryProto e : model.getMetadataPropsList()) {
            if (e.getKey().equals(PARAMETERS_KEY)) {
                Set<String> s = new HashSet<>();
                for (String name : e.getValue().split(",")) {
                    if (!name.isBlank()) {
                        s.add(name.trim());
                    }
                }
                return s;
            }
        }
        return null;
    }

    private static boolean isParameter(Onnx.TensorProto t, Set<String> declared) {
        if (declared != null) {
            return declared.contains(t.getName());
        }
        return isFloat(t.getDataType()) && looksLikeStateDictName(t.getName());
    }

    /** Names PyTorch gives state_dict entries; the exporter's own start with "onnx::" or "/". */
    static boolean looksLikeStateDictName(String name) {
        return !name.isEmpty() && !name.startsWith("onnx::") && !name.startsWith("/") && !name.contains("::");
    }

    static boolean isFloat(int dataType) {
        return dataType == Onnx.TensorProto.DataType.FLOAT_VALUE || dataType == Onnx.TensorProto.DataType.DOUBLE_VALUE
                || dataType == Onnx.TensorProto.DataType.FLOAT16_VALUE
                || dataType == Onnx.TensorProto.DataType.BFLOAT16_VALUE;
    }

    private static ValueInfo valueInfo(Onnx.ValueInfoProto v) {
        Onnx.TypeProto.Tensor t = v.getType().getTensorType();
        long[] dims = new long[t.getShape().getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            Onnx.TensorShapeProto.Dimension d = t.getShape().getDim(i);
            dims[i] = d.hasDimValue() ? d.getDimValue() : -1;
        }
        return new ValueInfo(v.getName(), !isFloat(t.getElemType()), dims);
    }

    private static int[] dims(Onnx.TensorProto t) {
        int[] d = new int[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) {
            long v = t.getDims(i);
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new ModelFormatException("initializer '" + t.getName() + "' has dimension " + v);
            }
            d[i] = (int) v;
        }
        return d;
    }

    private static Node toNode(Onnx.NodeProto n) {
        String label = "node '" + (n.getName().isEmpty() ? (n.getOutputCount() > 0 ? n.getOutput(0) : "?") : n.getName())
                + "' (" + n.getOpType() + ")";
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
            throw new ModelFormatException(label + ": op domain '" + n.getDomain() + "' is not supported; supported: the "
                    + "default ONNX domain with " + String.join(", ", Ops.supported()));
        }
        Map<String, Object> attrs = new HashMap<>();
        for (Onnx.AttributeProto a : n.getAttributeList()) {
            attrs.put(a.getName(), attribute(label, a));
        }
        Node node = new Node(n.getName(), n.getOpType(), n.getInputList(), n.getOutputList(), attrs);
        if (!Ops.isSupported(node.opType())) {
            throw Ops.unsupported(node);
        }
        return node;
    }

    private static Object attribute(String label, Onnx.AttributeProto a) {
        return switch (a.getType()) {
            case FLOAT -> (double) a.getF();
            case INT -> a.getI();
            case STRING -> a.getS().toStringUtf8();
            case TENSOR -> toArray(a.getT());
            case FLOATS -> {
                double[] d = new double[a.getFloatsCount()];
                for (int i = 0; i < d.length; i++) {
                    d[i] = a.getFloats(i);
                }
                yield d;
            }
            case INTS -> a.getIntsList().stream().mapToLong(Long::longValue).toArray();
            case STRINGS -> a.getStringsList().stream().map(ByteString::toStringUtf8).toArray(String[]::new);
            default -> throw new ModelFormatException(label + ": attribute '" + a.getName() + "' of type " + a.getType()
                    + " is not supported");
        };
    }

    /** A tensor's values as doubles (raw little-endian data or the typed fields). */
    static NdArray toArray(Onnx.TensorProto t) {
        if (t.getDataLocation() == 1 || t.getExternalDataCount() > 0) {
            throw new ModelFormatException("tensor '" + t.getName() + "' keeps its data in an external file; export "
                    + "the model in one file");
        }
        int[] shape = dims(t);
        int n = NdArray.size(shape);
        int type = t.getDataType();
        double[] d = new double[n];
        boolean integer = !isFloat(type);
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        boolean hasRaw = !t.getRawData().isEmpty();
        String name = t.getName().isEmpty() ? "a constant" : "tensor '" + t.getName() + "'";
        int width = switch (type) {
            case Onnx.TensorProto.DataType.FLOAT_VALUE, Onnx.TensorProto.DataType.INT32_VALUE -> 4;
            case Onnx.TensorProto.DataType.DOUBLE_VALUE, Onnx.TensorProto.DataType.INT64_VALUE -> 8;
            case Onnx.TensorProto.DataType.FLOAT16_VALUE, Onnx.TensorProto.DataType.BFLOAT16_VALUE -> 2;
            case Onnx.TensorProto.DataType.BOOL_VALUE, Onnx.TensorProto.DataType.INT8_VALUE,
                    Onnx.TensorProto.DataType.UINT8_VALUE -> 1;
            default -> throw new ModelFormatException(name + " has ONNX data type " + type + ", which grokwatch does not read");
        };
        if (hasRaw) {
            if (raw.remaining() != (long) n * width) {
                throw new ModelFormatException(name + " of shape " + Arrays.toString(shape) + " has " + raw.remaining()
                        + " bytes of data, expected " + (long) n * width);
            }
            for (int i = 0; i < n; i++) {
                d[i] = switch (type) {
                    case Onnx.TensorProto.DataType.FLOAT_VALUE -> raw.getFloat();
                    case Onnx.TensorProto.DataType.DOUBLE_VALUE -> raw.getDouble();
                    case Onnx.TensorProto.DataType.INT64_VALUE -> raw.getLong();
                    case Onnx.TensorProto.DataType.INT32_VALUE -> raw.getInt();
                    case Onnx.TensorProto.DataType.FLOAT16_VALUE -> halfToFloat(raw.getShort());
                    case Onnx.TensorProto.DataType.BFLOAT16_VALUE -> Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
                    case Onnx.TensorProto.DataType.UINT8_VALUE -> raw.get() & 0xff;
                    default -> raw.get();
                };
            }
            return new NdArray(shape, d, integer);
        }
        int count = switch (type) {
            case Onnx.TensorProto.DataType.FLOAT_VALUE -> t.getFloatDataCount();
            case Onnx.TensorProto.DataType.DOUBLE_VALUE -> t.getDoubleDataCount();
            case Onnx.TensorProto.DataType.INT64_VALUE -> t.getInt64DataCount();
            default -> t.getInt32DataCount();
        };
        if (count != n) {
            throw new ModelFormatException(name + " of shape " + Arrays.toString(shape) + " has " + count
                    + " values, expected " + n + (count == 0 ? " (its data was left out)" : ""));
        }
        for (int i = 0; i < n; i++) {
            d[i] = switch (type) {
                case Onnx.TensorProto.DataType.FLOAT_VALUE -> t.getFloatData(i);
                case Onnx.TensorProto.DataType.DOUBLE_VALUE -> t.getDoubleData(i);
                case Onnx.TensorProto.DataType.INT64_VALUE -> t.getInt64Data(i);
                case Onnx.TensorProto.DataType.FLOAT16_VALUE -> halfToFloat((short) t.getInt32Data(i));
                case Onnx.TensorProto.DataType.BFLOAT16_VALUE -> Float.intBitsToFloat((t.getInt32Data(i) & 0xffff) << 16);
                default -> t.getInt32Data(i);
            };
        }
        return new NdArray(shape, d, integer);
    }

    /** IEEE 754 half precision to float (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short bits) {
        int h = bits & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * The model without the values of its parameters (their names, types and shapes stay): what a run
     * descriptor carries, since every checkpoint brings the values.
     */
    public static byte[] withoutParameterValues(byte[] bytes) {
        Onnx.ModelProto model = parse(bytes);
        Set<String> declared = declaredParameters(model);
        Onnx.GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            Onnx.TensorProto t = g.getInitializer(i);
            if (isParameter(t, declared)) {
                g.setInitializer(i, t.toBuilder().clearRawData().clearFloatData().clearDoubleData().clearInt32Data()
                        .clearInt64Data().build());
            }
        }
        return model.toBuilder().setGraph(g).build().toByteArray();
    }
}

package io.grokwatch.onnx;

import com.google.protobuf.ByteString;
import io.grokwatch.checkpoint.Checkpoints;
import io.grokwatch.graph.Graph;
import io.grokwatch.graph.GraphNetwork;
import io.grokwatch.graph.NdArray;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.onnx.proto.Onnx;
import io.grokwatch.safetensors.Tensor;
import io.grokwatch.safetensors.TensorFile;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX models built message by message: what is imported, and the one-line errors for what cannot be. */
class OnnxImportTest {

    static Onnx.TensorProto floats(String name, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return Onnx.TensorProto.newBuilder().setName(name).setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(Arrays.stream(dims).boxed().toList()).setRawData(ByteString.copyFrom(b.array())).build();
    }

    static Onnx.ValueInfoProto value(String name, int elemType, long... dims) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(shape))).build();
    }

    static Onnx.NodeProto node(String op, String name, String[] in, String[] out, Onnx.AttributeProto... attrs) {
        return Onnx.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(Arrays.asList(in))
                .addAllOutput(Arrays.asList(out)).addAllAttribute(Arrays.asList(attrs)).build();
    }

    /** y = Relu(x W^T + b), as torch.onnx.export writes nn.Linear on a 3-D input, then a merged zero bias. */
    static Onnx.ModelProto.Builder linearRelu(String activation, long opset) {
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder()
                .addInput(value("x", 1, -1, 3))
                .addOutput(value("y", 1, -1, 2))
                .addInitializer(floats("lin.weight", new long[] {2, 3}, 1, 2, 3, -1, 0.5f, 0))
                .addInitializer(floats("lin.bias", new long[] {2}, 0, 0))
                .addNode(node("Identity", "", new String[] {"lin.bias"}, new String[] {"other.bias"}))
                .addNode(node("Transpose", "/lin/Transpose", new String[] {"lin.weight"}, new String[] {"/lin/wT"},
                        Onnx.AttributeProto.newBuilder().setName("perm").setType(Onnx.AttributeProto.AttributeType.INTS)
                                .addInts(1).addInts(0).build()))
                .addNode(node("MatMul", "/lin/MatMul", new String[] {"x", "/lin/wT"}, new String[] {"/lin/mm"}))
                .addNode(node("Add", "/lin/Add", new String[] {"lin.bias", "/lin/mm"}, new String[] {"/lin/out"}))
                .addNode(node("Add", "/Add", new String[] {"/lin/out", "other.bias"}, new String[] {"/pre"}))
                .addNode(node(activation, "/act", new String[] {"/pre"}, new String[] {"y"}))
                .build();
        return Onnx.ModelProto.newBuilder().setIrVersion(7).setGraph(g)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(opset));
    }

    static TensorFile checkpoint(double... bias) {
        return TensorFile.of(Tensor.f64("lin.weight", new long[] {2, 3}, new double[] {1, 0, 0, 0, 1, 0}),
                Tensor.f64("lin.bias", new long[] {2}, new double[] {bias[0], bias[1]}),
                Tensor.f64("other.bias", new long[] {2}, new double[] {10, 20}),
                Tensor.f64("optimizer.step", new long[] {1}, new double[] {5}));
    }

    @Test
    void importsParametersByStateDictNameAndSeparatesMergedOnes() {
        Graph g = OnnxImport.toGraph(linearRelu("Relu", 14).build().toByteArray());
        assertEquals(java.util.List.of("lin.weight", "lin.bias", "other.bias"), g.parameters());
        GraphNetwork net = Checkpoints.bind(g, checkpoint(1, -100));
        NdArray y = net.forward(new NdArray(new int[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6}));
        // Checkpoint values, not the exported ones: x W^T + lin.bias + other.bias, then ReLU.
        assertArrayEquals(new double[] {1 + 1 + 10, 0, 4 + 1 + 10, 0}, y.data(), 1e-12);
    }

    @Test
    void parametersCanBeDeclaredInTheModelMetadata() {
        Onnx.ModelProto m = linearRelu("Relu", 14).addMetadataProps(Onnx.StringStringEntryProto.newBuilder()
                .setKey(OnnxImport.PARAMETERS_KEY).setValue("lin.weight")).build();
        Graph g = OnnxImport.toGraph(m.toByteArray());
        assertEquals(java.util.List.of("lin.weight"), g.parameters());
    }

    @Test
    void unsupportedOpIsOneLineNamingTheNodeAndTheSupportedList() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImport.toGraph(linearRelu("Celu", 14).build().toByteArray()));
        assertTrue(e.getMessage().startsWith("node '/act' (Celu): unsupported op type 'Celu'; supported: "), e.getMessage());
        assertTrue(e.getMessage().contains("MatMul") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void truncatedOrForeignBytesAreRefused() {
        byte[] bytes = linearRelu("Relu", 14).build().toByteArray();
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImport.toGraph(Arrays.copyOf(bytes, bytes.length / 2)));
        assertTrue(e.getMessage().contains("ONNX"), e.getMessage());
        assertThrows(ModelFormatException.class, () -> OnnxImport.toGraph("{\"format\": \"grokwatch.model/v1\"}".getBytes()));
    }

    @Test
    void opsetsOutsideTheSupportedRangeAreRefused() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> OnnxImport.toGraph(linearRelu("Relu", 9).build().toByteArray()));
        assertTrue(e.getMessage().contains("opset 9"), e.getMessage());
    }

    @Test
    void missingOrMisshapenParametersAreNamed() {
        Graph g = OnnxImport.toGraph(linearRelu("Relu", 14).build().toByteArray());
        TensorFile missing = TensorFile.of(Tensor.f64("lin.weight", new long[] {2, 3}, new double[6]));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Checkpoints.bind(g, missing));
        assertTrue(e.getMessage().contains("'lin.bias'") && e.getMessage().contains("missing"), e.getMessage());
        TensorFile wrong = TensorFile.of(Tensor.f64("lin.weight", new long[] {3, 2}, new double[6]),
                Tensor.f64("lin.bias", new long[] {2}, new double[2]), Tensor.f64("other.bias", new long[] {2}, new double[2]));
        e = assertThrows(ModelFormatException.class, () -> Checkpoints.bind(g, wrong));
        assertTrue(e.getMessage().contains("[3, 2]") && e.getMessage().contains("[2, 3]"), e.getMessage());
        TensorFile nan = TensorFile.of(Tensor.f64("lin.weight", new long[] {2, 3}, new double[] {0, 0, Double.NaN, 0, 0, 0}),
                Tensor.f64("lin.bias", new long[] {2}, new double[2]), Tensor.f64("other.bias", new long[] {2}, new double[2]));
        e = assertThrows(ModelFormatException.class, () -> Checkpoints.bind(g, nan));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
    }

    @Test
    void probesOfTheWrongWidthAreNamed() {
        GraphNetwork net = Checkpoints.bind(OnnxImport.toGraph(linearRelu("Relu", 14).build().toByteArray()),
                checkpoint(0, 0));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> net.forward(new NdArray(new int[] {1, 4}, new double[4])));
        assertTrue(e.getMessage().contains("[1, 4]"), e.getMessage());
    }

    @Test
    void descriptorCopyDropsParameterValuesButKeepsShapes() {
        byte[] full = linearRelu("Relu", 14).build().toByteArray();
        byte[] stripped = OnnxImport.withoutParameterValues(full);
        assertTrue(stripped.length < full.length);
        Graph g = OnnxImport.toGraph(stripped);
        assertEquals(OnnxImport.toGraph(full).parameters(), g.parameters());
        assertArrayEquals(new int[] {2, 3}, g.parameterShapes().get("lin.weight"));
        NdArray y = Checkpoints.bind(g, checkpoint(1, 1)).forward(new NdArray(new int[] {1, 3}, new double[] {1, 1, 1}));
        assertArrayEquals(new double[] {12, 22}, y.data(), 1e-12);
    }
}

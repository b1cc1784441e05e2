package io.grokwatch.analyzer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grokwatch.onnx.proto.Onnx;
import io.grokwatch.run.CheckpointMetadata;
import io.grokwatch.run.CheckpointRecord;
import io.grokwatch.run.ProbeSource;
import io.grokwatch.run.RunDescriptor;
import io.grokwatch.run.RunModel;
import io.grokwatch.model.Parameters;
import io.grokwatch.linalg.Matrix;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs of ONNX models through the analyzer's topology: the descriptor carries the graph, each checkpoint its
 * weights; a spectrum per checkpoint with every parameter group, and a reasoned dead letter for a truncated
 * graph or a checkpoint that does not fit it, after which the run goes on.
 */
class OnnxTopologyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int P = 5;
    private static final int H = 6;

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> runs;
    private TestInputTopic<String, byte[]> checkpoints;
    private TestOutputTopic<String, byte[]> spectra;
    private TestOutputTopic<String, byte[]> deadLetters;
    private final AnalyzerMetrics.Counting metrics = new AnalyzerMetrics.Counting();

    @BeforeEach
    void start() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "onnx-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        TestClock clock = new TestClock();
        driver = new TopologyTestDriver(AnalyzerTopology.build(new io.grokwatch.kafka.Topics("runs", "checkpoints", "spectra", "alerts", "dlq"),
                AnalyzerTopology.Settings.of(metrics, 1).withClock(clock)), props, clock.instant());
        runs = driver.createInputTopic("runs", new StringSerializer(), new ByteArraySerializer());
        checkpoints = driver.createInputTopic("checkpoints", new StringSerializer(), new ByteArraySerializer());
        spectra = driver.createOutputTopic("spectra", new StringDeserializer(), new ByteArrayDeserializer());
        deadLetters = driver.createOutputTopic("dlq", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private static Onnx.TensorProto zeros(String name, long... dims) {
        int n = 1;
        for (long d : dims) {
            n *= (int) d;
        }
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static Onnx.ValueInfoProto value(String name, long width) {
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(
                Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(Onnx.TensorShapeProto.newBuilder()
                        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                        .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(width))))).build();
    }

    private static Onnx.NodeProto gemm(String name, String in, String weight, String bias, String out) {
        return Onnx.NodeProto.newBuilder().setName(name).setOpType("Gemm").addInput(in).addInput(weight).addInput(bias)
                .addOutput(out).addAttribute(Onnx.AttributeProto.newBuilder().setName("transB")
                        .setType(Onnx.AttributeProto.AttributeType.INT).setI(1)).build();
    }

    /** An MLP on the one-hot modular-addition grid, as torch.onnx.export writes nn.Sequential(Linear, Tanh, Linear). */
    static byte[] mlp() {
        Onnx.GraphProto g = Onnx.GraphProto.newBuilder()
                .addInput(value("x", 2 * P)).addOutput(value("logits", P))
                .addInitializer(zeros("net.0.weight", H, 2 * P)).addInitializer(zeros("net.0.bias", H))
                .addInitializer(zeros("net.2.weight", P, H)).addInitializer(zeros("net.2.bias", P))
                .addNode(gemm("/net/net.0/Gemm", "x", "net.0.weight", "net.0.bias", "/h"))
                .addNode(Onnx.NodeProto.newBuilder().setName("/net/net.1/Tanh").setOpType("Tanh").addInput("/h")
                        .addOutput("/a"))
                .addNode(gemm("/net/net.2/Gemm", "/a", "net.2.weight", "net.2.bias", "logits"))
                .build();
        return Onnx.ModelProto.newBuilder().setIrVersion(7).setGraph(g)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(14)).build().toByteArray();
    }

    static RunDescriptor descriptor(String runId) {
        return new RunDescriptor(runId, RunModel.Onnx.of(mlp()), ProbeSource.generator("modular-addition:p=" + P),
                RunDescriptor.AnalysisSettings.classMean(10), 1, Map.of("name", "onnx-test"));
    }

    static byte[] checkpoint(long step, long seed, boolean withOutputLayer) {
        Random r = new Random(seed);
        Parameters params = new Parameters();
        for (var e : Map.of("net.0.weight", new int[] {H, 2 * P}, "net.0.bias", new int[] {1, H},
                "net.2.weight", new int[] {P, H}, "net.2.bias", new int[] {1, P}).entrySet()) {
            if (!withOutputLayer && e.getKey().startsWith("net.2.weight")) {
                continue;
            }
            Matrix m = new Matrix(e.getValue()[0], e.getValue()[1]);
            for (int i = 0; i < m.data().length; i++) {
                m.data()[i] = r.nextGaussian();
            }
            if (e.getKey().endsWith("bias")) {
                params.put(e.getKey(), new long[] {e.getValue()[1]}, m.data());
            } else {
                params.putMatrix(e.getKey(), m);
            }
        }
        return CheckpointRecord.encode(params, CheckpointMetadata.of(step, step).withMetrics(0.5, 0.6, 0.9, 0.1));
    }

    private List<JsonNode> read(TestOutputTopic<String, byte[]> topic) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (byte[] v : topic.readValuesToList()) {
            out.add(JSON.readTree(v));
        }
        return out;
    }

    @Test
    void anOnnxRunGetsASpectrumPerCheckpointWithEveryGroup() throws Exception {
        runs.pipeInput("onnx", descriptor("onnx").toBytes());
        checkpoints.pipeInput("onnx", checkpoint(1, 1, true));
        checkpoints.pipeInput("onnx", checkpoint(2, 2, true));
        List<JsonNode> out = read(spectra);
        assertEquals(2, out.size());
        for (JsonNode s : out) {
            assertEquals(10, s.get("eigenvalues").size());
            assertTrue(s.get("eigenvalues").get(0).asDouble() > 0);
            assertTrue(s.get("layers").has("net.0") && s.get("layers").has("net.2"), s.get("layers").toString());
            assertEquals("exact", s.get("computed").get("method").asText());
            assertEquals(P * P, s.get("computed").get("probes").asInt());
            assertTrue(s.get("overlaps").has("secondCliff"), "Fourier families apply to any model on the grid");
        }
        assertTrue(deadLetters.isEmpty());
    }

    @Test
    void aTruncatedGraphOrACheckpointThatDoesNotFitIsDeadLetteredAndTheRunGoesOn() throws Exception {
        ObjectNode bad = descriptor("broken").toJson();
        String onnx = bad.get("model").get("onnx").asText();
        byte[] bytes = Base64.getDecoder().decode(onnx);
        ((ObjectNode) bad.get("model")).put("onnx", Base64.getEncoder().encodeToString(
                java.util.Arrays.copyOf(bytes, bytes.length / 2)));
        runs.pipeInput("broken", JSON.writeValueAsBytes(bad));
        runs.pipeInput("onnx", descriptor("onnx").toBytes());
        checkpoints.pipeInput("onnx", checkpoint(1, 1, false));
        checkpoints.pipeInput("onnx", checkpoint(2, 2, true));
        List<JsonNode> dead = read(deadLetters);
        assertEquals(2, dead.size(), dead.toString());
        assertEquals("malformed-descriptor", dead.get(0).get("reason").asText());
        assertTrue(dead.get(0).get("message").asText().contains("ONNX"), dead.get(0).toString());
        assertEquals("model-mismatch", dead.get(1).get("reason").asText());
        assertTrue(dead.get(1).get("message").asText().contains("net.2.weight"), dead.get(1).toString());
        List<JsonNode> out = read(spectra);
        assertEquals(1, out.size());
        assertEquals(2, out.get(0).get("step").asLong());
    }
}

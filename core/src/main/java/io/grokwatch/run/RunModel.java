package io.grokwatch.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.graph.Graph;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.ModelFormatException;
import io.grokwatch.onnx.OnnxImport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;

/**
 * The model of a run: a sequential {@code grokwatch.model/v1} description, or an ONNX graph as
 * {@code torch.onnx.export} writes it. In a run descriptor an ONNX model travels without its parameter
 * values ({@code {"format": "onnx", "onnx": BASE64}}): every checkpoint brings them.
 */
public sealed interface RunModel permits RunModel.Sequential, RunModel.Onnx {
    String ONNX_FORMAT = "onnx";

    ObjectNode toJson();

    /** One line for logs: what kind of model, how large. */
    String summary();

    /** A sequential model description. */
    record Sequential(ModelDescription description) implements RunModel {
        @Override
        public ObjectNode toJson() {
            return description.toJson();
        }

        @Override
        public String summary() {
            return "sequential model with " + description.ops().size() + " ops";
        }
    }

    /**
     * An ONNX model.
     *
     * @param bytes the model without its parameter values (see {@link OnnxImport#withoutParameterValues})
     */
    record Onnx(byte[] bytes, Graph graph) implements RunModel {
        public Onnx {
            bytes = bytes.clone();
        }

        /** Reads a {@code .onnx} file's bytes; the parameter values are dropped. */
        public static Onnx of(byte[] onnx) {
            byte[] stripped = OnnxImport.withoutParameterValues(onnx);
            return new Onnx(stripped, OnnxImport.toGraph(stripped));
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("format", ONNX_FORMAT);
            o.put("onnx", Base64.getEncoder().encodeToString(bytes));
            return o;
        }

        @Override
        public String summary() {
            return "ONNX graph with " + graph.nodes().size() + " nodes and " + graph.parameters().size() + " parameters";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Onnx other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Onnx[" + summary() + "]";
        }
    }

    static RunModel of(ModelDescription description) {
        return new Sequential(description);
    }

    /** A model file: ONNX (by its {@code .onnx} name or its content) or {@code grokwatch.model/v1} JSON. */
    static RunModel read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read model " + file + ": " + e.getMessage(), e);
        }
        boolean json = bytes.length > 0 && new String(bytes, 0, Math.min(bytes.length, 64),
                java.nio.charset.StandardCharsets.UTF_8).trim().startsWith("{");
        if (file.getFileName().toString().endsWith(".onnx") || !json) {
            try {
                return Onnx.of(bytes);
            } catch (ModelFormatException e) {
                throw new ModelFormatException(file + ": " + e.getMessage(), e);
            }
        }
        return new Sequential(ModelDescription.parse(new String(bytes, java.nio.charset.StandardCharsets.UTF_8)));
    }

    /** The {@code "model"} object of a run descriptor. */
    static RunModel fromJson(JsonNode node) {
        if (ONNX_FORMAT.equals(node.path("format").asText())) {
            JsonNode b = node.get("onnx");
            if (b == null || !b.isTextual()) {
                throw new ModelFormatException("an ONNX model needs \"onnx\": the model's bytes in base64");
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(b.asText());
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException("\"onnx\" is not valid base64: " + e.getMessage(), e);
            }
            return new Onnx(bytes, OnnxImport.toGraph(bytes));
        }
        return new Sequential(ModelDescription.fromJson(node));
    }
}

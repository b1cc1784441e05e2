package io.grokwatch.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.entk.KernelKind;
import io.grokwatch.linalg.Precision;
import io.grokwatch.model.ModelDescription;
import io.grokwatch.model.ModelFormatException;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything the analyzer needs to know about a run before its first checkpoint arrives, in the
 * {@code grokwatch.run/v1} JSON format: the model description, the probe set, how to analyse, and task
 * metadata. Published (compacted, keyed by run id) before the run's checkpoints.
 *
 * <pre>{"format": "grokwatch.run/v1", "runId": "ma-p29-s0", "model": {...grokwatch.model/v1...},
 *  "probe": {"generator": "modular-addition:p=29"} | {"inline": "&lt;base64 safetensors with tensor x&gt;"},
 *  "analysis": {"kernel": "class-mean", "topK": 200, "layers": true, "importance": 0.8, "tau": 1.0, "class": 0,
 *               "precision": "float64"},
 *  "checkpointEvery": 10, "task": {"name": "modular-addition", "p": "29"}}</pre>
 */
public record RunDescriptor(String runId, RunModel model, ProbeSource probe, AnalysisSettings analysis,
                            int checkpointEvery, Map<String, String> task) {
    public static final String FORMAT = "grokwatch.run/v1";
    private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final ObjectMapper JSON = new ObjectMapper();

    public RunDescriptor {
        if (runId == null || !RUN_ID.matcher(runId).matches()) {
            throw new RunFormatException("\"runId\" must be 1-200 characters of A-Z a-z 0-9 . _ -, got "
                    + (runId == null ? "nothing" : "'" + runId + "'"));
        }
        if (checkpointEvery < 1) {
            throw new RunFormatException("\"checkpointEvery\" must be >= 1, got " + checkpointEvery);
        }
        task = Map.copyOf(task);
        java.util.Objects.requireNonNull(model, "model");
    }

    /** A run of a sequential model. */
    public RunDescriptor(String runId, ModelDescription model, ProbeSource probe, AnalysisSettings analysis,
                         int checkpointEvery, Map<String, String> task) {
        this(runId, RunModel.of(model), probe, analysis, checkpointEvery, task);
    }

    /**
     * How checkpoints of a run are analysed.
     *
     * @param kernel     kernel kind
     * @param topK       eigenvalues per spectrum
     * @param layers     also analyse every parameter group's own kernel
     * @param importance flattened kernels: weigh output c by {@code (importance^c)^(tau/2)}; empty = unweighted
     * @param tau        importance rescaling exponent
     * @param cls        the class of a per-class kernel
     * @param precision  arithmetic of the dense decompositions and of iterative solves' kernel products
     *                   ({@code "precision"}: {@code float64}, the default, or {@code float32})
     */
    public record AnalysisSettings(KernelKind kernel, int topK, boolean layers, Optional<Double> importance,
                                   double tau, int cls, Precision precision) {
        public static final int DEFAULT_TOP_K = 200;

        public AnalysisSettings(KernelKind kernel, int topK, boolean layers, Optional<Double> importance, double tau,
                                int cls) {
            this(kernel, topK, layers, importance, tau, cls, Precision.FLOAT64);
        }

        public AnalysisSettings withPrecision(Precision p) {
            return new AnalysisSettings(kernel, topK, layers, importance, tau, cls, p);
        }

        public AnalysisSettings {
            if (precision == null) {
                throw new RunFormatException("\"analysis.precision\" must be float64 or float32");
            }
            if (topK < 1 || topK > 10_000) {
                throw new RunFormatException("\"analysis.topK\" must be in 1..10000, got " + topK);
            }
            if (!(tau >= 0) || Double.isInfinite(tau)) {
                throw new RunFormatException("\"analysis.tau\" must be a finite number >= 0, got " + tau);
            }
            importance.ifPresent(i -> {
                if (!(i > 0 && i <= 1)) {
                    throw new RunFormatException("\"analysis.importance\" must be in (0, 1], got " + i);
                }
            });
            if (cls < 0) {
                throw new RunFormatException("\"analysis.class\" must be >= 0, got " + cls);
            }
        }

        public static AnalysisSettings classMean(int topK) {
            return new AnalysisSettings(KernelKind.CLASS_MEAN, topK, true, Optional.empty(), 1.0, 0);
        }
    }

    public static RunDescriptor parse(byte[] json) {
        return parse(new String(json, StandardCharsets.UTF_8));
    }

    public static RunDescriptor parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new RunFormatException("run descriptor is not valid JSON: " + e.getOriginalMessage().replace('\n', ' '));
        }
        if (root == null || !root.isObject()) {
            throw new RunFormatException("run descriptor must be a JSON object");
        }
        String format = root.path("format").asText(null);
        if (!FORMAT.equals(format)) {
            throw new RunFormatException("\"format\" must be \"" + FORMAT + "\", got "
                    + (format == null ? "nothing" : "'" + format + "'"));
        }
        String runId = root.path("runId").isTextual() ? root.get("runId").asText() : null;
        JsonNode modelNode = root.get("model");
        if (modelNode == null || !modelNode.isObject()) {
            throw new RunFormatException("\"model\" must be a grokwatch.model/v1 object or an ONNX model "
                    + "({\"format\": \"onnx\", \"onnx\": BASE64})");
        }
        RunModel model;
        try {
            model = RunModel.fromJson(modelNode);
        } catch (ModelFormatException e) {
            throw new RunFormatException("\"model\": " + e.getMessage(), e);
        }
        ProbeSource probe = ProbeSource.fromJson(root.get("probe"));
        AnalysisSettings analysis = analysisFromJson(root.get("analysis"));
        JsonNode every = root.get("checkpointEvery");
        int checkpointEvery = 1;
        if (every != null) {
            if (!every.canConvertToExactIntegral() || !every.canConvertToInt()) {
                throw new RunFormatException("\"checkpointEvery\" must be an integer in 1.." + Integer.MAX_VALUE
                        + ", got " + every);
            }
            checkpointEvery = every.asInt();
        }
        Map<String, String> task = new LinkedHashMap<>();
        JsonNode t = root.get("task");
        if (t != null) {
            if (!t.isObject()) {
                throw new RunFormatException("\"task\" must be an object of strings");
            }
            for (var e : t.properties()) {
                if (!e.getValue().isValueNode()) {
                    throw new RunFormatException("\"task." + e.getKey() + "\" must be a string or number");
                }
                task.put(e.getKey(), e.getValue().asText());
            }
        }
        return new RunDescriptor(runId, model, probe, analysis, checkpointEvery, task);
    }

    private static AnalysisSettings analysisFromJson(JsonNode a) {
        if (a == null || a.isNull()) {
            return AnalysisSettings.classMean(AnalysisSettings.DEFAULT_TOP_K);
        }
        if (!a.isObject()) {
            throw new RunFormatException("\"analysis\" must be an object");
        }
        KernelKind kind;
        try {
            kind = KernelKind.parse(a.path("kernel").asText("class-mean"));
        } catch (IllegalArgumentException e) {
            throw new RunFormatException("\"analysis.kernel\": " + e.getMessage());
        }
        int topK = intField(a, "topK", AnalysisSettings.DEFAULT_TOP_K);
        boolean layers = !a.has("layers") || a.get("layers").asBoolean(true);
        Optional<Double> importance = a.hasNonNull("importance") ? Optional.of(numberField(a, "importance"))
                : Optional.empty();
        double tau = a.has("tau") ? numberField(a, "tau") : 1.0;
        int cls = intField(a, "class", 0);
        Precision precision;
        try {
            precision = Precision.parse(a.path("precision").asText(Precision.FLOAT64.id()));
        } catch (IllegalArgumentException e) {
            throw new RunFormatException("\"analysis.precision\": " + e.getMessage());
        }
        return new AnalysisSettings(kind, topK, layers, importance, tau, cls, precision);
    }

    private static int intField(JsonNode a, String f, int def) {
        JsonNode v = a.get(f);
        if (v == null) {
            return def;
        }
        // Checked against int's range first: asInt() would silently wrap 4294967297 to 1.
        if (!v.canConvertToExactIntegral()) {
            throw new RunFormatException("\"analysis." + f + "\" must be an integer, got " + v);
        }
        if (!v.canConvertToInt()) {
            throw new RunFormatException("\"analysis." + f + "\" is out of range, got " + v);
        }
        return v.asInt();
    }

    private static double numberField(JsonNode a, String f) {
        JsonNode v = a.get(f);
        if (!v.isNumber()) {
            throw new RunFormatException("\"analysis." + f + "\" must be a number, got " + v);
        }
        return v.asDouble();
    }

    /** This descriptor with its analysis decomposing in another precision. */
    public RunDescriptor withPrecision(Precision p) {
        return new RunDescriptor(runId, model, probe, analysis.withPrecision(p), checkpointEvery, task);
    }

    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("runId", runId);
        o.set("model", model.toJson());
        o.set("probe", probe.toJson());
        ObjectNode a = o.putObject("analysis");
        a.put("kernel", analysis.kernel().id()).put("topK", analysis.topK()).put("layers", analysis.layers());
        analysis.importance().ifPresent(i -> a.put("importance", i));
        a.put("tau", analysis.tau()).put("class", analysis.cls()).put("precision", analysis.precision().id());
        o.put("checkpointEvery", checkpointEvery);
        ObjectNode t = o.putObject("task");
        task.forEach(t::put);
        return o;
    }

    public byte[] toBytes() {
        try {
            return JSON.writeValueAsBytes(toJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

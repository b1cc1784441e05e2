package io.grokwatch.ui;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.SpectrumRecord;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads into a {@link RunStore} the files the commands write: JSON lines of {@code demo --out} (each with
 * {@code "kind"}: spectrum, alert or deadLetter) or of {@code replay --out} (spectra), and the JSON of
 * {@code experiment modular-addition} (its checkpoints and alerts) or {@code experiment tms} (its final analysis).
 */
public final class RecordFiles {
    private RecordFiles() {
    }

    /** What a file held. */
    public record Read(int spectra, int alerts, int skipped) {
    }

    /**
     * @throws IOException              if the file cannot be read or is not JSON
     * @throws IllegalArgumentException if it is JSON but none of the formats above
     */
    public static Read read(Path file, RunStore store) throws IOException {
        int spectra = 0;
        int alerts = 0;
        int skipped = 0;
        String fallbackId = stem(file);
        try (Reader in = Files.newBufferedReader(file);
             MappingIterator<JsonNode> it = Records.MAPPER.readerFor(JsonNode.class)
                     .with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                     .without(JsonParser.Feature.AUTO_CLOSE_SOURCE).readValues(in)) {
            while (it.hasNextValue()) {
                JsonNode n = it.nextValue();
                if (!(n instanceof ObjectNode o)) {
                    skipped++;
                    continue;
                }
                if (o.has("experiment")) {
                    spectra += experiment(o, fallbackId, store);
                    continue;
                }
                String kind = o.path("kind").asText(o.has("eigenvalues") ? "spectrum" : "");
                switch (kind) {
                    case "spectrum" -> {
                        if (!o.has("runId")) {
                            o.put("runId", fallbackId);
                        }
                        store.spectrum(Records.MAPPER.treeToValue(o, SpectrumRecord.class));
                        spectra++;
                    }
                    case "alert" -> {
                        store.alert(Records.MAPPER.treeToValue(o, AlertRecord.class));
                        alerts++;
                    }
                    default -> skipped++;
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + " is not JSON or JSON lines: " + e.getOriginalMessage(), e);
        }
        if (spectra == 0) {
            throw new IllegalArgumentException(file + " holds no spectrum: expected the JSON lines of demo, analyze "
                    + "or replay --out, or the JSON of experiment");
        }
        return new Read(spectra, alerts, skipped);
    }

    /** An experiment's output: its checkpoints (modular addition) or its final analysis (TMS), as one run. */
    private static int experiment(ObjectNode o, String runId, RunStore store) throws IOException {
        String name = o.path("experiment").asText();
        Map<String, String> task = new LinkedHashMap<>();
        task.put("name", name);
        JsonNode cfg = o.path("config");
        for (String key : new String[] {"p", "features", "hidden"}) {
            if (cfg.has(key)) {
                task.put(key, cfg.get(key).asText());
            }
        }
        store.descriptor(new Records.Descriptor(runId, task));
        int n = 0;
        JsonNode checkpoints = o.path("checkpoints");
        if (checkpoints.isArray() && !checkpoints.isEmpty()) {
            for (JsonNode c : checkpoints) {
                ObjectNode s = ((ObjectNode) c).deepCopy();
                s.put("runId", runId);
                if (!s.has("step")) {
                    s.put("step", s.path("epoch").asLong());
                }
                store.spectrum(Records.MAPPER.treeToValue(s, SpectrumRecord.class));
                n++;
            }
            for (JsonNode a : o.path("alerts")) {
                ObjectNode alert = ((ObjectNode) a).deepCopy();
                alert.put("runId", runId);
                store.alert(Records.MAPPER.treeToValue(alert, AlertRecord.class));
            }
        } else if (o.path("final").has("eigenvalues")) {
            ObjectNode s = ((ObjectNode) o.get("final")).deepCopy();
            s.put("runId", runId);
            s.put("step", s.path("epoch").asLong());
            store.spectrum(Records.MAPPER.treeToValue(s, SpectrumRecord.class));
            n++;
        }
        return n;
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.indexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}

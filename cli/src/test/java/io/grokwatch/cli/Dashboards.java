package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads the Grafana dashboards and the Prometheus rules of the repository and lists every PromQL expression they
 * hold, with where it comes from: the dashboards' structural test and the real-Prometheus IT share it.
 */
final class Dashboards {
    static final Path GRAFANA = Path.of("..", "grafana");
    static final Path PROMETHEUS = Path.of("..", "prometheus");
    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*([a-zA-Z_]\\w*)\\)");
    private static final Pattern QUERY_RESULT = Pattern.compile("query_result\\((.*)\\)");

    /** Where an expression comes from. */
    enum Kind { PANEL, ANNOTATION, VARIABLE, RULE }

    /** One PromQL expression and a readable place, e.g. {@code training-run.json panel 3 "Accuracy" A}. */
    record Query(Kind kind, String where, String name, String expr) {
        @Override
        public String toString() {
            return where + ": " + expr;
        }
    }

    private Dashboards() {
    }

    static List<Path> dashboardFiles() {
        try (Stream<Path> s = Files.list(GRAFANA.resolve("dashboards"))) {
            return s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> ruleFiles() {
        try (Stream<Path> s = Files.list(PROMETHEUS.resolve("rules"))) {
            return s.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(Path p) {
        try {
            return (p.toString().endsWith(".json") ? JSON : YAML).readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": " + e.getMessage(), e);
        }
    }

    /** Panels, rows' nested panels included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            p.path("panels").forEach(out::add);
        }
        return out;
    }

    /**
     * Every expression of every dashboard: panel targets, Prometheus annotations, and query variables
     * ({@code label_values(METRIC, label)} gives {@code METRIC}, {@code query_result(EXPR)} gives {@code EXPR}: the
     * series the variable's values come from).
     */
    static List<Query> dashboardQueries() {
        List<Query> out = new ArrayList<>();
        for (Path f : dashboardFiles()) {
            JsonNode d = read(f);
            String file = f.getFileName().toString();
            for (JsonNode p : panels(d)) {
                for (JsonNode t : p.path("targets")) {
                    out.add(new Query(Kind.PANEL, file + " panel " + p.path("id").asInt() + " \"" + p.path("title").asText()
                            + "\" " + t.path("refId").asText(), p.path("title").asText(), t.path("expr").asText()));
                }
            }
            for (JsonNode a : d.path("annotations").path("list")) {
                if (a.has("expr")) {
                    out.add(new Query(Kind.ANNOTATION, file + " annotation \"" + a.path("name").asText() + "\"",
                            a.path("name").asText(), a.path("expr").asText()));
                }
            }
            for (JsonNode v : d.path("templating").path("list")) {
                if (v.path("type").asText().equals("query")) {
                    String q = v.path("query").isObject() ? v.path("query").path("query").asText() : v.path("query").asText();
                    Matcher m = LABEL_VALUES.matcher(q.trim());
                    Matcher r = QUERY_RESULT.matcher(q.trim());
                    out.add(new Query(Kind.VARIABLE, file + " variable $" + v.path("name").asText(),
                            v.path("name").asText(), m.matches() ? m.group(1).trim() : r.matches() ? r.group(1).trim()
                            : q));
                }
            }
        }
        return out;
    }

    /** Every {@code expr} of every alerting or recording rule. */
    static List<Query> ruleQueries() {
        List<Query> out = new ArrayList<>();
        for (Path f : ruleFiles()) {
            for (JsonNode g : read(f).path("groups")) {
                for (JsonNode r : g.path("rules")) {
                    String name = r.has("alert") ? r.path("alert").asText() : r.path("record").asText();
                    out.add(new Query(Kind.RULE, f.getFileName() + " rule " + name, name, r.path("expr").asText().trim()));
                }
            }
        }
        return out;
    }

    /**
     * The expression as Grafana would send it, with template variables given concrete values: {@code vars} for the
     * dashboard's own variables, and {@code $__rate_interval}, {@code $__interval}, {@code $__range} from it too.
     */
    static String substitute(String expr, Map<String, String> vars) {
        String out = expr;
        for (var e : vars.entrySet()) {
            out = out.replace("${" + e.getKey() + "}", e.getValue()).replace("$" + e.getKey(), e.getValue());
        }
        return out;
    }
}

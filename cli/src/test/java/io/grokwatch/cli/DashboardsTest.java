package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import io.grokwatch.detect.Alert;
import io.grokwatch.trainer.TrainerMetrics;
import io.grokwatch.trainer.TrainingMetrics;
import io.micrometer.core.instrument.Clock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana dashboards and provisioning are well-formed (no Grafana server runs here): unique uids and panel
 * ids, every panel on the Prometheus datasource with described PromQL targets, layout inside 24 columns without
 * overlaps, and every metric a query names is one grokwatch exports.
 */
class DashboardsTest {
    /** grokwatch's own series, and those of the process and Kafka client binders. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:grokwatch|jvm|process|kafka)_[a-z0-9_]+)");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_]\\w*)");
    /** Registered by the webhook sender, not by the analyzer or trainer metrics classes. */
    private static final Set<String> WEBHOOK_METRICS = Set.of("grokwatch_webhook_deliveries_total",
            "grokwatch_webhook_delivery_failures_total", "grokwatch_webhook_pending",
            "grokwatch_webhook_dropped_total");
    private static final Set<String> GRAFANA_VARIABLES = Set.of("__rate_interval", "__interval", "__range",
            "__interval_ms", "__range_s", "__range_ms");

    /**
     * The metric names (histogram series included) that the analyzer and trainer expose: their own, the process
     * meters, and the Kafka metrics of a real (unstarted) Streams instance with its clients.
     */
    static Set<String> exportedMetrics() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        org.apache.kafka.streams.StreamsBuilder topology = new org.apache.kafka.streams.StreamsBuilder();
        topology.stream("in").to("out");
        java.util.Properties props = new java.util.Properties();
        props.put(org.apache.kafka.streams.StreamsConfig.APPLICATION_ID_CONFIG, "dashboards-test");
        props.put(org.apache.kafka.streams.StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:1");
        props.put(org.apache.kafka.streams.StreamsConfig.STATE_DIR_CONFIG,
                Files.createTempDirectory("dashboards-test").toString());
        io.grokwatch.observability.ServiceMeters process = io.grokwatch.observability.ServiceMeters.bind(registry);
        try (org.apache.kafka.streams.KafkaStreams streams = new org.apache.kafka.streams.KafkaStreams(
                topology.build(), props)) {
            PrometheusAnalyzerMetrics analyzer = new PrometheusAnalyzerMetrics(registry, Duration.ofMinutes(30),
                    Clock.SYSTEM);
            io.grokwatch.analyzer.AnalyzerMetrics.Binding kafka = analyzer.streams(streams);
            try {
                return exportedMetrics(registry, analyzer);
            } finally {
                kafka.close();
            }
        } finally {
            process.close();
        }
    }

    private static Set<String> exportedMetrics(PrometheusMeterRegistry registry, PrometheusAnalyzerMetrics analyzer)
            throws Exception {
        ObjectNode s = (ObjectNode) Dashboards.JSON.readTree("""
                {"runId": "r", "step": 10, "epoch": 10, "trainLoss": 0.1, "testLoss": 2.0, "trainAccuracy": 1.0,
                 "testAccuracy": 0.2, "eigenvalues": [3, 2, 1], "effectiveRank": 2.5, "drift": 0.1,
                 "overlaps": {"firstCliff": {"n": 1, "m": 1, "sum": 0, "diff": 0}}, "gaps": {"endOfSecondCliff": 1.1},
                 "solve": {"start": "warm"}, "layers": {"net.0": {"eigenvalues": [1], "effectiveRank": 1, "drift": 0.2}},
                 "timings": {"analysisSeconds": 0.1, "checkpointTimestampMs": 1796553000000}}
                """);
        analyzer.spectrum("r", io.grokwatch.records.SpectrumRecord.read(Dashboards.JSON.writeValueAsBytes(s)));
        analyzer.analysed("r", 0.1, 0.2);
        analyzer.alert("r", new Alert("grokking-onset", 10, 10, 0.5,
                new io.grokwatch.records.Evidence("a test alert", null)));
        System.gc(); // the GC pause timer appears with the first collection the JVM reports
        long until = System.nanoTime() + 5_000_000_000L;
        while (registry.find("jvm.gc.pause").timer() == null && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        new TrainerMetrics(registry).checkpointPublished("r", 10, new TrainingMetrics(0.1, 2, 1, 0.2), 1000);
        Set<String> names = new TreeSet<>();
        for (String line : registry.scrape().split("\n")) {
            if (!line.startsWith("#") && !line.isBlank()) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    @Test
    void dashboardsAreWellFormedAndOnThePrometheusDatasource() {
        List<Path> files = Dashboards.dashboardFiles();
        assertEquals(List.of("service-health.json", "training-run.json"),
                files.stream().map(p -> p.getFileName().toString()).toList());
        Set<String> uids = new HashSet<>();
        List<String> problems = new ArrayList<>();
        for (Path f : files) {
            JsonNode d = Dashboards.read(f);
            String file = f.getFileName().toString();
            if (!uids.add(d.path("uid").asText()) || d.path("uid").asText().isBlank()) {
                problems.add(file + ": uid missing or not unique: '" + d.path("uid").asText() + "'");
            }
            if (d.path("title").asText().isBlank() || d.path("schemaVersion").asInt() < 36) {
                problems.add(file + ": needs a title and schemaVersion >= 36");
            }
            Set<Integer> ids = new HashSet<>();
            List<JsonNode> panels = Dashboards.panels(d);
            assertFalse(panels.isEmpty(), file + " has no panels");
            for (JsonNode p : panels) {
                String where = file + " panel " + p.path("id") + " \"" + p.path("title").asText() + "\"";
                if (!p.path("id").isInt() || !ids.add(p.path("id").asInt())) {
                    problems.add(where + ": id missing or not unique");
                }
                if (p.path("type").asText().equals("row")) {
                    continue;
                }
                if (p.path("title").asText().isBlank() || p.path("description").asText().length() < 20) {
                    problems.add(where + ": needs a title and a description saying what it means");
                }
                if (!isPrometheus(p.path("datasource"))) {
                    problems.add(where + ": datasource is not {type: prometheus, uid: prometheus}");
                }
                JsonNode g = p.path("gridPos");
                int x = g.path("x").asInt(-1);
                int w = g.path("w").asInt(0);
                if (x < 0 || w < 1 || x + w > 24 || g.path("h").asInt(0) < 1 || g.path("y").asInt(-1) < 0) {
                    problems.add(where + ": gridPos " + g + " outside the 24 columns");
                }
                Set<String> refIds = new HashSet<>();
                if (!p.path("targets").isArray() || p.path("targets").isEmpty()) {
                    problems.add(where + ": no targets");
                }
                for (JsonNode t : p.path("targets")) {
                    if (t.path("expr").asText().isBlank() || !refIds.add(t.path("refId").asText())
                            || t.path("refId").asText().isBlank()) {
                        problems.add(where + ": target " + t + " needs an expr and a unique refId");
                    }
                    if (t.has("datasource") && !isPrometheus(t.path("datasource"))) {
                        problems.add(where + ": target datasource is not the Prometheus one");
                    }
                }
            }
            problems.addAll(overlaps(file, panels));
            for (JsonNode a : d.path("annotations").path("list")) {
                if (a.path("builtIn").asInt() != 1 && (!isPrometheus(a.path("datasource")) || !a.has("expr"))) {
                    problems.add(file + " annotation " + a.path("name") + ": not a Prometheus query");
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void everyQueryNamesExportedMetricsAndDefinedVariables() throws Exception {
        Set<String> exported = exportedMetrics();
        List<String> problems = new ArrayList<>();
        for (Path f : Dashboards.dashboardFiles()) {
            JsonNode d = Dashboards.read(f);
            Set<String> defined = new HashSet<>(GRAFANA_VARIABLES);
            d.path("templating").path("list").forEach(v -> defined.add(v.path("name").asText()));
            for (JsonNode v : d.path("templating").path("list")) {
                if (!isPrometheus(v.path("datasource"))) {
                    problems.add(f.getFileName() + " variable " + v.path("name") + ": not on the Prometheus datasource");
                }
            }
            for (Dashboards.Query q : Dashboards.dashboardQueries()) {
                if (!q.where().startsWith(f.getFileName().toString())) {
                    continue;
                }
                Matcher m = VARIABLE.matcher(q.expr());
                while (m.find()) {
                    if (!defined.contains(m.group(1))) {
                        problems.add(q + ": undefined variable $" + m.group(1));
                    }
                }
            }
        }
        List<Dashboards.Query> all = new ArrayList<>(Dashboards.dashboardQueries());
        all.addAll(Dashboards.ruleQueries());
        for (Dashboards.Query q : all) {
            Matcher m = METRIC.matcher(q.expr());
            boolean any = false;
            while (m.find()) {
                any = true;
                if (!exported.contains(m.group(1)) && !WEBHOOK_METRICS.contains(m.group(1))) {
                    problems.add(q + ": " + m.group(1) + " is not exported");
                }
            }
            if (!any && !q.expr().contains("up{") && !q.expr().contains("ALERTS{")) {
                problems.add(q + ": names no grokwatch metric");
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems) + "\nexported: " + exported);
    }

    @Test
    void theTrainingRunDashboardIsPerRunAndShowsTheGrokkingVerdict() {
        JsonNode d = Dashboards.read(Dashboards.GRAFANA.resolve("dashboards/training-run.json"));
        assertEquals("Training run", d.path("title").asText());
        JsonNode run = d.path("templating").path("list").get(0);
        assertEquals("run", run.path("name").asText());
        // Newest first, in the query's order (sort 0), nothing preselected: Grafana opens on the newest run.
        assertEquals("query_result(sort_desc(max by (run) (grokwatch_last_checkpoint_timestamp_seconds)))",
                run.path("query").path("query").asText());
        assertEquals(0, run.path("sort").asInt());
        assertTrue(run.path("current").isEmpty(), "no saved selection: " + run.path("current"));
        assertEquals("/run=\"([^\"]+)\"/", run.path("regex").asText());
        for (JsonNode p : Dashboards.panels(d)) {
            for (JsonNode t : p.path("targets")) {
                assertTrue(t.path("expr").asText().contains("run=\"$run\""), p.path("title") + ": " + t.path("expr"));
            }
        }
        List<String> exprs = Dashboards.dashboardQueries().stream().map(Dashboards.Query::expr).toList();
        for (String needed : new String[] {"grokwatch_phase{", "grokwatch_eigenvalue{run=\"$run\", layer=\"all\"}",
            "grokwatch_eigenspace_drift", "grokwatch_effective_rank", "grokwatch_gap_ratio",
            "cliff=\"firstCliff\"", "cliff=\"secondCliff\"", "ALERTS{alertname=\"GrokkingDetected\""}) {
            assertTrue(exprs.stream().anyMatch(e -> e.contains(needed)), "no query with " + needed);
        }
        long logPanels = Dashboards.panels(d).stream().filter(p -> p.path("title").asText().startsWith("eNTK spectrum")
                && p.at("/fieldConfig/defaults/custom/scaleDistribution/type").asText().equals("log")).count();
        assertEquals(2, logPanels, "whole-model and per-layer spectra on a log axis");
        // The onset detector's threshold is drawn beside the measure it is compared with.
        JsonNode second = Dashboards.panels(d).stream().filter(p -> p.path("title").asText().startsWith("Second cliff"))
                .findFirst().orElseThrow();
        List<String> secondExprs = new ArrayList<>();
        second.path("targets").forEach(t -> secondExprs.add(t.path("expr").asText()));
        assertTrue(secondExprs.stream().anyMatch(e -> e.startsWith("max(grokwatch_onset_overlap_threshold)")),
                "threshold series: " + secondExprs);
        assertTrue(secondExprs.stream().anyMatch(e -> e.contains("family=\"sum\"") && e.contains("family=\"diff\"")
                && e.endsWith("/ 2")), "the mean of sum and diff, which the detector compares: " + secondExprs);
    }

    /** Each dashboard links to the other by uid, so that one click leads from a run to the service and back. */
    @Test
    void theDashboardsLinkToEachOther() {
        Set<String> uids = new HashSet<>();
        Dashboards.dashboardFiles().forEach(f -> uids.add(Dashboards.read(f).path("uid").asText()));
        for (Path f : Dashboards.dashboardFiles()) {
            JsonNode d = Dashboards.read(f);
            Set<String> linked = new HashSet<>();
            for (JsonNode l : d.path("links")) {
                String url = l.path("url").asText();
                assertTrue(url.startsWith("/d/"), f + ": link " + url);
                linked.add(url.substring(3).split("[?/]")[0]);
            }
            Set<String> others = new HashSet<>(uids);
            others.remove(d.path("uid").asText());
            assertEquals(others, linked, f + " links to every other dashboard");
        }
    }

    /** The all-runs table: every run's phase by name, newest first, each run a link to its training-run view. */
    @Test
    void serviceHealthListsEveryRunWithItsPhase() {
        JsonNode d = Dashboards.read(Dashboards.GRAFANA.resolve("dashboards/service-health.json"));
        JsonNode table = Dashboards.panels(d).stream().filter(p -> p.path("title").asText().equals("All runs"))
                .findFirst().orElseThrow(() -> new AssertionError("no All runs panel"));
        assertEquals("table", table.path("type").asText());
        List<String> exprs = new ArrayList<>();
        for (JsonNode t : table.path("targets")) {
            exprs.add(t.path("expr").asText());
            assertTrue(t.path("instant").asBoolean() && t.path("format").asText().equals("table"), t.toString());
            assertTrue(t.path("expr").asText().contains("by (run)"), "one row per run: " + t.path("expr"));
        }
        assertTrue(exprs.contains("max by (run) (grokwatch_phase)"), exprs.toString());
        String text = table.path("fieldConfig").toString();
        for (String needed : new String[] {"\"text\":\"none\"", "\"text\":\"onset\"", "\"text\":\"generalized\"",
            "/d/grokwatch-training-run?var-run=${__value.text}"}) {
            assertTrue(text.contains(needed), "All runs table: " + needed + " in " + text);
        }
    }

    @Test
    void provisioningPointsGrafanaAtPrometheusAndTheDashboardsFolder() {
        JsonNode ds = Dashboards.read(Dashboards.GRAFANA.resolve("provisioning/datasources/prometheus.yml"));
        JsonNode p = ds.path("datasources").get(0);
        assertEquals("prometheus", p.path("uid").asText());
        assertEquals("prometheus", p.path("type").asText());
        assertEquals("http://prometheus:9090", p.path("url").asText());
        JsonNode dash = Dashboards.read(Dashboards.GRAFANA.resolve("provisioning/dashboards/grokwatch.yml"));
        JsonNode provider = dash.path("providers").get(0);
        assertEquals("file", provider.path("type").asText());
        assertEquals("grokwatch", provider.path("folder").asText());
        assertEquals("/var/lib/grafana/dashboards", provider.path("options").path("path").asText());
        assertTrue(Files.isDirectory(Dashboards.GRAFANA.resolve("dashboards")));
    }

    private static boolean isPrometheus(JsonNode ds) {
        return ds.path("type").asText().equals("prometheus") && ds.path("uid").asText().equals("prometheus");
    }

    private static List<String> overlaps(String file, List<JsonNode> panels) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < panels.size(); i++) {
            for (int j = i + 1; j < panels.size(); j++) {
                JsonNode a = panels.get(i).path("gridPos");
                JsonNode b = panels.get(j).path("gridPos");
                boolean apart = a.path("x").asInt() + a.path("w").asInt() <= b.path("x").asInt()
                        || b.path("x").asInt() + b.path("w").asInt() <= a.path("x").asInt()
                        || a.path("y").asInt() + a.path("h").asInt() <= b.path("y").asInt()
                        || b.path("y").asInt() + b.path("h").asInt() <= a.path("y").asInt();
                if (!apart) {
                    out.add(file + ": panels " + panels.get(i).path("title") + " and " + panels.get(j).path("title")
                            + " overlap");
                }
            }
        }
        return out;
    }
}

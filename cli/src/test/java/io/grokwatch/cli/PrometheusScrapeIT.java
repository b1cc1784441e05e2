package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grokwatch.analyzer.AnalyzerService;
import io.grokwatch.analyzer.PrometheusAnalyzerMetrics;
import io.grokwatch.kafka.embedded.EmbeddedKafka;
import io.grokwatch.kafka.Topics;
import io.grokwatch.observability.MetricsServer;
import io.grokwatch.trainer.RunPublisher;
import io.grokwatch.trainer.TrainerMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every PromQL expression of the Grafana dashboards and of the alerting rules, evaluated by a real Prometheus that
 * scraped a real run: an embedded broker, the analyzer and the trainer with their metrics endpoints on free ports,
 * a modular-addition run (p = 29) that groks, and Debian's {@code /usr/bin/prometheus} scraping both endpoints
 * every second with the repository's rules and the job names of {@code prometheus/prometheus.yml}.
 *
 * <p>How each expression is checked:
 * <ul>
 *   <li>dashboard panel targets and annotations, with {@code $run} = the run, {@code $__rate_interval} = 1m,
 *       {@code $__interval} = 15s, {@code $__range} = 1h: the instant query returns at least one series;</li>
 *   <li>query variables ({@code label_values(METRIC, label)}): {@code METRIC} returns the run's series;</li>
 *   <li>rules that should fire in a healthy grokking run ({@code GrokkingDetected}): the expression itself
 *       returns a series, and the alert is firing in {@code ALERTS};</li>
 *   <li>rules that only fire on a fault ({@link #FAULT_ONLY}): the expression without its final comparison
 *       (the series the rule compares with its threshold) must return at least one series, and the alert must
 *       not be firing in {@code ALERTS}. That second check is weak for rules with a {@code for:} longer than
 *       this run (AnalyzerLagging 2m, AnalyzerOutpaced 5m, AnalyzerDown 1m, TrainerDown 2m); their thresholds are tested by promtool
 *       (PrometheusRulesIT). On this shared 2-core machine the condition of AnalyzerLagging (p99 lag over
 *       10 s) can be true for a moment, because the trainer publishes faster than the analyzer analyses;
 *       the report prints whether each condition holds.</li>
 * </ul>
 * A webhook receiver on loopback takes the run's alerts, so the webhook panels read real delivery meters.
 */
class PrometheusScrapeIT {
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    private static final String RUN = "scrape-it";
    /** Rules that only fire on a fault, and what they watch. */
    private static final Map<String, String> FAULT_ONLY = Map.of(
            "AnalyzerLagging", "p99 checkpoint-to-spectrum latency",
            "AnalyzerOutpaced", "the analyzer's summed load",
            "DeadLettersRising", "dead letters by reason",
            "AnalyzerDown", "the analyzer's up series",
            "TrainerDown", "the trainer's up series",
            "WebhookDeliveriesFailing", "failed webhook attempts while alerts are pending",
            "WebhookAlertsDropped", "alerts given up per receiver and reason",
            "TrainingRunUnhealthy", "the run's training-health alerts of the last 30 minutes",
            "RunStalled", "the run's silence past its stall threshold (0 once it ended)");
    private static final Pattern FINAL_COMPARISON = Pattern.compile("^(.*\\S)\\s*(==|!=|>=|<=|>|<)\\s*-?[0-9.]+$",
            Pattern.DOTALL);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("try") // the process meters are a resource only to be closed
    void everyDashboardAndRuleExpressionReturnsDataAfterARealRun() throws Exception {
        assertTrue(Files.isExecutable(PROMETHEUS), PROMETHEUS + " is missing: install Debian's prometheus package "
                + "(./run-tests does)");
        TaskOptions task = new TaskOptions();
        task.p = 29;
        task.epochs = 110;
        task.checkpointEvery = 10;
        task.topK = 120;
        TrainingPublication publication = new TrainingPublication(task, RUN);
        MetricsOptions endpoints = new MetricsOptions();
        endpoints.port = 0;
        PrometheusAnalyzerMetrics analyzerMetrics = endpoints.analyzerMetrics();
        PrometheusMeterRegistry trainerRegistry = MetricsOptions.trainerRegistry();
        TrainerMetrics trainerMetrics = endpoints.trainerMetrics(trainerRegistry);
        Topics topics = Topics.defaults();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"));
             AnalyzerService analyzer = AnalyzerService.start(new AnalyzerService.Config(kafka.bootstrapServers(),
                     "scrape-it", dir.resolve("state"), topics, 1, true, 2), analyzerMetrics);
             // As analyze does: the process meters beside the analyzer's (the trainer registry has its own).
             io.grokwatch.observability.ServiceMeters process = MetricsOptions.processMeters(analyzerMetrics);
             MetricsServer analyzerEndpoint = endpoints.start(analyzerMetrics, analyzer);
             MetricsServer trainerEndpoint = endpoints.startTrainer(trainerRegistry, trainerMetrics,
                     publication::publishing);
             Receiver receiver = new Receiver();
             io.grokwatch.notify.WebhookDispatcher hooks = io.grokwatch.notify.WebhookDispatcher.start(
                     io.grokwatch.notify.WebhookConfig.of(List.of(receiver.url()), "scrape-it-secret"),
                     kafka.bootstrapServers(), topics, analyzerMetrics.registry(),
                     io.grokwatch.notify.DeliveryListener.NONE)) {
            int port = freePort();
            Process prometheus = startPrometheus(port, analyzerEndpoint.port(), trainerEndpoint.port());
            try {
                String api = "http://127.0.0.1:" + port;
                await("Prometheus ready", Duration.ofSeconds(30), () -> get(api + "/-/ready").statusCode() == 200,
                        prometheus);
                await("both targets scraped", Duration.ofSeconds(20),
                        () -> query(api, "up == 1").size() == 2, prometheus);
                try (RunPublisher publisher = new RunPublisher(kafka.bootstrapServers(), topics, RUN)) {
                    publication.run(publisher, (epoch, step, m) -> { }, () -> false, 30, trainerMetrics);
                }
                await("the last checkpoint analysed and scraped", Duration.ofSeconds(60),
                        () -> !query(api, "grokwatch_epoch{run=\"" + RUN + "\"} == 110").isEmpty(), prometheus);
                await("GrokkingDetected firing", Duration.ofSeconds(20), () -> !query(api,
                        "ALERTS{alertname=\"GrokkingDetected\", alertstate=\"firing\", run=\"" + RUN + "\"}").isEmpty(),
                        prometheus);
                await("alerts delivered to the webhook receiver and scraped", Duration.ofSeconds(30),
                        () -> receiver.received() > 0 && hooks.pending() == 0 && !query(api, "grokwatch_webhook_deliveries_total > 0").isEmpty(),
                        prometheus);
                Thread.sleep(2500); // a few more scrapes of the finished trainer and rule evaluations
                evaluateEverything(api);
            } finally {
                prometheus.destroy();
                if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                    prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    private void evaluateEverything(String api) throws Exception {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("__rate_interval", "1m");
        vars.put("__interval", "15s");
        vars.put("__range", "1h");
        vars.put("run", RUN);
        List<String> empty = new ArrayList<>(); // expressions that returned nothing
        List<String> report = new ArrayList<>();
        List<Dashboards.Query> queries = new ArrayList<>(Dashboards.dashboardQueries());
        queries.addAll(Dashboards.ruleQueries());
        for (Dashboards.Query q : queries) {
            String expr = Dashboards.substitute(q.expr(), vars);
            if (q.kind() == Dashboards.Kind.RULE && FAULT_ONLY.containsKey(q.name())) {
                // absent(X == 1) fires when nothing matches: X is what it watches.
                String watched = expr.startsWith("absent(") && expr.endsWith(")")
                        ? expr.substring("absent(".length(), expr.length() - 1) : expr;
                Matcher m = FINAL_COMPARISON.matcher(watched);
                assertTrue(m.matches(), q + ": a fault-only rule must end in a comparison with a number");
                ArrayNode firing = query(api, "ALERTS{alertstate=\"firing\", alertname=\"" + q.name() + "\"}");
                if (!firing.isEmpty()) {
                    empty.add(q + "  FIRING in a healthy run: " + firing);
                }
                ArrayNode raw = query(api, expr);
                ArrayNode underlying = query(api, m.group(1));
                report.add(String.format("%-70s fault-only (%s): %s; %d series without the comparison, e.g. %s;"
                        + " condition %s now", q.where(), FAULT_ONLY.get(q.name()), firing.isEmpty() ? "not firing"
                        : "FIRING", underlying.size(), underlying.isEmpty() ? "-"
                        : underlying.get(0).path("value").path(1).asText(), raw.isEmpty() ? "false" : "true"));
                if (underlying.isEmpty()) {
                    empty.add(q + "  (evaluated without its comparison: " + m.group(1) + ")");
                }
                continue;
            }
            ArrayNode result = query(api, expr);
            report.add(String.format("%-70s %d series, e.g. %s", q.where(), result.size(),
                    result.isEmpty() ? "-" : result.get(0).path("value").path(1).asText()));
            if (result.isEmpty()) {
                empty.add(q + (expr.equals(q.expr()) ? "" : "  (sent as: " + expr + ")"));
            }
        }
        System.out.println("PrometheusScrapeIT: " + queries.size() + " expressions\n  " + String.join("\n  ", report));
        assertTrue(empty.isEmpty(), empty.size() + " of " + queries.size() + " expressions returned nothing (or, for "
                + "a fault-only rule, its alert fired):\n" + String.join("\n", empty));
        for (String job : new String[] {"grokwatch-analyzer", "grokwatch-trainer"}) {
            ArrayNode up = query(api, "up{job=\"" + job + "\"}");
            assertEquals(1, up.size(), job + " scraped: " + up);
            assertEquals("1", up.get(0).path("value").path(1).asText(), job + " up");
        }
        ArrayNode phase = query(api, "grokwatch_phase{run=\"" + RUN + "\"}");
        assertEquals("2", phase.get(0).path("value").path(1).asText(), "onset, then generalization: phase 2");
        assertEquals("grokwatch-analyzer", phase.get(0).path("metric").path("instance").asText(),
                "a per-run series is the run's, not the process's: " + phase);
        ArrayNode load = query(api, "grokwatch_analyzer_load");
        assertTrue(load.get(0).path("metric").path("instance").asText().startsWith("127.0.0.1:"),
                "a service series keeps its instance: " + load);
    }

    /** Prometheus on {@code port} with the repository's scrape jobs pointed at the two endpoints, 1 s intervals. */
    private Process startPrometheus(int port, int analyzerPort, int trainerPort) throws IOException {
        ObjectNode config = (ObjectNode) Dashboards.read(Dashboards.PROMETHEUS.resolve("prometheus.yml"));
        config.putObject("global").put("scrape_interval", "1s").put("evaluation_interval", "1s");
        config.remove("alerting"); // no Alertmanager here: ALERTS is read from Prometheus itself
        config.putArray("rule_files").add(Dashboards.PROMETHEUS.resolve("rules").toAbsolutePath().normalize()
                + "/*.yml");
        for (JsonNode job : config.path("scrape_configs")) {
            String name = job.path("job_name").asText();
            int target = switch (name) {
                case "grokwatch-analyzer" -> analyzerPort;
                case "grokwatch-trainer" -> trainerPort;
                default -> throw new AssertionError("prometheus.yml has a job this test does not know: " + name);
            };
            ((ObjectNode) job).putArray("static_configs").addObject().putArray("targets").add("127.0.0.1:" + target);
        }
        Path file = dir.resolve("prometheus.yml");
        Dashboards.YAML.writeValue(file.toFile(), config);
        return new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + file,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn").redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
    }

    private static ArrayNode query(String api, String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        JsonNode body = Dashboards.JSON.readTree(r.body());
        assertEquals("success", body.path("status").asText(), promql + " -> " + r.body());
        JsonNode result = body.path("data").path("result");
        if (result.isArray()) {
            return (ArrayNode) result;
        }
        // A scalar or string result: one value.
        return Dashboards.JSON.createArrayNode().add(Dashboards.JSON.createObjectNode().set("value", result));
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private void await(String what, Duration timeout, Check check, Process prometheus) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            assertTrue(prometheus.isAlive(), "prometheus exited: " + log());
            try {
                if (check.ok()) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                + (last == null ? "" : " (last error: " + last + ")") + "\nprometheus log:\n" + log());
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A loopback webhook receiver that accepts every POST and counts them. */
    private static final class Receiver implements AutoCloseable {
        private final com.sun.net.httpserver.HttpServer server;
        private final java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();

        Receiver() throws IOException {
            server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/hook", exchange -> {
                exchange.getRequestBody().readAllBytes();
                received.incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
            server.start();
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        }

        int received() {
            return received.get();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}

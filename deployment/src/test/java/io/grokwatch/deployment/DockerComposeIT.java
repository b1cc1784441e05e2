package io.grokwatch.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker-compose.yml as Debian's docker-compose (1.29) resolves it ({@code docker-compose config}: no engine
 * needed), checked against the repository: mounted files exist, command lines parse in the CLI, ports and
 * service names agree with the images and with prometheus.yml.
 */
class DockerComposeIT {
    private static JsonNode services;
    private static JsonNode volumes;

    @BeforeAll
    static void resolve() throws Exception {
        Tools.Result r = Tools.run("docker-compose", List.of("docker-compose", "-f", "docker-compose.yml", "config"));
        assertEquals(0, r.exitCode(), r.describe());
        JsonNode config = Repo.yaml(r.stdout());
        services = config.path("services");
        volumes = config.path("volumes");
    }

    /** A volume entry as docker-compose config prints it: SOURCE:TARGET[:MODE], SOURCE absolute for a bind. */
    private record Mount(String source, String target) {
        boolean bind() {
            return source.startsWith("/");
        }

        String repoPath() {
            Path p = Path.of(source);
            assertTrue(p.startsWith(Repo.ROOT), "bind mount from outside the repository: " + source);
            return Repo.ROOT.relativize(p).toString();
        }
    }

    private static List<Mount> mounts(String service) {
        List<Mount> out = new ArrayList<>();
        services.path(service).path("volumes").forEach(v -> {
            String[] parts = v.isTextual() ? v.asText().split(":")
                    : new String[] {v.path("source").asText(), v.path("target").asText()};
            out.add(new Mount(parts[0], parts[1]));
        });
        return out;
    }

    private static Map<Integer, Integer> ports(String service) {
        Map<Integer, Integer> targetToPublished = new HashMap<>();
        services.path(service).path("ports").forEach(p -> targetToPublished.put(p.path("target").asInt(),
                p.path("published").asInt()));
        return targetToPublished;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String flag(String service, String name) {
        for (String arg : strings(services.path(service).path("command"))) {
            if (arg.startsWith(name + "=")) {
                return arg.substring(name.length() + 1);
            }
        }
        throw new AssertionError(service + " has no " + name + "=...");
    }

    @Test
    void hasTheServicesAndNamedVolumes() {
        Set<String> names = new TreeSet<>();
        services.fieldNames().forEachRemaining(names::add);
        assertEquals(new TreeSet<>(Set.of("kafka", "analyzer", "trainer", "webhook-receiver", "prometheus",
                "alertmanager", "grafana")), names);
        for (String s : names) {
            for (Mount m : mounts(s)) {
                if (!m.bind()) {
                    assertTrue(volumes.has(m.source()), s + ": named volume " + m.source() + " is declared");
                }
            }
        }
        assertEquals(Map.of(3000, 3000), ports("grafana"));
        assertEquals(Map.of(9090, 9090), ports("prometheus"));
        assertEquals(Map.of(9093, 9093), ports("alertmanager"));
    }

    @Test
    void bindMountsOutsideGrafanaExist() {
        for (String s : List.of("kafka", "analyzer", "trainer", "prometheus", "alertmanager")) {
            for (Mount m : mounts(s)) {
                if (m.bind()) {
                    assertTrue(Files.exists(Repo.path(m.repoPath())), s + " mounts " + m.repoPath() + ", which is missing");
                }
            }
        }
    }

    @Test
    void grafanaMountsProvisioningAndDashboards() {
        Map<String, String> byTarget = new HashMap<>();
        for (Mount m : mounts("grafana")) {
            byTarget.put(m.target(), m.bind() ? m.repoPath() : null);
        }
        assertEquals("grafana/provisioning", byTarget.get("/etc/grafana/provisioning"));
        assertEquals("grafana/dashboards", byTarget.get("/var/lib/grafana/dashboards"));
        String home = services.path("grafana").path("environment").path("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH").asText();
        assertTrue(home.startsWith("/var/lib/grafana/dashboards/"), home);
        assertEquals("true", services.path("grafana").path("environment").path("GF_AUTH_ANONYMOUS_ENABLED").asText());
        List<String> missing = new ArrayList<>();
        for (String path : List.of("grafana/provisioning", "grafana/dashboards",
                "grafana/dashboards/" + home.substring("/var/lib/grafana/dashboards/".length()))) {
            if (!Files.exists(Repo.path(path))) {
                missing.add(path);
            }
        }
        Assumptions.assumeTrue(missing.isEmpty(), "not in this tree yet (the Grafana provisioning and dashboards "
                + "are written separately): " + missing);
    }

    @Test
    void kafkaIsSingleNodeKraftAtTheClientsVersion() {
        JsonNode kafka = services.path("kafka");
        assertEquals("apache/kafka:" + Repo.pomProperty("kafka.version"), kafka.path("image").asText(),
                "the broker runs the Kafka version grokwatch's clients are built with");
        JsonNode env = kafka.path("environment");
        assertEquals("broker,controller", env.path("KAFKA_PROCESS_ROLES").asText());
        for (String rf : List.of("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR")) {
            assertEquals("1", env.path(rf).asText(), rf);
        }
        List<String> advertised = List.of(env.path("KAFKA_ADVERTISED_LISTENERS").asText().split(","));
        assertTrue(advertised.contains("PLAINTEXT://kafka:9092"), "containers reach kafka:9092: " + advertised);
        String host = advertised.stream().filter(l -> l.startsWith("HOST://localhost:")).findFirst()
                .orElseThrow(() -> new AssertionError("a listener for clients on the host: " + advertised));
        int hostPort = Integer.parseInt(host.substring(host.lastIndexOf(':') + 1));
        assertEquals(Map.of(hostPort, hostPort), ports("kafka"), "the host listener is published as advertised");
        assertTrue(env.path("KAFKA_MESSAGE_MAX_BYTES").asInt() >= 16 * 1024 * 1024, "16 MiB checkpoints");
        assertFalse(kafka.path("healthcheck").path("test").isMissingNode(), "a healthcheck the services wait on");
    }

    @Test
    void analyzerRunsTheAnalyzeCommandOnItsMetricsPort() {
        JsonNode analyzer = services.path("analyzer");
        assertEquals("analyzer/Dockerfile", analyzer.path("build").path("dockerfile").asText());
        assertEquals("grokwatch/analyzer:" + Repo.projectVersion(), analyzer.path("image").asText());
        CommandLine.ParseResult parsed = CliArgs.parse("docker-compose analyzer", "analyze",
                strings(analyzer.path("command")));
        assertEquals("kafka:9092", CliArgs.optionValue(parsed, "--bootstrap-servers"));
        assertEquals(true, CliArgs.optionValue(parsed, "--single-broker"));
        int port = (Integer) CliArgs.optionValue(parsed, "--metrics-port");
        assertEquals(9464, port);
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--metrics-host"), "reachable from Prometheus");
        assertEquals(Map.of(port, port), ports("analyzer"));
        assertEquals("1", analyzer.path("environment").path("OPENBLAS_NUM_THREADS").asText());
        assertTrue(analyzer.path("environment").has("GROKWATCH_WEBHOOK_URLS"), "webhook URLs passed through");
        assertTrue(analyzer.path("environment").has("GROKWATCH_WEBHOOK_SECRET"), "webhook secret passed through");
        assertEquals("service_healthy", analyzer.path("depends_on").path("kafka").path("condition").asText());
        String stateDir = CliArgs.optionValue(parsed, "--state-dir").toString();
        assertTrue(mounts("analyzer").stream().anyMatch(m -> !m.bind() && stateDir.startsWith(m.target() + "/")),
                "the analyzer's state is on a named volume: " + stateDir);
    }

    /** As on Kubernetes: the heap the image takes from the limit holds a p = 113 analysis, with room beside it. */
    @Test
    void analyzerMemoryLimitFitsTheHeapOfAP113Analysis() {
        String limit = services.path("analyzer").path("mem_limit").asText();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([kmg])").matcher(limit.toLowerCase());
        assertTrue(m.matches(), "mem_limit in k, m or g: " + limit);
        long bytes = Long.parseLong(m.group(1)) << switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            default -> 30;
        };
        double percent = DockerfilesTest.dockerfile("analyzer").finalStage().last("ENTRYPOINT").orElseThrow()
                .execForm().stream().filter(a -> a.startsWith("-XX:MaxRAMPercentage="))
                .mapToDouble(a -> Double.parseDouble(a.substring(a.indexOf('=') + 1))).findFirst().orElseThrow();
        long heap = (long) (bytes * percent / 100);
        assertTrue(heap >= 4L << 30, "heap " + heap + " holds a p = 113 analysis (4 GB)");
        assertTrue(bytes - heap >= 1L << 30, "at least 1 GiB beside the heap");
    }

    @Test
    void alertmanagerAndTheAnalyzerDeliverToTheWebhookReceiverService() {
        JsonNode receiver = services.path("webhook-receiver");
        assertEquals("grokwatch/analyzer:" + Repo.projectVersion(), receiver.path("image").asText(),
                "the analyzer's image, which carries the CLI");
        List<String> entrypoint = strings(receiver.path("entrypoint"));
        assertEquals(List.of("io.grokwatch.cli.Main", "webhook-receiver"),
                entrypoint.subList(entrypoint.size() - 2, entrypoint.size()));
        CommandLine.ParseResult parsed = CliArgs.parse("docker-compose webhook-receiver", "webhook-receiver",
                strings(receiver.path("command")));
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--bind"), "reachable from the other containers");
        int port = (Integer) CliArgs.optionValue(parsed, "--port");
        String seenIds = CliArgs.optionValue(parsed, "--seen-ids").toString();
        assertTrue(mounts("webhook-receiver").stream().anyMatch(m -> !m.bind() && seenIds.startsWith(m.target() + "/")),
                "seen ids survive a restart on a named volume: " + seenIds);
        JsonNode alertmanager = Repo.yamlFile("alertmanager/alertmanager.yml");
        String target = "http://webhook-receiver:" + port + "/";
        List<String> urls = new ArrayList<>();
        alertmanager.path("receivers").forEach(r -> r.path("webhook_configs").forEach(w -> urls.add(w.path("url")
                .asText())));
        assertTrue(urls.stream().anyMatch(u -> u.startsWith(target)), "Alertmanager delivers to " + target + ": "
                + urls);
        String routed = alertmanager.path("route").path("receiver").asText();
        alertmanager.path("receivers").forEach(r -> {
            if (r.path("name").asText().equals(routed)) {
                assertTrue(r.path("webhook_configs").get(0).path("url").asText().startsWith(target),
                        "the default route reaches the receiver");
            }
        });
        if (System.getenv("GROKWATCH_WEBHOOK_URLS") == null) {
            assertTrue(services.path("analyzer").path("environment").path("GROKWATCH_WEBHOOK_URLS").asText()
                    .startsWith(target), "the analyzer's alerts go there by default");
        }
    }

    @Test
    void trainerRunsTheModularAdditionDemo() {
        JsonNode trainer = services.path("trainer");
        assertEquals("trainer/Dockerfile", trainer.path("build").path("dockerfile").asText());
        assertEquals("grokwatch/trainer:" + Repo.projectVersion(), trainer.path("image").asText());
        CommandLine.ParseResult parsed = CliArgs.parse("docker-compose trainer", "train", strings(trainer.path("command")));
        assertEquals("modular-addition", CliArgs.optionValue(parsed, "--task"));
        assertEquals(29, CliArgs.optionValue(parsed, "--p"));
        assertEquals("kafka:9092", CliArgs.optionValue(parsed, "--bootstrap-servers"));
        assertEquals(Map.of(9465, 9465), ports("trainer"));
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--metrics-host"), "reachable from Prometheus");
        Object port = CliArgs.optionValue(parsed, "--metrics-port");
        if (port != null) {
            assertEquals(9465, port, "the trainer serves its metrics on the published port");
        }
        assertEquals("service_healthy", trainer.path("depends_on").path("kafka").path("condition").asText());
        assertEquals("1", trainer.path("environment").path("OPENBLAS_NUM_THREADS").asText());
    }

    @Test
    void prometheusLoadsTheRepositoryConfigAndRules() {
        String configFile = flag("prometheus", "--config.file");
        Map<String, String> binds = new HashMap<>();
        mounts("prometheus").stream().filter(Mount::bind).forEach(m -> binds.put(m.target(), m.repoPath()));
        assertEquals("prometheus/prometheus.yml", binds.get(configFile));
        JsonNode config = Repo.yamlFile("prometheus/prometheus.yml");
        String configDir = configFile.substring(0, configFile.lastIndexOf('/'));
        for (JsonNode rule : config.path("rule_files")) {
            String inContainer = configDir + "/" + rule.asText();
            String repoPath = binds.entrySet().stream().filter(b -> inContainer.startsWith(b.getKey() + "/"))
                    .map(b -> b.getValue() + inContainer.substring(b.getKey().length())).findFirst()
                    .orElseThrow(() -> new AssertionError("rule file " + inContainer + " is not mounted"));
            assertTrue(Files.exists(Repo.path(repoPath)), inContainer + " is " + repoPath + ", which is missing");
        }
        assertEquals(configFile, "/etc/prometheus/prometheus.yml");
    }

    @Test
    void prometheusScrapeTargetsAreComposeServices() {
        List<String> targets = new ArrayList<>();
        Repo.yamlFile("prometheus/prometheus.yml").path("scrape_configs").forEach(job -> job.path("static_configs")
                .forEach(sc -> sc.path("targets").forEach(t -> targets.add(t.asText()))));
        assertTrue(targets.contains("analyzer:9464"), "Prometheus scrapes the analyzer: " + targets);
        for (String t : targets) {
            String service = t.substring(0, t.indexOf(':'));
            int port = Integer.parseInt(t.substring(t.indexOf(':') + 1));
            assertTrue(services.has(service), "scrape target " + t + " is a compose service");
            assertTrue(ports(service).containsKey(port), "service " + service + " listens on " + port);
        }
        Assumptions.assumeTrue(targets.contains("trainer:9465"), "prometheus/prometheus.yml does not scrape the "
                + "trainer (trainer:9465) yet: its metrics are not collected");
    }

    @Test
    void prometheusSendsAlertsToAlertmanager() {
        JsonNode alerting = Repo.yamlFile("prometheus/prometheus.yml").path("alerting");
        Assumptions.assumeFalse(alerting.isMissingNode(), "prometheus/prometheus.yml has no alerting section yet: "
                + "Prometheus evaluates the rules but sends no alert to alertmanager:9093");
        List<String> targets = new ArrayList<>();
        alerting.path("alertmanagers").forEach(am -> am.path("static_configs")
                .forEach(sc -> sc.path("targets").forEach(t -> targets.add(t.asText()))));
        assertEquals(List.of("alertmanager:9093"), targets);
    }

    @Test
    void alertmanagerLoadsTheRepositoryConfig() {
        String configFile = flag("alertmanager", "--config.file");
        assertTrue(mounts("alertmanager").stream().anyMatch(m -> m.bind() && m.target().equals(configFile)
                && m.repoPath().equals("alertmanager/alertmanager.yml")), "alertmanager.yml is mounted at " + configFile);
        assertNotNull(volumes.get("alertmanager-data"));
    }
}

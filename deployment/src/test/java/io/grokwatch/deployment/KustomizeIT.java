package io.grokwatch.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kubectl kustomize k8s/} renders, every object reads strictly as its kind in the fabric8 model, and
 * the objects agree with each other, with the images, with the CLI and with the Prometheus configuration.
 */
class KustomizeIT {
    private static final String NAMESPACE = "grokwatch";
    private static List<JsonNode> documents;
    private static List<HasMetadata> objects;

    @BeforeAll
    static void render() throws Exception {
        Tools.Result r = Tools.run("kubernetes-client", List.of("kubectl", "kustomize", "k8s/"));
        assertEquals(0, r.exitCode(), "kustomize failed (k8s/kustomization.yaml needs kustomize >= v4, as in "
                + "kubectl >= 1.21):\n" + r.describe());
        documents = Repo.yamlDocuments(r.stdout());
        objects = documents.stream().map(KubeObjects::read).toList();
    }

    private static <T extends HasMetadata> List<T> all(Class<T> kind) {
        return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    private static <T extends HasMetadata> T named(Class<T> kind, String name) {
        List<T> found = all(kind).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
        assertEquals(1, found.size(), "one " + kind.getSimpleName() + " " + name + " in the rendered base");
        return found.get(0);
    }

    /** The generated ConfigMap of that base name (kustomize appends a content hash). */
    private static ConfigMap config() {
        List<ConfigMap> found = all(ConfigMap.class).stream()
                .filter(c -> c.getMetadata().getName().startsWith("grokwatch-config-")).toList();
        assertEquals(1, found.size(), "one grokwatch-config ConfigMap");
        return found.get(0);
    }

    @Test
    void everyObjectReadsAsItsKindInTheNamespace() {
        Map<String, Long> kinds = objects.stream().collect(Collectors.groupingBy(HasMetadata::getKind,
                TreeMap::new, Collectors.counting()));
        assertEquals(Map.ofEntries(Map.entry("AlertmanagerConfig", 1L), Map.entry("ConfigMap", 3L),
                Map.entry("Deployment", 2L), Map.entry("Job", 1L), Map.entry("Namespace", 1L),
                Map.entry("NetworkPolicy", 3L), Map.entry("PodDisruptionBudget", 1L), Map.entry("PrometheusRule", 1L),
                Map.entry("Secret", 1L), Map.entry("Service", 3L), Map.entry("ServiceMonitor", 1L)), kinds);
        assertEquals(NAMESPACE, named(io.fabric8.kubernetes.api.model.Namespace.class, NAMESPACE).getMetadata().getName());
        for (HasMetadata o : objects) {
            if (!o.getKind().equals("Namespace")) {
                assertEquals(NAMESPACE, o.getMetadata().getNamespace(), o.getKind() + " " + o.getMetadata().getName());
            }
            assertEquals("grokwatch", o.getMetadata().getLabels().get("app.kubernetes.io/part-of"),
                    o.getKind() + " " + o.getMetadata().getName() + " is labelled part-of grokwatch");
        }
    }

    @Test
    void analyzerDeployment() {
        Deployment d = named(Deployment.class, "grokwatch-analyzer");
        PodTemplateSpec pod = d.getSpec().getTemplate();
        assertEquals(d.getSpec().getSelector().getMatchLabels(), subset(pod.getMetadata().getLabels(),
                d.getSpec().getSelector().getMatchLabels().keySet()), "the selector selects the pod template");
        int partitions = Integer.parseInt(config().getData().get("TOPIC_PARTITIONS"));
        assertTrue(d.getSpec().getReplicas() >= 1 && d.getSpec().getReplicas() <= partitions,
                "replicas <= partitions of the checkpoint topic");

        Container c = onlyContainer(pod);
        assertEquals("grokwatch/analyzer:" + Repo.projectVersion(), c.getImage());
        CommandLine.ParseResult parsed = CliArgs.parse("k8s analyzer", entrypointSubcommand("analyzer"), expand(c));
        assertEquals(config().getData().get("KAFKA_BOOTSTRAP_SERVERS"), CliArgs.optionValue(parsed, "--bootstrap-servers"));
        assertEquals(partitions, CliArgs.optionValue(parsed, "--partitions"));
        int port = (Integer) CliArgs.optionValue(parsed, "--metrics-port");
        assertEquals(9464, port);
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--metrics-host"), "reachable by the kubelet's probes");
        assertEquals(port, containerPort(c, "metrics").getContainerPort());

        assertProbe(c, c.getLivenessProbe(), "/healthz", port, "liveness");
        assertProbe(c, c.getStartupProbe(), "/healthz", port, "startup");
        assertProbe(c, c.getReadinessProbe(), "/readyz", port, "readiness");

        assertCommonContainerSettings("analyzer", pod, c);
        Map<String, EnvVar> env = env(c);
        for (String key : List.of("GROKWATCH_WEBHOOK_URLS", "GROKWATCH_WEBHOOK_SECRET")) {
            var ref = env.get(key).getValueFrom().getSecretKeyRef();
            assertNotNull(ref, key + " comes from the webhook Secret");
            assertTrue(ref.getName().startsWith("grokwatch-webhook-"), key + " from " + ref.getName());
            assertEquals(key, ref.getKey());
            assertTrue(ref.getOptional(), key + " is optional: no webhook configured means none is sent");
        }
    }

    @Test
    void trainerJob() {
        Job job = named(Job.class, "grokwatch-trainer-demo");
        PodTemplateSpec pod = job.getSpec().getTemplate();
        assertEquals("Never", pod.getSpec().getRestartPolicy());
        Container c = onlyContainer(pod);
        assertEquals("grokwatch/trainer:" + Repo.projectVersion(), c.getImage());
        CommandLine.ParseResult parsed = CliArgs.parse("k8s trainer", entrypointSubcommand("trainer"), expand(c));
        assertEquals("modular-addition", CliArgs.optionValue(parsed, "--task"));
        assertEquals(29, CliArgs.optionValue(parsed, "--p"));
        assertEquals(config().getData().get("KAFKA_BOOTSTRAP_SERVERS"), CliArgs.optionValue(parsed, "--bootstrap-servers"));
        assertEquals(Short.valueOf(config().getData().get("TOPIC_REPLICATION")), CliArgs.optionValue(parsed, "--replication"));
        int port = containerPort(c, "metrics").getContainerPort();
        assertEquals(9465, port);
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--metrics-host"), "reachable by the kubelet's probes");
        Object trainerPort = CliArgs.optionValue(parsed, "--metrics-port");
        if (trainerPort != null) {
            assertEquals(port, trainerPort, "the trainer serves its metrics on the container's metrics port");
        }
        assertProbe(c, c.getReadinessProbe(), "/readyz", port, "readiness");
        assertCommonContainerSettings("trainer", pod, c);
    }

    private static void assertCommonContainerSettings(String service, PodTemplateSpec pod, Container c) {
        assertEquals("1", env(c).get("OPENBLAS_NUM_THREADS").getValue(), service + ": OPENBLAS_NUM_THREADS=1");
        assertNotNull(c.getResources().getRequests().get("cpu"), service + ": cpu request");
        assertNotNull(c.getResources().getRequests().get("memory"), service + ": memory request");
        assertNotNull(c.getResources().getLimits().get("memory"), service + ": memory limit");
        assertTrue(pod.getSpec().getSecurityContext().getRunAsNonRoot(), service + ": runAsNonRoot");
        String dockerUser = DockerfilesTest.dockerfile(service).finalStage().last("USER").orElseThrow().args();
        assertEquals(dockerUser, pod.getSpec().getSecurityContext().getRunAsUser() + ":"
                + pod.getSpec().getSecurityContext().getRunAsGroup(), service + ": the image's user");
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem(), service + ": read-only root");
        Set<String> mounts = c.getVolumeMounts().stream().map(m -> m.getMountPath()).collect(Collectors.toSet());
        // JavaCPP unpacks natives under /tmp (the image's -Dorg.bytedeco.javacpp.cachedir), the CLI works in
        // its WORKDIR: both must be writable under a read-only root.
        assertTrue(mounts.containsAll(Set.of("/tmp", "/var/lib/grokwatch")), service + ": writable mounts " + mounts);
        for (EnvVar e : c.getEnv()) {
            if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
                var ref = e.getValueFrom().getConfigMapKeyRef();
                assertEquals(config().getMetadata().getName(), ref.getName(), e.getName());
                assertTrue(config().getData().containsKey(ref.getKey()), e.getName() + ": key " + ref.getKey());
            }
            if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                String name = e.getValueFrom().getSecretKeyRef().getName();
                assertTrue(all(Secret.class).stream().anyMatch(s -> s.getMetadata().getName().equals(name)),
                        e.getName() + ": Secret " + name + " is rendered");
            }
        }
    }

    @Test
    void servicesSelectTheirPodsOnTheMetricsPort() {
        Map<String, PodTemplateSpec> pods = new LinkedHashMap<>();
        pods.put("grokwatch-analyzer", named(Deployment.class, "grokwatch-analyzer").getSpec().getTemplate());
        pods.put("grokwatch-trainer", named(Job.class, "grokwatch-trainer-demo").getSpec().getTemplate());
        assertEquals(pods.keySet(), metricsServices().stream().map(s -> s.getMetadata().getName())
                .collect(Collectors.toSet()));
        pods.forEach((name, pod) -> {
            Service s = named(Service.class, name);
            Map<String, String> selector = s.getSpec().getSelector();
            assertFalse(selector.isEmpty(), name);
            assertEquals(selector, subset(pod.getMetadata().getLabels(), selector.keySet()),
                    "Service " + name + " selects its pods");
            assertEquals(1, s.getSpec().getPorts().size());
            ServicePort sp = s.getSpec().getPorts().get(0);
            assertEquals("metrics", sp.getName());
            ContainerPort cp = containerPort(onlyContainer(pod), sp.getTargetPort().getStrVal());
            assertEquals(cp.getContainerPort(), sp.getPort(), name + ": Service port = container port");
        });
    }

    /** The Services with a metrics port: every one but the webhook receiver's. */
    private static List<Service> metricsServices() {
        return all(Service.class).stream().filter(s -> !s.getMetadata().getName().equals(RECEIVER)).toList();
    }

    private static final String RECEIVER = "grokwatch-webhook-receiver";

    @Test
    void alertmanagerConfigRoutesToTheWebhookReceiverService() {
        var amc = named(io.fabric8.openshift.api.model.monitoring.v1alpha1.AlertmanagerConfig.class, "grokwatch");
        String routed = amc.getSpec().getRoute().getReceiver();
        var receiver = amc.getSpec().getReceivers().stream().filter(r -> r.getName().equals(routed)).findFirst()
                .orElseThrow(() -> new AssertionError("the route's receiver " + routed + " is declared"));
        var hook = receiver.getWebhookConfigs().get(0);
        assertEquals(true, hook.getSendResolved());
        Service s = named(Service.class, RECEIVER);
        String url = hook.getUrl();
        assertTrue(url.startsWith("http://" + RECEIVER + "." + NAMESPACE + ".svc:" + s.getSpec().getPorts().get(0)
                .getPort() + "/"), url);
        PodTemplateSpec pod = named(Deployment.class, RECEIVER).getSpec().getTemplate();
        assertEquals(s.getSpec().getSelector(), subset(pod.getMetadata().getLabels(),
                s.getSpec().getSelector().keySet()), "the Service selects the receiver's pod");
        var container = onlyContainer(pod);
        assertEquals("webhook-receiver", container.getCommand().get(container.getCommand().size() - 1));
        CommandLine.ParseResult parsed = CliArgs.parse("k8s webhook-receiver", "webhook-receiver", container.getArgs());
        assertEquals("0.0.0.0", CliArgs.optionValue(parsed, "--bind"));
        assertEquals(containerPort(container, s.getSpec().getPorts().get(0).getTargetPort().getStrVal())
                .getContainerPort(), CliArgs.optionValue(parsed, "--port"));
    }

    @Test
    void serviceMonitorScrapesBothServices() {
        ServiceMonitor sm = named(ServiceMonitor.class, "grokwatch");
        for (Service s : metricsServices()) {
            assertTrue(selects(sm.getSpec().getSelector().getMatchLabels(),
                    sm.getSpec().getSelector().getMatchExpressions(), s.getMetadata().getLabels()),
                    "the ServiceMonitor selects Service " + s.getMetadata().getName());
        }
        assertEquals(1, sm.getSpec().getEndpoints().size());
        Endpoint e = sm.getSpec().getEndpoints().get(0);
        assertEquals("/metrics", e.getPath());
        for (Service s : metricsServices()) {
            assertTrue(s.getSpec().getPorts().stream().anyMatch(p -> p.getName().equals(e.getPort())),
                    "Service " + s.getMetadata().getName() + " has the scraped port " + e.getPort());
        }
    }

    /**
     * kube-prometheus-stack's Prometheus selects ServiceMonitors and PrometheusRules by the label
     * release: RELEASE_NAME; without it neither the scrape nor the rules would reach it.
     */
    @Test
    void monitoringObjectsCarryTheKubePrometheusStackReleaseLabel() {
        for (HasMetadata o : List.<HasMetadata>of(named(ServiceMonitor.class, "grokwatch"),
                named(PrometheusRule.class, "grokwatch"))) {
            assertEquals("kube-prometheus-stack", o.getMetadata().getLabels().get("release"),
                    o.getKind() + " carries release: kube-prometheus-stack");
        }
    }

    /**
     * The heap the image's JVM takes from the limit (-XX:MaxRAMPercentage) holds a p = 113 analysis of a large
     * ONNX model (~4 GB, docs/benchmarks.md), and what is left of the limit holds the native memory beside it
     * (~1 GB measured: 4.9-5.2 GB resident with -Xmx4g); the request is the limit.
     */
    @Test
    void analyzerMemoryLimitFitsTheHeapOfAP113Analysis() {
        Container c = onlyContainer(named(Deployment.class, "grokwatch-analyzer").getSpec().getTemplate());
        long limit = Quantity.getAmountInBytes(c.getResources().getLimits().get("memory")).longValueExact();
        long request = Quantity.getAmountInBytes(c.getResources().getRequests().get("memory")).longValueExact();
        assertEquals(limit, request, "memory request = limit: the heap grows up to it");
        double percent = DockerfilesTest.dockerfile("analyzer").finalStage().last("ENTRYPOINT").orElseThrow()
                .execForm().stream().filter(a -> a.startsWith("-XX:MaxRAMPercentage="))
                .mapToDouble(a -> Double.parseDouble(a.substring(a.indexOf('=') + 1))).findFirst()
                .orElseThrow(() -> new AssertionError("the analyzer image sizes its heap by MaxRAMPercentage"));
        long heap = (long) (limit * percent / 100);
        long gib = 1L << 30;
        assertTrue(heap >= 4 * gib, "heap " + heap / (double) gib + " GiB holds a p = 113 analysis (4 GB)");
        assertTrue(limit - heap >= gib, (limit - heap) / (double) gib + " GiB beside the heap for native memory");
    }

    @Test
    void analyzerDisruptionBudgetLetsOneGoAtATime() {
        var pdb = named(io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget.class, "grokwatch-analyzer");
        Map<String, String> pod = named(Deployment.class, "grokwatch-analyzer").getSpec().getTemplate().getMetadata()
                .getLabels();
        assertTrue(selects(pdb.getSpec().getSelector().getMatchLabels(), pdb.getSpec().getSelector()
                .getMatchExpressions(), pod), "the budget covers the analyzer's pods");
        assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal());
        assertNull(pdb.getSpec().getMinAvailable(), "minAvailable would block every drain of a single replica");
    }

    /** Every pod is selected by a policy that admits its serving port, and only that port. */
    @Test
    void networkPoliciesAdmitOnlyEachPodsServingPort() {
        // Each pod with the name of the port its Service targets.
        List<Map.Entry<String, PodTemplateSpec>> pods = List.of(
                Map.entry("metrics", named(Deployment.class, "grokwatch-analyzer").getSpec().getTemplate()),
                Map.entry("metrics", named(Job.class, "grokwatch-trainer-demo").getSpec().getTemplate()),
                Map.entry("http", named(Deployment.class, RECEIVER).getSpec().getTemplate()));
        var policies = all(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class);
        pods.forEach(e -> {
            String port = e.getKey();
            PodTemplateSpec pod = e.getValue();
            String name = pod.getMetadata().getLabels().get("app.kubernetes.io/name");
            var mine = policies.stream().filter(p -> selects(p.getSpec().getPodSelector().getMatchLabels(),
                    p.getSpec().getPodSelector().getMatchExpressions(), pod.getMetadata().getLabels())).toList();
            assertEquals(1, mine.size(), name + " is selected by one NetworkPolicy");
            var spec = mine.get(0).getSpec();
            assertEquals(List.of("Ingress"), spec.getPolicyTypes(), name);
            Set<String> admitted = spec.getIngress().stream().flatMap(r -> r.getPorts().stream())
                    .map(p -> p.getPort().getStrVal()).collect(Collectors.toSet());
            assertEquals(Set.of(port), admitted, name + ": admitted ports");
            containerPort(onlyContainer(pod), port);
        });
    }

    @Test
    void prometheusRuleHasTheRulesOfPrometheusRulesFile() {
        named(PrometheusRule.class, "grokwatch");
        JsonNode rendered = documents.stream().filter(d -> d.path("kind").asText().equals("PrometheusRule"))
                .findFirst().orElseThrow();
        assertEquals(Repo.yamlFile("prometheus/rules/grokwatch-rules.yml").get("groups"), rendered.path("spec").path("groups"),
                "k8s/prometheus-rule.yaml is out of date: run k8s/sync-copies");
    }

    @Test
    void analyzerJobNameAgreesWithPrometheusAndTheRules() {
        // Under the Prometheus Operator the job label is the Service's name; in prometheus.yml the job_name.
        String service = named(Service.class, "grokwatch-analyzer").getMetadata().getName();
        JsonNode scrape = Repo.yamlFile("prometheus/prometheus.yml").path("scrape_configs");
        List<String> jobs = new ArrayList<>();
        scrape.forEach(job -> job.path("static_configs").forEach(sc -> sc.path("targets").forEach(t -> {
            if (t.asText().startsWith("analyzer:")) {
                jobs.add(job.path("job_name").asText());
            }
        })));
        assertEquals(List.of(service), jobs, "prometheus.yml scrapes the analyzer as job " + service);
        Matcher m = Pattern.compile("up\\{job=\"([^\"]+)\"}").matcher(Repo.read("prometheus/rules/grokwatch-rules.yml"));
        assertTrue(m.find(), "the rules watch up{job=...}");
        assertEquals(service, m.group(1), "AnalyzerDown watches the analyzer's job");
    }

    @Test
    void dashboardsAreConfigMapsForTheGrafanaSidecar() throws Exception {
        List<ConfigMap> dashboards = all(ConfigMap.class).stream()
                .filter(c -> "1".equals(c.getMetadata().getLabels().get("grafana_dashboard"))).toList();
        Set<String> files = new java.util.TreeSet<>();
        for (ConfigMap c : dashboards) {
            assertEquals(1, c.getData().size(), c.getMetadata().getName() + ": one dashboard per ConfigMap");
            c.getData().forEach((file, json) -> {
                files.add(file);
                assertEquals(Repo.read("k8s/dashboards/" + file), json, "ConfigMap " + c.getMetadata().getName());
                assertTrue(Repo.yaml(json).hasNonNull("title"), file + " is a dashboard (JSON with a title)");
            });
        }
        try (var list = Files.list(Repo.path("k8s/dashboards"))) {
            assertEquals(list.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(java.util.TreeSet::new)),
                    files, "every k8s/dashboards file is a ConfigMap");
        }
        assertEquals(Set.of("training-run.json", "service-health.json"), files);
    }

    @Test
    void imagesAreTheComposeImages() {
        JsonNode compose = Repo.yamlFile("docker-compose.yml").path("services");
        assertEquals(compose.path("analyzer").path("image").asText(),
                onlyContainer(named(Deployment.class, "grokwatch-analyzer").getSpec().getTemplate()).getImage());
        assertEquals(compose.path("trainer").path("image").asText(),
                onlyContainer(named(Job.class, "grokwatch-trainer-demo").getSpec().getTemplate()).getImage());
    }

    @Test
    void strimziExampleIsTheDefaultKafkaAndNotInTheBase() {
        Repo.yamlFile("k8s/kustomization.yaml").path("resources").forEach(r ->
                assertFalse(r.asText().contains("examples"), "the example is not in the base: " + r.asText()));
        Map<String, GenericKubernetesResource> byKind = new TreeMap<>();
        for (JsonNode doc : Repo.yamlDocuments(Repo.read("k8s/examples/strimzi-kafka.yaml"))) {
            GenericKubernetesResource r = Repo.YAML.convertValue(doc, GenericKubernetesResource.class);
            assertEquals("kafka.strimzi.io/v1beta2", r.getApiVersion(), r.getKind());
            byKind.put(r.getKind(), r);
        }
        assertEquals(Set.of("Kafka", "KafkaNodePool"), byKind.keySet());
        GenericKubernetesResource kafka = byKind.get("Kafka");
        GenericKubernetesResource pool = byKind.get("KafkaNodePool");
        assertEquals("enabled", kafka.getMetadata().getAnnotations().get("strimzi.io/kraft"));
        assertEquals("enabled", kafka.getMetadata().getAnnotations().get("strimzi.io/node-pools"));
        assertEquals(kafka.getMetadata().getName(), pool.getMetadata().getLabels().get("strimzi.io/cluster"));
        assertEquals(kafka.getMetadata().getNamespace(), pool.getMetadata().getNamespace());
        JsonNode poolSpec = Repo.YAML.valueToTree(pool.getAdditionalProperties().get("spec"));
        assertEquals(Set.of("controller", "broker"), Set.of(poolSpec.path("roles").get(0).asText(),
                poolSpec.path("roles").get(1).asText()), "KRaft nodes that are controllers and brokers");
        int replication = Integer.parseInt(config().getData().get("TOPIC_REPLICATION"));
        assertTrue(poolSpec.path("replicas").asInt() >= replication, "enough brokers for the topics' replication");
        JsonNode kafkaSpec = Repo.YAML.valueToTree(kafka.getAdditionalProperties().get("spec")).path("kafka");
        JsonNode plain = kafkaSpec.path("listeners").get(0);
        assertEquals("internal", plain.path("type").asText());
        assertFalse(plain.path("tls").asBoolean());
        String bootstrap = kafka.getMetadata().getName() + "-kafka-bootstrap." + kafka.getMetadata().getNamespace()
                + ".svc:" + plain.path("port").asInt();
        assertEquals(bootstrap, config().getData().get("KAFKA_BOOTSTRAP_SERVERS"),
                "grokwatch-config's default Kafka is the example's bootstrap service");
        assertEquals(16777216, kafkaSpec.path("config").path("message.max.bytes").asInt(), "16 MiB checkpoints");
    }

    // ---- helpers

    private static Container onlyContainer(PodTemplateSpec pod) {
        assertEquals(1, pod.getSpec().getContainers().size());
        return pod.getSpec().getContainers().get(0);
    }

    private static ContainerPort containerPort(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name));
    }

    private static void assertProbe(Container c, Probe probe, String path, int port, String what) {
        assertNotNull(probe, c.getName() + ": " + what + " probe");
        assertEquals(path, probe.getHttpGet().getPath(), c.getName() + ": " + what + " probe path");
        var target = probe.getHttpGet().getPort();
        int resolved = target.getStrVal() != null ? containerPort(c, target.getStrVal()).getContainerPort()
                : target.getIntVal();
        assertEquals(port, resolved, c.getName() + ": " + what + " probe port");
    }

    private static Map<String, EnvVar> env(Container c) {
        Map<String, EnvVar> env = new LinkedHashMap<>();
        c.getEnv().forEach(e -> env.put(e.getName(), e));
        return env;
    }

    /** The container's args with $(VAR) expanded from its env, as the kubelet does. */
    private static List<String> expand(Container c) {
        Map<String, String> values = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            if (e.getValue() != null) {
                values.put(e.getName(), e.getValue());
            } else if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
                values.put(e.getName(), config().getData().get(e.getValueFrom().getConfigMapKeyRef().getKey()));
            }
        }
        List<String> args = new ArrayList<>();
        Pattern var = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
        for (String arg : c.getArgs()) {
            Matcher m = var.matcher(arg);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String value = values.get(m.group(1));
                assertNotNull(value, c.getName() + ": $(" + m.group(1) + ") is not an env var with a value");
                m.appendReplacement(out, Matcher.quoteReplacement(value));
            }
            m.appendTail(out);
            args.add(out.toString());
        }
        return args;
    }

    private static String entrypointSubcommand(String service) {
        List<String> entrypoint = DockerfilesTest.dockerfile(service).finalStage().last("ENTRYPOINT").orElseThrow().execForm();
        return entrypoint.get(entrypoint.size() - 1);
    }

    private static Map<String, String> subset(Map<String, String> labels, Set<String> keys) {
        Map<String, String> out = new TreeMap<>();
        keys.forEach(k -> {
            if (labels != null && labels.containsKey(k)) {
                out.put(k, labels.get(k));
            }
        });
        return out;
    }

    private static boolean selects(Map<String, String> matchLabels, List<LabelSelectorRequirement> expressions,
            Map<String, String> labels) {
        if (matchLabels != null && !matchLabels.isEmpty()
                && !subset(labels, matchLabels.keySet()).equals(new TreeMap<>(matchLabels))) {
            return false;
        }
        for (LabelSelectorRequirement r : expressions == null ? List.<LabelSelectorRequirement>of() : expressions) {
            String value = labels.get(r.getKey());
            boolean ok = switch (r.getOperator()) {
                case "In" -> value != null && r.getValues().contains(value);
                case "NotIn" -> value == null || !r.getValues().contains(value);
                case "Exists" -> value != null;
                case "DoesNotExist" -> value == null;
                default -> throw new AssertionError("unknown selector operator " + r.getOperator());
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}

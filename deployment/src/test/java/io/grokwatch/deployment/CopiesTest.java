package io.grokwatch.deployment;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * kustomize reads no file outside k8s/, so k8s/ keeps copies of the Grafana dashboards and of the alerting
 * rules (k8s/sync-copies makes them). They must not drift from their sources.
 */
class CopiesTest {
    @ParameterizedTest
    @ValueSource(strings = {"training-run.json", "service-health.json"})
    void dashboardCopyIsByteIdentical(String file) throws Exception {
        String source = "grafana/dashboards/" + file;
        Assumptions.assumeTrue(Files.exists(Repo.path(source)), source + " does not exist in this tree yet; "
                + "k8s/dashboards/" + file + " is a placeholder until k8s/sync-copies copies it");
        assertArrayEquals(Files.readAllBytes(Repo.path(source)), Files.readAllBytes(Repo.path("k8s/dashboards/" + file)),
                "k8s/dashboards/" + file + " differs from " + source + ": run k8s/sync-copies");
    }

    @Test
    void everyGrafanaDashboardHasACopy() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(Repo.path("grafana/dashboards")),
                "grafana/dashboards does not exist in this tree yet");
        Set<String> sources;
        try (var list = Files.list(Repo.path("grafana/dashboards"))) {
            sources = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        Set<String> copies;
        try (var list = Files.list(Repo.path("k8s/dashboards"))) {
            copies = list.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(sources, copies, "k8s/dashboards holds exactly the grafana/dashboards files (add a new one to "
                + "k8s/kustomization.yaml and k8s/sync-copies)");
    }

    @Test
    void prometheusRuleHasTheGroupsOfTheRulesFile() {
        assertEquals(Repo.yamlFile("prometheus/rules/grokwatch-rules.yml").get("groups"),
                Repo.yamlFile("k8s/prometheus-rule.yaml").path("spec").path("groups"),
                "k8s/prometheus-rule.yaml differs from prometheus/rules/grokwatch-rules.yml: run k8s/sync-copies");
    }
}

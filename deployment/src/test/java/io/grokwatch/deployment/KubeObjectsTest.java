package io.grokwatch.deployment;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The strict reading that the kustomize test relies on catches what fabric8 alone would accept. */
class KubeObjectsTest {
    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              selector: {matchLabels: {a: b}}
              template:
                metadata: {labels: {a: b}}
                spec:
                  containers:
                    - name: c
                      image: i
                      %s:
                        httpGet: {path: /healthz, port: 9464}
            """;

    @Test
    void aKnownFieldReads() {
        var d = (io.fabric8.kubernetes.api.model.apps.Deployment) KubeObjects.read(Repo.yaml(DEPLOYMENT.formatted("readinessProbe")));
        assertEquals("/healthz", d.getSpec().getTemplate().getSpec().getContainers().get(0).getReadinessProbe()
                .getHttpGet().getPath());
    }

    @Test
    void aMisspeltFieldIsNamedWithItsPath() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> KubeObjects.read(Repo.yaml(DEPLOYMENT.formatted("readinesProbe"))));
        assertTrue(e.getMessage().contains("spec.template.spec.containers[0].readinesProbe"), e.getMessage());
    }

    @Test
    void aKindWithoutAModelIsAnError() {
        AssertionError e = assertThrows(AssertionError.class,
                () -> KubeObjects.read(Repo.yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")));
        assertTrue(e.getMessage().contains("v1/Pod"), e.getMessage());
    }

    @Test
    void aFieldOfTheWrongTypeIsAnError() {
        assertThrows(AssertionError.class, () -> KubeObjects.read(Repo.yaml(
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: [1]}]}\n")));
    }

    @Test
    void monitoringKindsReadStrictlyToo() {
        assertEquals(List.of("ServiceMonitor grokwatch.spec.endpoints[0].prot"),
                KubeObjects.unknownFields(KubeObjects.MODELS.get("monitoring.coreos.com/v1/ServiceMonitor").cast(
                        unchecked("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: grokwatch}\n"
                                + "spec: {endpoints: [{prot: metrics}], selector: {}}\n")), "ServiceMonitor grokwatch"));
    }

    private static Object unchecked(String yaml) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().treeToValue(Repo.yaml(yaml),
                    io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }
}

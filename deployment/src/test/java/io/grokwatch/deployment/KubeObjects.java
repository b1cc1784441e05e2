package io.grokwatch.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Kubernetes objects read into the fabric8 model of their kind. fabric8 keeps a field its model does not
 * know in the object's {@code additionalProperties} instead of failing; {@link #unknownFields} finds them,
 * so a misspelt or misplaced field (e.g. {@code readinesProbe}, a probe under the pod spec) is an error.
 */
final class KubeObjects {
    /** The kinds the deployment files may contain, by apiVersion/kind. */
    static final Map<String, Class<? extends HasMetadata>> MODELS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("batch/v1/Job", Job.class),
            Map.entry("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class),
            Map.entry("monitoring.coreos.com/v1/PrometheusRule", PrometheusRule.class),
            Map.entry("monitoring.coreos.com/v1alpha1/AlertmanagerConfig",
                    io.fabric8.openshift.api.model.monitoring.v1alpha1.AlertmanagerConfig.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class));

    private static final ObjectMapper JSON = new ObjectMapper();

    private KubeObjects() {
    }

    /** Reads one object as its kind; fails for a kind without a model or a field the model does not know. */
    static HasMetadata read(JsonNode doc) {
        String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
        Class<? extends HasMetadata> model = MODELS.get(key);
        if (model == null) {
            throw new AssertionError("no model for " + key + " (expected one of " + MODELS.keySet() + ")");
        }
        HasMetadata object;
        try {
            object = JSON.treeToValue(doc, model);
        } catch (Exception e) {
            throw new AssertionError(key + " " + doc.path("metadata").path("name").asText() + " does not read as "
                    + model.getSimpleName() + ": " + e.getMessage(), e);
        }
        List<String> unknown = unknownFields(object, key + " " + object.getMetadata().getName());
        if (!unknown.isEmpty()) {
            throw new AssertionError("fields the " + model.getSimpleName() + " model does not know: " + unknown);
        }
        return object;
    }

    /** Paths of every field kept in an additionalProperties map anywhere in the object. */
    static List<String> unknownFields(Object object, String path) {
        List<String> found = new ArrayList<>();
        walk(object, path, found);
        return found;
    }

    private static void walk(Object o, String path, List<String> found) {
        if (o == null) {
            return;
        }
        if (o instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, found));
            return;
        }
        if (o instanceof Collection<?> list) {
            int i = 0;
            for (Object item : list) {
                walk(item, path + "[" + i++ + "]", found);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
                    || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Class<?> type = m.getReturnType();
            boolean nested = type.getName().startsWith("io.fabric8.") || Map.class.isAssignableFrom(type)
                    || Collection.class.isAssignableFrom(type);
            if (!nested) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(o);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue; // computed accessors that do not apply to this object
            }
            if (m.getName().equals("getAdditionalProperties") && value instanceof Map<?, ?> extra) {
                extra.keySet().forEach(k -> found.add(path + "." + k));
            } else {
                String field = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
                walk(value, path + "." + field, found);
            }
        }
    }
}

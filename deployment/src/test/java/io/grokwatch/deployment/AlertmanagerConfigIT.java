package io.grokwatch.deployment;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** alertmanager/alertmanager.yml, checked by a real amtool (Debian's prometheus-alertmanager). */
class AlertmanagerConfigIT {
    @Test
    void amtoolAcceptsIt() throws Exception {
        Tools.Result r = Tools.run("prometheus-alertmanager",
                List.of("amtool", "check-config", "alertmanager/alertmanager.yml"));
        assertEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stdout().contains("SUCCESS"), r.describe());
    }

    @Test
    void routesGoToDeclaredReceiversAndGroupByRun() {
        JsonNode config = Repo.yamlFile("alertmanager/alertmanager.yml");
        Set<String> receivers = new HashSet<>();
        config.path("receivers").forEach(r -> receivers.add(r.path("name").asText()));
        checkRoute(config.path("route"), receivers);
        Set<String> groupBy = new HashSet<>();
        config.path("route").path("group_by").forEach(g -> groupBy.add(g.asText()));
        assertTrue(groupBy.containsAll(Set.of("alertname", "run")), "one notification per alert and run: " + groupBy);
    }

    private static void checkRoute(JsonNode route, Set<String> receivers) {
        if (route.has("receiver")) {
            assertTrue(receivers.contains(route.path("receiver").asText()), "route to undeclared receiver "
                    + route.path("receiver").asText());
        }
        route.path("routes").forEach(r -> checkRoute(r, receivers));
    }
}

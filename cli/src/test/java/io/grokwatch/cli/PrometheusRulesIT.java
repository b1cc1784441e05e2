package io.grokwatch.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Prometheus configuration and alerting rules, checked and unit-tested by a real promtool. */
class PrometheusRulesIT {
    private static final Path DIR = Path.of("..", "prometheus");

    private static String promtool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("promtool");
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed: install Debian's prometheus package "
                    + "(./run-tests does)", e);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool timed out");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }

    @Test
    void configIsValid() throws Exception {
        assertTrue(Files.exists(DIR.resolve("prometheus.yml")));
        assertTrue(promtool("check", "config", "prometheus.yml").contains("SUCCESS"));
    }

    @Test
    void rulesAreValidAndPassTheirUnitTests() throws Exception {
        assertTrue(promtool("check", "rules", "rules/grokwatch-rules.yml").contains("10 rules found"));
        assertTrue(promtool("test", "rules", "tests/grokwatch-rules.test.yml").contains("SUCCESS"));
    }
}

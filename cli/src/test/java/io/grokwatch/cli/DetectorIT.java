package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The label-free grokking-onset alert on real runs through {@code grokwatch experiment}: it fires no earlier
 * than 30 epochs before test accuracy first reaches 0.10 and no later than it first reaches 0.90, and never on
 * a memorisation-only control.
 */
class DetectorIT {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "p={0} alpha={1} seed={2} every {3}")
    @CsvSource({"29, 0.7, 0, 10", "23, 0.7, 1, 5", "29, 0.3, 0, 10"})
    void onsetAlertFiresInsideTheTransitionWindowAndNeverOnControls(int p, double alpha, long seed, int every)
            throws Exception {
        Path out = dir.resolve("run.json");
        int code = Main.commandLine().execute("experiment", "modular-addition", "--p", Integer.toString(p), "--alpha",
                Double.toString(alpha), "--seed", Long.toString(seed), "--every", Integer.toString(every),
                "--no-layers", "--top-k", Integer.toString(4 * (p - 1) + 2), "--out", out.toString());
        assertEquals(0, code);
        JsonNode root = JsonFiles.MAPPER.readTree(out.toFile());
        long test10 = -1;
        long test90 = -1;
        for (JsonNode c : root.get("checkpoints")) {
            double t = c.get("testAccuracy").asDouble();
            if (test10 < 0 && t >= 0.10) {
                test10 = c.get("epoch").asLong();
            }
            if (test90 < 0 && t >= 0.90) {
                test90 = c.get("epoch").asLong();
            }
        }
        long onset = -1;
        for (JsonNode a : root.get("alerts")) {
            if (a.get("type").asText().equals("grokking-onset")) {
                assertEquals(-1, onset, "fires once");
                onset = a.get("epoch").asLong();
                assertTrue(a.get("evidence").has("secondCliffSumDiff"));
            }
        }
        System.out.printf("p=%d alpha=%.1f seed=%d every %d: test >= 0.1 at %d, >= 0.9 at %d, onset alert at %d%n", p,
                alpha, seed, every, test10, test90, onset);
        if (test10 < 0) {
            assertEquals(-1, onset, "no onset alert on a run that never generalises");
        } else {
            assertTrue(onset >= test10 - 30 && onset <= test90, "onset " + onset + " outside [" + (test10 - 30) + ", "
                    + test90 + "]");
        }
    }
}

package io.grokwatch.cli;

import io.grokwatch.records.AlertRecord;
import io.grokwatch.records.Evidence;
import io.grokwatch.records.KernelSpectrum;
import io.grokwatch.records.SpectrumRecord;

import com.fasterxml.jackson.databind.JsonNode;
import io.grokwatch.ui.LivePage;
import io.grokwatch.ui.RunStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page with 100 runs of 50 checkpoints each, in chromium: how long it takes to load, and that it stays live
 * (a new checkpoint of the shown run reaches the page) while the others keep changing.
 */
class LivePageLoadIT {
    @TempDir
    Path dir;

    static final int RUNS = 100;
    static final int CHECKPOINTS = 50;

    @Test
    void aHundredRunsLoadQuicklyAndStayLive() throws Exception {
        Path exe = Chromium.executable().orElse(null);
        Assumptions.assumeTrue(exe != null, "chromium is not installed: skipping the browser tests of the live page "
                + "(./run-tests installs Debian's chromium)");
        RunStore store = new RunStore();
        for (int r = 0; r < RUNS; r++) {
            String id = String.format("run-%03d", r);
            store.descriptor(new io.grokwatch.ui.Records.Descriptor(id, Map.of("name", "modular-addition", "p", "29")));
            for (int c = 0; c < CHECKPOINTS; c++) {
                store.spectrum(spectrum(id, 10L * c));
            }
            store.alert(new AlertRecord(id, "grokking-onset", 60, 60, 0.51, new Evidence("a load-test alert", null)));
        }
        try (LivePage server = LivePage.start("127.0.0.1", 0, store);
             Chromium chromium = Chromium.start(exe, dir);
             Chromium.Page page = chromium.open("about:blank")) {
            double[] loads = new double[5];
            for (int i = 0; i < loads.length; i++) {
                page.navigate(server.url() + "?run=run-050");
                page.waitFor("performance.getEntriesByType('navigation')[0].loadEventEnd > 0", Duration.ofSeconds(30),
                        "document.readyState");
                loads[i] = page.eval("performance.getEntriesByType('navigation')[0].loadEventEnd").asDouble();
            }
            Arrays.sort(loads);
            JsonNode counts = page.eval("({rows: document.querySelectorAll('#runs tbody tr').length, "
                    + "charts: document.querySelectorAll('#figures svg.chart').length})");
            assertEquals(RUNS, counts.get("rows").asInt(), counts.toString());
            assertTrue(counts.get("charts").asInt() >= 10, counts.toString());
            // Live: the other runs keep moving, and the shown run's next checkpoint reaches the page.
            for (int r = 0; r < RUNS; r++) {
                store.spectrum(spectrum(String.format("run-%03d", r), 10L * CHECKPOINTS));
            }
            long t0 = System.nanoTime();
            page.waitFor("document.querySelector('#runs tr[data-run=\"run-050\"]').children[2].textContent === '"
                    + 10 * CHECKPOINTS + "' && document.getElementById('figures').innerText.includes('At epoch "
                    + 10 * CHECKPOINTS + "')", Duration.ofSeconds(10), "document.getElementById('figures')"
                    + ".innerText.slice(0, 200)");
            double live = (System.nanoTime() - t0) / 1e6;
            System.out.printf("live page, %d runs x %d checkpoints: loaded in %.0f ms (median of %d; min %.0f, max "
                            + "%.0f), a new checkpoint on the page after %.0f ms (polled once a second)%n", RUNS,
                    CHECKPOINTS, loads[loads.length / 2], loads.length, loads[0], loads[loads.length - 1], live);
            assertTrue(loads[loads.length / 2] < 3000, "page load " + loads[loads.length / 2] + " ms");
        }
    }

    /** A checkpoint shaped like the analyzer's modular-addition spectrum at p = 29 (top 200, two layers). */
    private static SpectrumRecord spectrum(String runId, long epoch) {
        double grok = 1 / (1 + Math.exp(-(epoch - 80) / 8.0));
        double[] ev = new double[200];
        for (int i = 0; i < ev.length; i++) {
            ev[i] = (0.6 * grok + 0.002) * (i == 0 ? 1 : i <= 56 ? 0.05 : i <= 112 ? 0.01 : 0.001) * (1 - i * 1e-3);
        }
        Map<String, Map<String, Double>> overlaps = Map.of(
                "firstCliff", Map.of("n", 0.98, "m", 0.98, "sum", 0.01, "diff", 0.01),
                "secondCliff", Map.of("n", 0.01, "m", 0.01, "sum", 0.08 + 0.85 * grok, "diff", 0.08 + 0.8 * grok));
        KernelSpectrum layer = new KernelSpectrum(ev, overlaps, Map.of(), List.of(), 40.0, 1e-12, 0.1, null, null, null,
                null, null);
        KernelSpectrum whole = new KernelSpectrum(ev, overlaps,
                Map.of("endOfFirstCliff", 4.0 - grok, "endOfSecondCliff", 1 + 0.3 * grok),
                List.of(new KernelSpectrum.Cliff(0, 20), new KernelSpectrum.Cliff(56, 5)), 60.0, 1e-12,
                0.2 * (1 - grok), null, null, null, null, null);
        return SpectrumRecord.of(runId, epoch, epoch, new SpectrumRecord.Reported(1e-2 * Math.exp(-epoch / 50.0),
                        3.4 * (1 - grok) + 0.01, Math.min(1, epoch / 40.0), grok), whole,
                Map.of("net.0", layer, "net.3", layer), null, new SpectrumRecord.Timings(0.1, 0, 0.25, null));
    }
}

package io.grokwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page in a real browser (Debian's chromium, headless, over the DevTools protocol) against a running
 * {@code grokwatch demo}: the run list shows the run, every chart has points, the grokking-onset alert is marked on
 * every chart over training, a second run (TMS, with its feature heatmap) appears without a reload, and
 * {@code grokwatch report} writes a file that opens offline with the same figures. Skipped, saying so, where chromium
 * is not installed ({@code ./run-tests} installs it). With {@code -Dui.screenshots=DIR} it also saves the pictures of
 * the README there.
 */
class LivePageIT {
    @TempDir
    Path dir;

    /** Every chart over training: accuracy, loss, eigenvalues (whole model and two layers), overlaps, gaps, drift, rank. */
    private static final String OVER_TRAINING = "document.querySelectorAll('#figures .over-training svg.chart')";

    @Test
    void theDemoRunGrokksLiveOnThePageAndTheReportOpensOffline() throws Exception {
        Path exe = Chromium.executable().orElse(null);
        Assumptions.assumeTrue(exe != null, "chromium is not installed: skipping the browser tests of the live page "
                + "(./run-tests installs Debian's chromium)");
        Path jsonl = dir.resolve("live-1.jsonl");
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        PrintStream original = System.out;
        AtomicInteger demoCode = new AtomicInteger(-1);
        Thread demo = new Thread(() -> demoCode.set(Main.commandLine().execute("demo", "--exit-when-done",
                "--data-dir", dir.resolve("demo").toString(), "--metrics-port", "0", "--run-id", "live-1",
                "--epochs", "500", "--epoch-ms", "60", "--out", jsonl.toString())), "demo");
        System.setOut(new PrintStream(new Tee(original, console), true, StandardCharsets.UTF_8));
        try (Chromium chromium = Chromium.start(exe, dir)) {
            demo.start();
            String url = awaitLine(console, Pattern.compile("^live page: (http://127\\.0\\.0\\.1:\\d+/)$"), demo);
            String bootstrap = awaitLine(console, Pattern.compile("^broker (\\S+), analyzer running"), demo);
            try (Chromium.Page page = chromium.open(url)) {
                page.navigate(url);
                page.eval("window.loadedOnce = true");
                // The run list shows the run; the figures fill in as checkpoints are analysed.
                page.waitFor("document.querySelector('#runs tr[data-run=\"live-1\"]')", Duration.ofSeconds(120),
                        "document.querySelector('#runs').outerHTML");
                // A second run (TMS), published while the page stays open: it appears without a reload.
                Thread second = new Thread(() -> Main.commandLine().execute("train", "--task", "tms", "--epochs", "300",
                        "--checkpoint-every", "100", "--run-id", "live-tms", "--bootstrap-servers", bootstrap,
                        "--metrics-port", "-1"), "second-run");
                second.start();
                page.waitFor(OVER_TRAINING + ".length >= 8 && [..." + OVER_TRAINING + "].every(s => "
                                + "s.querySelectorAll('.alert-marker[data-type=\"grokking-onset\"]').length == 1)",
                        Duration.ofSeconds(180), "[..." + OVER_TRAINING + "].map(s => s.id + ':' + "
                                + "s.getAttribute('data-markers')).join(' ')");
                JsonNode charts = page.eval("[...document.querySelectorAll('#figures svg.chart')].map(s => "
                        + "({id: s.id, points: Number(s.getAttribute('data-points')), "
                        + "drawn: s.querySelectorAll('.series path[d^=\"M\"], rect').length, "
                        + "width: s.getBoundingClientRect().width}))");
                assertTrue(charts.size() >= 10, charts.toString()); // 8 over training, spectrum, Fourier content
                for (JsonNode c : charts) {
                    assertTrue(c.get("points").asInt() > 0 && c.get("drawn").asInt() > 0, "no data in " + c);
                    assertTrue(c.get("width").asDouble() > 200, "not laid out: " + c);
                }
                // The spectrum of a chosen checkpoint: the earliest in the chooser.
                String earliest = page.eval("(() => { const s = document.getElementById('checkpoint'); "
                        + "const o = s.options[s.options.length - 1]; s.value = o.value; "
                        + "s.dispatchEvent(new Event('change', {bubbles: true})); return o.text.split(' (')[0]; })()")
                        .asText();
                page.waitFor("[...document.querySelectorAll('#figures h3')].some(h => h.textContent.startsWith('At "
                        + earliest + "')) && document.querySelector('#figures svg[id$=\"-spectrum\"]')"
                        + ".getAttribute('data-points') > 0", Duration.ofSeconds(30),
                        "[...document.querySelectorAll('#figures h3')].map(h => h.textContent).join('; ')");
                String row = page.eval("document.querySelector('#runs tr[data-run=\"live-1\"]').innerText").asText();
                assertTrue(row.contains("modular-addition") && row.contains("p=29"), row);
                page.waitFor("document.querySelector('#runs tr[data-run=\"live-1\"]').innerText.includes('generalized')",
                        Duration.ofSeconds(120), "document.querySelector('#runs').innerText");

                page.waitFor("document.querySelector('#runs tr[data-run=\"live-tms\"]')", Duration.ofSeconds(120),
                        "document.querySelector('#runs').innerText");
                assertTrue(page.eval("window.loadedOnce === true").asBoolean(), "the page was reloaded");
                second.join(120_000);
                // A restarted process rebuilds the same runs from the topics alone.
                try (io.grokwatch.ui.LiveUi restarted = io.grokwatch.ui.LiveUi.start(bootstrap,
                        io.grokwatch.kafka.Topics.defaults(), "127.0.0.1", 0)) {
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (restarted.store().run("live-tms").map(r -> r.checkpoints().isEmpty()).orElse(true)
                            && System.nanoTime() < deadline) {
                        Thread.sleep(100);
                    }
                    io.grokwatch.ui.RunStore.RunSnapshot rebuilt = restarted.store().run("live-1").orElseThrow();
                    assertEquals("modular-addition", rebuilt.task());
                    assertTrue(rebuilt.alerts().stream().anyMatch(a -> a.type().equals("grokking-onset")),
                            rebuilt.alerts().toString());
                    assertFalse(rebuilt.checkpoints().isEmpty());
                    assertEquals("tms", restarted.store().run("live-tms").orElseThrow().task());
                }
                // Its figures, with the feature x eigenvector heatmap, by keyboard-reachable link.
                page.eval("document.querySelector('#runs a[data-run=\"live-tms\"]').click()");
                page.waitFor("document.getElementById('figures').getAttribute('data-run') === 'live-tms' && "
                        + "document.querySelector('#figures svg.heatmap')", Duration.ofSeconds(60),
                        "document.getElementById('figures').innerText.slice(0, 300)");
                assertEquals("live-tms", page.eval("document.activeElement.id === 'run-heading' && "
                        + "document.getElementById('run-heading').textContent").asText());
                assertTrue(page.eval("window.loadedOnce === true").asBoolean(), "the page was reloaded");
                screenshots(page, url, "live-1");
            }
            demo.join(300_000);
        } finally {
            System.setOut(original);
        }
        assertEquals(0, demoCode.get(), console.toString(StandardCharsets.UTF_8));

        // The report of the demo's --out file: one file, no script, nothing fetched, the same figures.
        Path report = dir.resolve("report.html");
        assertEquals(0, Main.commandLine().execute("report", "--in", jsonl.toString(), "--out", report.toString()));
        String html = Files.readString(report);
        assertFalse(html.contains("<script"), "the report has no script");
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(html).find(), "the report fetches nothing");
        try (Chromium chromium = Chromium.start(exe, dir); Chromium.Page page = chromium.open("about:blank")) {
            page.call("Network.enable", JsonFiles.object());
            page.call("Network.emulateNetworkConditions", JsonFiles.object().put("offline", true).put("latency", 0)
                    .put("downloadThroughput", -1).put("uploadThroughput", -1));
            page.navigate(report.toUri().toString());
            JsonNode r = page.eval("({charts: document.querySelectorAll('svg.chart').length, "
                    + "empty: [...document.querySelectorAll('svg.chart')].filter(s => !(s.getAttribute('data-points') > 0)).length, "
                    + "onset: document.querySelectorAll('.alert-marker[data-type=\"grokking-onset\"]').length, "
                    + "resources: performance.getEntriesByType('resource').length})");
            assertTrue(r.get("charts").asInt() >= 12, r.toString()); // + the spectra at the onset and at the end
            assertEquals(0, r.get("empty").asInt(), r.toString());
            assertTrue(r.get("onset").asInt() >= 8, r.toString());
            assertEquals(0, r.get("resources").asInt(), r.toString());
            String shots = System.getProperty("ui.screenshots");
            if (shots != null && !shots.isBlank()) {
                page.screenshot(Path.of(shots).resolve("report.png"), 1280);
            }
        }
    }

    /** With -Dui.screenshots=DIR: the page as the README shows it. */
    private static void screenshots(Chromium.Page page, String url, String run) throws Exception {
        String shots = System.getProperty("ui.screenshots");
        if (shots == null || shots.isBlank()) {
            return;
        }
        page.navigate(url + "?run=" + run);
        page.screenshot(Path.of(shots).resolve("live-page.png"), 1280);
    }

    private static String awaitLine(ByteArrayOutputStream console, Pattern p, Thread demo) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : console.toString(StandardCharsets.UTF_8).split("\n")) {
                Matcher m = p.matcher(line.strip());
                if (m.find()) {
                    return m.group(1);
                }
            }
            if (!demo.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no line matching " + p + " in:\n" + console.toString(StandardCharsets.UTF_8));
    }
}

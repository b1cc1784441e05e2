package io.grokwatch.ui;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FiguresTest {
    private static final Pattern CHART = Pattern.compile("<svg [^>]*class=\"chart[^\"]*\" id=\"([^\"]+)\"[^>]*"
            + "data-points=\"(\\d+)\"(?: data-markers=\"(\\d+)\")?");

    @Test
    void everyChartOverTrainingHasPointsAndTheAlertsMarked() {
        RunStore store = Synthetic.store(1, 30);
        String html = Figures.run(store.run("run-000").orElseThrow(), "t", null, Figures.Checkpoints.LAST, true);
        Matcher m = CHART.matcher(html);
        int charts = 0;
        while (m.find()) {
            charts++;
            assertTrue(Integer.parseInt(m.group(2)) > 0, "no points in " + m.group(1));
            if (m.group(3) != null && !m.group(1).contains("-e")) {
                assertEquals("2", m.group(3), "alerts marked on " + m.group(1));
            }
        }
        // accuracy, loss, eigenvalues x 3 kernels, overlaps, gaps, drift, rank; spectrum, Fourier content
        assertEquals(11, charts, html);
        assertTrue(html.contains("data-type=\"grokking-onset\""));
        assertTrue(html.contains("first cliff (n, m)"), "the cliffs of p = 29 shaded on the spectrum");
        assertTrue(html.contains("<select id=\"checkpoint\""), "the checkpoint chooser");
        assertTrue(html.contains("<desc id=\"t-accuracy-d\">30 checkpoints, epochs 0 to 290. Last values: train 1, "
                + "held-out 1. Alerts marked: grokking-onset at epoch 60, generalization at epoch 90.</desc>"), html);
    }

    @Test
    void theReportDrawsTheSpectrumAtTheOnsetAndAtTheEnd() {
        RunStore store = Synthetic.store(1, 30);
        String html = Pages.report(store.snapshots(), "test");
        assertTrue(html.contains("<h3>At epoch 60 (grokking-onset alert)</h3>"), html);
        assertTrue(html.contains("<h3>At epoch 290</h3>"), html);
        assertFalse(html.contains("<script"));
        assertFalse(html.contains("<select"), "no chooser in the report");
    }

    @Test
    void aTmsRunGetsItsFeatureHeatmap() {
        RunStore store = new RunStore();
        store.descriptor(new Records.Descriptor("t", Map.of("name", "tms", "features", "50")));
        store.spectrum(Synthetic.tms("t", 100, 50, 80));
        String html = Figures.run(store.run("t").orElseThrow(), "x", null, Figures.Checkpoints.LAST, false);
        assertTrue(html.contains("class=\"chart heatmap\" id=\"x-e100-heatmap\""), html);
        assertTrue(html.contains("data-points=\"4000\""), "50 features x 80 eigenvectors");
        assertTrue(html.contains("50 features recovered"), html);
        assertTrue(!html.contains("id=\"x-accuracy\""), "no accuracy chart for a run that reports none");
        assertTrue(html.contains("id=\"x-loss\"") && !html.contains("data-series=\"held-out\""), "train loss only");
    }

    @Test
    void textIsEscaped() {
        RunStore store = new RunStore();
        store.spectrum(Synthetic.modularAddition("<b>&\"", 0, 10));
        String page = Pages.live(store, null, null);
        assertFalse(page.contains("<b>&\""));
        assertTrue(page.contains("&lt;b&gt;&amp;&quot;"));
    }

    @Test
    void ticksAreRound() {
        assertEquals(java.util.List.of(0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0),
                LineChart.linearTicks(0, 1, 5));
        assertEquals("1e-4", Html.num(1e-4));
        assertEquals("1500", Html.num(1500));
        assertEquals("2.5e5", Html.num(2.5e5));
        assertEquals("0.51", Html.num(0.5100));
        assertEquals("-", Html.num(Double.NaN));
    }
}

package io.grokwatch.ui;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.grokwatch.ui.Html.esc;
import static io.grokwatch.ui.Html.num;

/** The two documents: the live page (run list, the selected run's figures, a small polling script) and the report. */
public final class Pages {
    static final String CSS = resource("page.css");
    static final String SCRIPT = resource("live.js");

    private Pages() {
    }

    /**
     * The live page as first served: the run list and the figures of {@code selected} (or the first run), drawn in
     * full so that the page shows everything without its script, which then keeps it current.
     */
    public static String live(RunStore store, String selected, Long step) {
        return live(store, selected, step, run -> Figures.run(run, "live", step, Figures.Checkpoints.LAST, true));
    }

    /** As {@link #live(RunStore, String, Long)}, with the figures of the shown run drawn by {@code figures}. */
    static String live(RunStore store, String selected, Long step,
            java.util.function.Function<RunStore.RunSnapshot, String> figures) {
        List<RunStore.RunRow> rows = store.rows();
        String runId = selected != null && store.run(selected).isPresent() ? selected
                : rows.isEmpty() ? null : rows.get(0).runId();
        RunStore.RunSnapshot run = runId == null ? null : store.run(runId).orElse(null);
        StringBuilder b = new StringBuilder(128 * 1024);
        head(b, "grokwatch: live runs");
        b.append("<a class=\"visually-hidden\" href=\"#run-heading\">Skip to the run's figures</a>"
                + "<header><h1>grokwatch</h1><p id=\"status\">").append(rows.size())
                .append(rows.size() == 1 ? " run" : " runs").append("</p></header>"
                + "<p id=\"announce\" class=\"visually-hidden\" aria-live=\"polite\"></p><main>"
                + "<section aria-labelledby=\"runs-heading\"><h2 id=\"runs-heading\">Runs</h2>");
        runTable(b, rows, runId);
        b.append("</section><section class=\"run\" aria-labelledby=\"run-heading\"><h2 id=\"run-heading\" "
                + "tabindex=\"-1\">").append(esc(runId == null ? "No run yet" : runId)).append("</h2>")
                .append("<div id=\"figures\" data-run=\"").append(esc(runId == null ? "" : runId))
                .append("\" data-version=\"").append(run == null ? -1 : run.version()).append("\">");
        if (run != null) {
            b.append(figures.apply(run));
        } else {
            b.append("<p>Waiting for the analyzer's first spectrum; this page updates by itself.</p>");
        }
        b.append("</div></section></main><footer>Spectra, alerts and run descriptors as the analyzer publishes them; "
                + "<a href=\"api/runs\">api/runs</a> has the run list as JSON, <code>report?run=ID</code> a run's "
                + "report.</footer><script>").append(SCRIPT).append("</script></body></html>");
        return b.toString();
    }

    static void runTable(StringBuilder b, List<RunStore.RunRow> rows, String selected) {
        b.append("<table id=\"runs\"><caption class=\"visually-hidden\">Runs: select one to see its figures"
                + "</caption><thead><tr><th scope=\"col\">run</th><th scope=\"col\">task</th>"
                + "<th scope=\"col\" class=\"num\">epoch</th><th scope=\"col\">phase</th><th scope=\"col\">last alert"
                + "</th><th scope=\"col\" class=\"num\">lag</th></tr></thead><tbody>");
        if (rows.isEmpty()) {
            b.append("<tr class=\"empty\"><td colspan=\"6\">No run yet.</td></tr>");
        }
        for (RunStore.RunRow r : rows) {
            b.append("<tr data-run=\"").append(esc(r.runId())).append("\" aria-current=\"")
                    .append(r.runId().equals(selected)).append("\"><th scope=\"row\"><a href=\"?run=")
                    .append(esc(java.net.URLEncoder.encode(r.runId(), StandardCharsets.UTF_8))).append("\" data-run=\"")
                    .append(esc(r.runId())).append("\">").append(esc(r.runId())).append("</a></th><td>")
                    .append(esc(r.task())).append("</td><td class=\"num\">").append(r.epoch()).append("</td><td>")
                    .append(esc(r.phase())).append("</td><td>").append(esc(r.lastAlert().isEmpty() ? "-" : r.lastAlert()))
                    .append("</td><td class=\"num\">").append(r.lagSeconds() == null ? "-"
                            : Math.round(r.lagSeconds() * 1000) + " ms").append("</td></tr>");
        }
        b.append("</tbody></table>");
    }

    /**
     * The report: one self-contained HTML file (styles inline, no script, nothing fetched) with every run's figures
     * over training and its spectrum at the grokking-onset alert and at the last checkpoint.
     *
     * @param source where the runs came from, for the report's first line
     */
    public static String report(List<RunStore.RunSnapshot> runs, String source) {
        StringBuilder b = new StringBuilder(256 * 1024);
        String title = runs.size() == 1 ? "grokwatch report: " + runs.get(0).runId() : "grokwatch report";
        head(b, title);
        b.append("<header><h1>").append(esc(title)).append("</h1><p id=\"status\">").append(runs.size())
                .append(runs.size() == 1 ? " run" : " runs").append(" from ").append(esc(source)).append("</p></header><main>");
        if (runs.size() > 1) {
            b.append("<nav aria-label=\"Runs\"><ul>");
            for (int i = 0; i < runs.size(); i++) {
                b.append("<li><a href=\"#run-").append(i).append("\">").append(esc(runs.get(i).runId()))
                        .append("</a></li>");
            }
            b.append("</ul></nav>");
        }
        for (int i = 0; i < runs.size(); i++) {
            RunStore.RunSnapshot r = runs.get(i);
            b.append("<section class=\"run\" id=\"run-").append(i).append("\" aria-labelledby=\"run-").append(i)
                    .append("-h\"><h2 id=\"run-").append(i).append("-h\">").append(esc(r.runId()))
                    .append(" <small>").append(esc(r.shortTaskLabel())).append("</small></h2>")
                    .append(Figures.run(r, "r" + i, null, Figures.Checkpoints.ONSET_AND_LAST, false))
                    .append("</section>");
        }
        b.append("</main><footer>Drawn by grokwatch report; eigenvalues of the empirical NTK as the analyzer computed "
                + "them (").append(num(RunStore.SPECTRUM_VALUES)).append(" at most per spectrum).</footer></body></html>");
        return b.toString();
    }

    private static void head(StringBuilder b, String title) {
        b.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                + "content=\"width=device-width, initial-scale=1\"><title>").append(esc(title))
                .append("</title><style>").append(CSS).append("</style></head><body>");
    }

    private static String resource(String name) {
        try (InputStream in = Pages.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package io.grokwatch.ui;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.ToDoubleFunction;

import static io.grokwatch.ui.Html.esc;
import static io.grokwatch.ui.Html.num;

/**
 * The figures of one run as an HTML fragment, shared by the live page and the report: over training (accuracy,
 * loss, top eigenvalues per kernel, cliff overlaps, gap ratios, drift, effective rank, each with the run's alerts
 * marked) and at chosen checkpoints (the spectrum with its cliffs; for modular addition the Fourier-family content
 * of the cliffs, for TMS the feature x eigenvector heatmap). Every figure has a caption, an SVG title and
 * description, and its values as a table.
 */
public final class Figures {
    /** Rows of a figure's value table; longer series are thinned evenly (the last row always stays). */
    static final int TABLE_ROWS = 30;

    private Figures() {
    }

    /** What to draw per checkpoint. */
    public enum Checkpoints {
        /** The last checkpoint only (the live page's default). */
        LAST,
        /** The checkpoint of the grokking-onset alert, if any, and the last (the report). */
        ONSET_AND_LAST
    }

    /**
     * @param prefix  makes the element ids unique when a document holds several runs
     * @param step    the checkpoint to draw the spectrum of (null: per {@code which})
     * @param chooser whether to add the live page's checkpoint chooser
     */
    public static String run(RunStore.RunSnapshot run, String prefix, Long step, Checkpoints which, boolean chooser) {
        StringBuilder b = new StringBuilder(64 * 1024);
        List<Checkpoint> cps = run.checkpoints();
        b.append("<div class=\"facts\"><dl>");
        fact(b, "task", run.taskLabel().isEmpty() ? "unknown" : run.taskLabel());
        fact(b, "checkpoints analysed", Integer.toString(cps.size()));
        run.last().ifPresent(c -> {
            fact(b, "epoch", Long.toString(c.epoch()));
            fact(b, "train / held-out accuracy", num(c.trainAccuracy()) + " / " + num(c.testAccuracy()));
        });
        fact(b, "alerts", run.alerts().isEmpty() ? "none" : String.join("; ", run.alerts().stream()
                .map(a -> a.type() + " at epoch " + a.epoch() + " (confidence " + num(a.confidence()) + ")").toList()));
        b.append("</dl></div>");
        if (cps.isEmpty()) {
            b.append("<p>No checkpoint of this run has been analysed yet.</p>");
            return b.toString();
        }
        double[] epochs = cps.stream().mapToDouble(Checkpoint::epoch).toArray();
        b.append("<h3>Over training</h3><div class=\"grid over-training\">");
        LineChart acc = chart(prefix, "accuracy", "Accuracy", "accuracy", false).yRange(0, 1)
                .series("train", epochs, values(cps, Checkpoint::trainAccuracy))
                .series("held-out", epochs, values(cps, Checkpoint::testAccuracy));
        figure(b, acc, run, true);
        LineChart loss = chart(prefix, "loss", "Loss", "loss", true)
                .series("train", epochs, values(cps, Checkpoint::trainLoss))
                .series("held-out", epochs, values(cps, Checkpoint::testLoss));
        figure(b, loss, run, true);
        for (String kernel : kernels(cps)) {
            LineChart eig = chart(prefix, "eigenvalues-" + kernel, "Top eigenvalues: " + kernelName(kernel),
                    "eigenvalue", true);
            for (int i = 0; i < RunStore.TOP_EIGENVALUES; i++) {
                final int k = i;
                eig.series("λ" + (i + 1), epochs, values(cps, c -> {
                    Checkpoint.KernelPoint p = c.kernels().get(kernel);
                    return p == null || p.eigenvalues().length <= k ? Double.NaN : p.eigenvalues()[k];
                }));
            }
            figure(b, eig, run, true);
        }
        Set<String> overlapKeys = new LinkedHashSet<>();
        for (Checkpoint c : cps) {
            c.whole().overlaps().forEach((cliff, fams) -> fams.keySet().forEach(f -> overlapKeys.add(cliff + "\u0000" + f)));
        }
        if (!overlapKeys.isEmpty()) {
            LineChart ov = chart(prefix, "overlaps", "Cliff overlaps with the feature families (whole model)",
                    "overlap", false).yRange(0, 1);
            for (String key : overlapKeys) {
                String[] cf = key.split("\u0000");
                ov.series(cliffName(cf[0]) + " · " + cf[1], epochs, values(cps, c -> {
                    Map<String, Double> f = c.whole().overlaps().get(cf[0]);
                    Double v = f == null ? null : f.get(cf[1]);
                    return v == null ? Double.NaN : v;
                }));
            }
            figure(b, ov, run, true);
        }
        Set<String> gapKeys = new LinkedHashSet<>();
        cps.forEach(c -> gapKeys.addAll(c.whole().gaps().keySet()));
        if (!gapKeys.isEmpty()) {
            LineChart gaps = chart(prefix, "gaps", "Gap ratios (whole model)", "ratio λ_i / λ_i+1", false);
            for (String g : gapKeys) {
                gaps.series(gapName(g), epochs, values(cps, c -> {
                    Double v = c.whole().gaps().get(g);
                    return v == null ? Double.NaN : v;
                }));
            }
            figure(b, gaps, run, true);
        }
        LineChart drift = chart(prefix, "drift", "Eigenspace drift from the previous checkpoint", "drift", false)
                .yRange(0, 1);
        LineChart rank = chart(prefix, "effective-rank", "Effective rank", "effective rank", false);
        for (String kernel : kernels(cps)) {
            drift.series(kernelName(kernel), epochs, values(cps, c -> kernelValue(c, kernel, Checkpoint.KernelPoint::drift)));
            rank.series(kernelName(kernel), epochs,
                    values(cps, c -> kernelValue(c, kernel, Checkpoint.KernelPoint::effectiveRank)));
        }
        figure(b, drift, run, true);
        figure(b, rank, run, true);
        b.append("</div>");

        List<Checkpoint> chosen = new ArrayList<>();
        if (step != null) {
            run.at(step).ifPresent(chosen::add);
        } else {
            if (which == Checkpoints.ONSET_AND_LAST) {
                run.alerts().stream().filter(a -> a.type().equals("grokking-onset")).findFirst()
                        .flatMap(a -> run.at(a.step())).ifPresent(chosen::add);
            }
            Checkpoint last = cps.get(cps.size() - 1);
            if (chosen.isEmpty() || chosen.get(0).step() != last.step()) {
                chosen.add(last);
            }
        }
        if (chooser) {
            b.append("<form class=\"chooser\" onsubmit=\"return false\"><label for=\"checkpoint\">Checkpoint</label> "
                    + "<select id=\"checkpoint\" name=\"step\"><option value=\"\"")
                    .append(step == null ? " selected" : "").append(">latest</option>");
            for (int i = cps.size() - 1; i >= 0; i--) {
                Checkpoint c = cps.get(i);
                b.append("<option value=\"").append(c.step()).append('"')
                        .append(step != null && chosen.get(0).step() == c.step() ? " selected" : "").append(">epoch ")
                        .append(c.epoch()).append(" (step ").append(c.step()).append(")</option>");
            }
            b.append("</select></form>");
        }
        for (Checkpoint c : chosen) {
            checkpoint(b, run, c, prefix);
        }
        return b.toString();
    }

    private static void checkpoint(StringBuilder b, RunStore.RunSnapshot run, Checkpoint c, String prefix) {
        String at = "epoch " + c.epoch();
        b.append("<h3>At ").append(esc(at)).append(run.alerts().stream().filter(a -> a.step() == c.step())
                .map(a -> " (" + a.type() + " alert)").findFirst().orElse("")).append("</h3><div class=\"grid\">");
        String id = prefix + "-e" + c.epoch();
        Checkpoint.KernelPoint w = c.whole();
        float[] ev = w.eigenvalues();
        double[] index = new double[ev.length];
        double[] value = new double[ev.length];
        for (int i = 0; i < ev.length; i++) {
            index[i] = i;
            value[i] = ev[i];
        }
        LineChart spectrum = new LineChart(id + "-spectrum", "Spectrum of the whole-model eNTK at " + at,
                "eigenvalue index", "eigenvalue", true).series("λ_i", index, value);
        Optional<Integer> p = run.modularP();
        if (p.isPresent()) {
            int q = p.get();
            spectrum.band(0.5, 2 * (q - 1) + 0.5, "first cliff (n, m)");
            spectrum.band(2 * (q - 1) + 0.5, 4 * (q - 1) + 0.5, "second cliff (sum, diff)");
        }
        for (int pos : w.cliffs()) {
            if (pos < ev.length) {
                spectrum.marker(new LineChart.Marker(pos + 0.5, "cliff after λ_" + pos, "cliff-marker", "cliff"));
            }
        }
        figure(b, spectrum, run, false);
        if (!w.overlaps().isEmpty()) {
            List<String> rows = new ArrayList<>();
            List<double[]> vals = new ArrayList<>();
            Set<String> families = new LinkedHashSet<>();
            c.kernels().values().forEach(k -> k.overlaps().values().forEach(f -> families.addAll(f.keySet())));
            List<String> cols = new ArrayList<>(families);
            c.kernels().forEach((kernel, k) -> k.overlaps().forEach((cliff, fams) -> {
                rows.add(kernelName(kernel) + ": " + cliffName(cliff));
                vals.add(cols.stream().mapToDouble(f -> fams.getOrDefault(f, Double.NaN)).toArray());
            }));
            Heatmap h = new Heatmap(id + "-fourier", "Fourier-family content of the cliff eigenvectors at " + at,
                    rows, cols, vals.toArray(new double[0][]), "Fourier family", "", 1);
            StringBuilder desc = new StringBuilder("Share of each family spanned by each cliff's eigenvectors.");
            for (int i = 0; i < rows.size(); i++) {
                desc.append(' ').append(rows.get(i)).append(':');
                for (int j = 0; j < cols.size(); j++) {
                    desc.append(' ').append(cols.get(j)).append(' ').append(num(vals.get(i)[j]));
                }
                desc.append('.');
            }
            heatFigure(b, h, desc.toString(), "Fourier-family content of the cliffs (overlap in [0, 1])");
        }
        if (w.heatmapArgmax() != null && w.heatmapMax() != null) {
            int[] arg = w.heatmapArgmax();
            int features = 0;
            for (int f : arg) {
                features = Math.max(features, f + 1);
            }
            try {
                features = Math.max(features, Integer.parseInt(run.taskParams().getOrDefault("features", "0")));
            } catch (NumberFormatException e) {
                // keep the count the heatmap shows
            }
            double[][] cells = new double[features][arg.length];
            List<String> cols = new ArrayList<>();
            for (int i = 0; i < arg.length; i++) {
                cells[arg[i]][i] = w.heatmapMax()[i];
                cols.add("u" + i);
            }
            List<String> rows = new ArrayList<>();
            for (int f = 0; f < features; f++) {
                rows.add("feature " + f);
            }
            long recovered = java.util.stream.IntStream.range(0, arg.length).filter(i -> w.heatmapMax()[i] >= 0.9)
                    .map(i -> arg[i]).distinct().count();
            heatFigure(b, new Heatmap(id + "-heatmap", "Feature x eigenvector alignment at " + at, rows, cols,
                            cells, "eigenvector", "feature", 1),
                    "Each eigenvector's best-aligned feature and its alignment |z_j . u_i|; " + recovered
                            + " features recovered (alignment >= 0.9).",
                    "Features x eigenvectors (best-aligned feature per eigenvector)");
        }
        b.append("</div>");
    }

    private static LineChart chart(String prefix, String name, String title, String yLabel, boolean log) {
        return new LineChart(prefix + "-" + Html.id(name), title, "epoch", yLabel, log);
    }

    /**
     * A chart in its figure, with its alerts marked (over training) and its values as a table; nothing when the run
     * reports none of its values (e.g. the accuracies of a TMS run).
     */
    private static void figure(StringBuilder b, LineChart chart, RunStore.RunSnapshot run, boolean overTraining) {
        if (chart.points() == 0) {
            return;
        }
        StringBuilder desc = new StringBuilder();
        if (overTraining) {
            for (RunStore.AlertMark a : run.alerts()) {
                chart.marker(new LineChart.Marker(a.epoch(), a.type() + " alert at epoch " + a.epoch(),
                        "alert-marker", a.type()));
            }
            List<Checkpoint> cps = run.checkpoints();
            desc.append(cps.size()).append(" checkpoints, epochs ").append(cps.get(0).epoch()).append(" to ")
                    .append(cps.get(cps.size() - 1).epoch()).append(". Last values:");
        } else {
            desc.append("Values:");
        }
        for (LineChart.Series s : chart.seriesList()) {
            if (overTraining) {
                double last = Double.NaN;
                for (int i = s.y().length - 1; i >= 0 && Double.isNaN(last); i--) {
                    last = s.y()[i];
                }
                desc.append(' ').append(s.name()).append(' ').append(num(last)).append(',');
            } else {
                desc.append(' ').append(s.y().length).append(" eigenvalues from ").append(num(s.y().length == 0
                        ? Double.NaN : s.y()[0])).append(" down to ")
                        .append(num(s.y().length == 0 ? Double.NaN : s.y()[s.y().length - 1])).append(',');
            }
        }
        desc.setLength(desc.length() - 1);
        desc.append('.');
        if (overTraining && !run.alerts().isEmpty()) {
            desc.append(" Alerts marked: ").append(String.join(", ", run.alerts().stream()
                    .map(a -> a.type() + " at epoch " + a.epoch()).toList())).append('.');
        }
        b.append("<figure class=\"fig\" id=\"fig-").append(esc(chart.id())).append("\"><figcaption>")
                .append(esc(chart.title())).append("</figcaption>").append(chart.svg(desc.toString()));
        table(b, chart);
        b.append("</figure>");
    }

    private static void heatFigure(StringBuilder b, Heatmap h, String desc, String caption) {
        b.append("<figure class=\"fig\"><figcaption>").append(esc(caption)).append("</figcaption>")
                .append(h.svg(desc)).append("</figure>");
    }

    private static void table(StringBuilder b, LineChart chart) {
        List<LineChart.Series> series = chart.seriesList();
        if (series.isEmpty()) {
            return;
        }
        double[] x = series.get(0).x();
        int n = x.length;
        int every = Math.max(1, (int) Math.ceil(n / (double) TABLE_ROWS));
        b.append("<details class=\"values\"><summary>Values").append(every > 1 ? " (one row in " + every + ")" : "")
                .append("</summary><table><thead><tr><th scope=\"col\">").append(esc(chart.xLabel())).append("</th>");
        for (LineChart.Series s : series) {
            b.append("<th scope=\"col\">").append(esc(s.name())).append("</th>");
        }
        b.append("</tr></thead><tbody>");
        for (int i = 0; i < n; i++) {
            if (i % every != 0 && i != n - 1) {
                continue;
            }
            b.append("<tr><th scope=\"row\">").append(num(x[i])).append("</th>");
            for (LineChart.Series s : series) {
                b.append("<td>").append(num(s.y()[i])).append("</td>");
            }
            b.append("</tr>");
        }
        b.append("</tbody></table></details>");
    }

    private static void fact(StringBuilder b, String name, String value) {
        b.append("<div><dt>").append(esc(name)).append("</dt><dd>").append(esc(value)).append("</dd></div>");
    }

    private static double[] values(List<Checkpoint> cps, ToDoubleFunction<Checkpoint> f) {
        return cps.stream().mapToDouble(f).toArray();
    }

    private static double kernelValue(Checkpoint c, String kernel, ToDoubleFunction<Checkpoint.KernelPoint> f) {
        Checkpoint.KernelPoint p = c.kernels().get(kernel);
        return p == null ? Double.NaN : f.applyAsDouble(p);
    }

    private static List<String> kernels(List<Checkpoint> cps) {
        Map<String, Boolean> k = new LinkedHashMap<>();
        cps.forEach(c -> c.kernels().keySet().forEach(n -> k.put(n, true)));
        return new ArrayList<>(k.keySet());
    }

    static String kernelName(String kernel) {
        return kernel.equals(Checkpoint.ALL) ? "whole model" : "layer " + kernel;
    }

    static String cliffName(String cliff) {
        return switch (cliff) {
            case "firstCliff" -> "first cliff";
            case "secondCliff" -> "second cliff";
            default -> cliff;
        };
    }

    static String gapName(String gap) {
        return switch (gap) {
            case "endOfFirstCliff" -> "end of first cliff";
            case "endOfSecondCliff" -> "end of second cliff";
            default -> gap;
        };
    }
}

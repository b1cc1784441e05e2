package io.grokwatch.ui;

import java.util.ArrayList;
import java.util.List;

import static io.grokwatch.ui.Html.esc;
import static io.grokwatch.ui.Html.num;
import static io.grokwatch.ui.Html.px;

/**
 * A line chart drawn as SVG on the server: series of (x, y) points on a linear or logarithmic y axis, vertical
 * markers (alerts, cliffs) and shaded bands. The same markup goes into the live page and the report; the SVG
 * carries a title and a description for screen readers, and {@code data-points} (points drawn) for tests.
 */
final class LineChart {
    static final int WIDTH = 640;
    static final int PLOT_HEIGHT = 230;
    private static final int LEFT = 62;
    private static final int RIGHT = 14;
    private static final int TOP = 30;
    private static final int AXIS = 38;
    /** Okabe-Ito colours (distinguishable with colour-vision deficiencies), paired with dash patterns. */
    static final String[] COLOURS = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
            "#999999"};
    private static final String[] DASHES = {"", "6 3", "2 3", "9 3 2 3"};
    /** Above this many points a series is drawn as a line only, without a dot per point. */
    private static final int DOTS_UP_TO = 120;

    record Series(String name, double[] x, double[] y) {
    }

    /** A vertical line at x: {@code kind} is its CSS class ({@code alert-marker}, {@code cliff-marker}). */
    record Marker(double x, String label, String kind, String type) {
    }

    record Band(double from, double to, String label) {
    }

    private final String id;
    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final boolean logY;
    private final List<Series> series = new ArrayList<>();
    private final List<Marker> markers = new ArrayList<>();
    private final List<Band> bands = new ArrayList<>();
    private double yMin = Double.NaN;
    private double yMax = Double.NaN;

    LineChart(String id, String title, String xLabel, String yLabel, boolean logY) {
        this.id = id;
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.logY = logY;
    }

    /** Adds a series; one without a single point to draw is left out (and out of the legend). */
    LineChart series(String name, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            if (drawable(x[i], y[i])) {
                series.add(new Series(name, x, y));
                break;
            }
        }
        return this;
    }

    LineChart marker(Marker m) {
        markers.add(m);
        return this;
    }

    LineChart band(double from, double to, String label) {
        bands.add(new Band(from, to, label));
        return this;
    }

    /** A fixed y range (e.g. [0, 1] for accuracies and overlaps), widened if a value falls outside. */
    LineChart yRange(double min, double max) {
        yMin = min;
        yMax = max;
        return this;
    }

    List<Series> seriesList() {
        return series;
    }

    String id() {
        return id;
    }

    String title() {
        return title;
    }

    String xLabel() {
        return xLabel;
    }

    private boolean drawable(double x, double y) {
        return Double.isFinite(x) && Double.isFinite(y) && (!logY || y > 0);
    }

    /** Points that can be drawn, over all series. */
    int points() {
        int n = 0;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                n += drawable(s.x[i], s.y[i]) ? 1 : 0;
            }
        }
        return n;
    }

    String svg(String description) {
        double x0 = Double.POSITIVE_INFINITY;
        double x1 = Double.NEGATIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY;
        double y1 = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (drawable(s.x[i], s.y[i])) {
                    x0 = Math.min(x0, s.x[i]);
                    x1 = Math.max(x1, s.x[i]);
                    double y = logY ? Math.log10(s.y[i]) : s.y[i];
                    y0 = Math.min(y0, y);
                    y1 = Math.max(y1, y);
                }
            }
        }
        for (Marker m : markers) {
            x0 = Math.min(x0, m.x);
            x1 = Math.max(x1, m.x);
        }
        if (!Double.isFinite(x0)) {
            x0 = 0;
            x1 = 1;
        } else if (x0 == x1) {
            x0 -= 1;
            x1 += 1;
        }
        if (!Double.isNaN(yMin)) {
            y0 = Math.min(Double.isFinite(y0) ? y0 : yMin, yMin);
            y1 = Math.max(Double.isFinite(y1) ? y1 : yMax, yMax);
        } else if (!Double.isFinite(y0)) {
            y0 = 0;
            y1 = 1;
        } else {
            double pad = y1 > y0 ? 0.06 * (y1 - y0) : (logY ? 0.5 : Math.max(Math.abs(y0) * 0.1, 0.5));
            y0 -= pad;
            y1 += pad;
        }
        int legendRows = legendRows();
        int height = TOP + PLOT_HEIGHT + AXIS + 18 * legendRows + 6;
        double plotW = WIDTH - LEFT - RIGHT;
        final double fx0 = x0;
        final double fx1 = x1;
        final double fy0 = y0;
        final double fy1 = y1;
        java.util.function.DoubleUnaryOperator sx = v -> LEFT + (v - fx0) / (fx1 - fx0) * plotW;
        java.util.function.DoubleUnaryOperator sy = v -> TOP + PLOT_HEIGHT - (v - fy0) / (fy1 - fy0) * PLOT_HEIGHT;

        StringBuilder b = new StringBuilder(4096);
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"").append(esc(id))
                .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" role=\"img\" aria-labelledby=\"").append(esc(id)).append("-t ").append(esc(id))
                .append("-d\" data-points=\"").append(points()).append("\" data-markers=\"")
                .append(markers.stream().filter(m -> m.kind.equals("alert-marker")).count()).append("\">");
        b.append("<title id=\"").append(esc(id)).append("-t\">").append(esc(title)).append("</title>");
        b.append("<desc id=\"").append(esc(id)).append("-d\">").append(esc(description)).append("</desc>");
        b.append("<rect class=\"plot\" x=\"").append(LEFT).append("\" y=\"").append(TOP).append("\" width=\"")
                .append(px(plotW)).append("\" height=\"").append(PLOT_HEIGHT).append("\"/>");
        for (Band band : bands) {
            double a = Math.max(LEFT, sx.applyAsDouble(band.from));
            double e = Math.min(LEFT + plotW, sx.applyAsDouble(band.to));
            if (e > a) {
                b.append("<g class=\"band\"><rect x=\"").append(px(a)).append("\" y=\"").append(TOP)
                        .append("\" width=\"").append(px(e - a)).append("\" height=\"").append(PLOT_HEIGHT)
                        .append("\"><title>").append(esc(band.label)).append("</title></rect><text x=\"")
                        .append(px((a + e) / 2)).append("\" y=\"").append(TOP + PLOT_HEIGHT - 6)
                        .append("\" text-anchor=\"middle\">").append(esc(band.label)).append("</text></g>");
            }
        }
        // Axes: ticks and grid lines.
        b.append("<g class=\"axis\" aria-hidden=\"true\">");
        for (double t : xTicks(x0, x1)) {
            double px = sx.applyAsDouble(t);
            b.append("<line class=\"grid\" x1=\"").append(px(px)).append("\" x2=\"").append(px(px)).append("\" y1=\"")
                    .append(TOP).append("\" y2=\"").append(TOP + PLOT_HEIGHT).append("\"/>");
            b.append("<text x=\"").append(px(px)).append("\" y=\"").append(TOP + PLOT_HEIGHT + 15)
                    .append("\" text-anchor=\"middle\">").append(num(t)).append("</text>");
        }
        for (double t : yTicks(y0, y1)) {
            double py = sy.applyAsDouble(t);
            b.append("<line class=\"grid\" x1=\"").append(LEFT).append("\" x2=\"").append(px(LEFT + plotW))
                    .append("\" y1=\"").append(px(py)).append("\" y2=\"").append(px(py)).append("\"/>");
            b.append("<text x=\"").append(LEFT - 5).append("\" y=\"").append(px(py + 4))
                    .append("\" text-anchor=\"end\">").append(num(logY ? Math.pow(10, t) : t)).append("</text>");
        }
        b.append("<text class=\"label\" x=\"").append(px(LEFT + plotW / 2)).append("\" y=\"")
                .append(TOP + PLOT_HEIGHT + 32).append("\" text-anchor=\"middle\">").append(esc(xLabel))
                .append("</text>");
        b.append("<text class=\"label\" transform=\"translate(13 ").append(px(TOP + PLOT_HEIGHT / 2.0))
                .append(") rotate(-90)\" text-anchor=\"middle\">").append(esc(yLabel + (logY ? " (log)" : "")))
                .append("</text></g>");
        // Series.
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            String colour = COLOURS[si % COLOURS.length];
            String dash = DASHES[(si / 2) % DASHES.length];
            StringBuilder d = new StringBuilder();
            StringBuilder dots = new StringBuilder();
            int drawn = 0;
            boolean pen = false;
            for (int i = 0; i < s.x.length; i++) {
                if (!drawable(s.x[i], s.y[i])) {
                    pen = false;
                    continue;
                }
                drawn++;
                double px = sx.applyAsDouble(s.x[i]);
                double py = sy.applyAsDouble(logY ? Math.log10(s.y[i]) : s.y[i]);
                d.append(pen ? 'L' : 'M').append(px(px)).append(' ').append(px(py));
                pen = true;
                dots.append("<circle cx=\"").append(px(px)).append("\" cy=\"").append(px(py)).append("\" r=\"2.4\"/>");
            }
            b.append("<g class=\"series\" data-series=\"").append(esc(s.name)).append("\" data-points=\"")
                    .append(drawn).append("\" stroke=\"").append(colour).append("\" fill=\"").append(colour)
                    .append("\"><path fill=\"none\" d=\"").append(d).append('"')
                    .append(dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"").append("/>");
            if (drawn <= DOTS_UP_TO) {
                b.append(dots);
            }
            b.append("</g>");
        }
        // Markers over the series.
        int alertIndex = 0;
        for (Marker m : markers) {
            double px = sx.applyAsDouble(m.x);
            boolean alert = m.kind.equals("alert-marker");
            b.append("<g class=\"").append(esc(m.kind)).append("\" data-type=\"").append(esc(m.type))
                    .append("\" data-x=\"").append(num(m.x)).append("\"><title>").append(esc(m.label))
                    .append("</title><line x1=\"").append(px(px)).append("\" x2=\"").append(px(px)).append("\" y1=\"")
                    .append(TOP).append("\" y2=\"").append(TOP + PLOT_HEIGHT).append("\"/>");
            if (alert) {
                int row = alertIndex++ % 2;
                b.append("<text x=\"").append(px(px)).append("\" y=\"").append(TOP - 17 + 11 * row)
                        .append("\" text-anchor=\"").append(px > LEFT + plotW * 0.8 ? "end" : "middle").append("\">")
                        .append(esc(shortLabel(m.type))).append("</text>");
            }
            b.append("</g>");
        }
        legend(b, TOP + PLOT_HEIGHT + AXIS + 6);
        b.append("</svg>");
        return b.toString();
    }

    private static String shortLabel(String type) {
        return switch (type) {
            case "grokking-onset" -> "onset";
            case "grokking-onset-general" -> "onset (general)";
            case "generalization" -> "generalization";
            case "spectral-gap" -> "gap";
            default -> type;
        };
    }

    private int legendWidth(Series s) {
        return 34 + 7 * s.name.length();
    }

    private int legendRows() {
        if (series.size() <= 1) {
            return series.isEmpty() ? 0 : 1;
        }
        int rows = 1;
        int x = LEFT;
        for (Series s : series) {
            int w = legendWidth(s);
            if (x + w > WIDTH && x > LEFT) {
                rows++;
                x = LEFT;
            }
            x += w;
        }
        return rows;
    }

    private void legend(StringBuilder b, int top) {
        b.append("<g class=\"legend\">");
        int x = LEFT;
        int y = top;
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            int w = legendWidth(s);
            if (x + w > WIDTH && x > LEFT) {
                x = LEFT;
                y += 18;
            }
            String dash = DASHES[(si / 2) % DASHES.length];
            b.append("<line x1=\"").append(x).append("\" x2=\"").append(x + 22).append("\" y1=\"").append(y + 5)
                    .append("\" y2=\"").append(y + 5).append("\" stroke=\"").append(COLOURS[si % COLOURS.length])
                    .append('"').append(dash.isEmpty() ? "" : " stroke-dasharray=\"" + dash + "\"")
                    .append("/><text x=\"").append(x + 27).append("\" y=\"").append(y + 9).append("\">")
                    .append(esc(s.name)).append("</text>");
            x += w;
        }
        b.append("</g>");
    }

    private static List<Double> xTicks(double lo, double hi) {
        return linearTicks(lo, hi, 6);
    }

    private List<Double> yTicks(double lo, double hi) {
        if (!logY) {
            return linearTicks(lo, hi, 5);
        }
        List<Double> t = new ArrayList<>();
        int step = Math.max(1, (int) Math.ceil((Math.floor(hi) - Math.ceil(lo) + 1) / 6.0));
        for (double e = Math.ceil(lo); e <= hi; e += step) {
            t.add(e);
        }
        if (t.size() >= 2) {
            return t;
        }
        // Less than a decade: plain ticks between the values, placed on the log axis.
        List<Double> lin = new ArrayList<>();
        for (double v : linearTicks(Math.pow(10, lo), Math.pow(10, hi), 4)) {
            if (v > 0) {
                lin.add(Math.log10(v));
            }
        }
        return lin;
    }

    static List<Double> linearTicks(double lo, double hi, int n) {
        List<Double> t = new ArrayList<>();
        if (!(hi > lo)) {
            return t;
        }
        double raw = (hi - lo) / n;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / mag;
        double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
        for (double v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
            t.add(Math.abs(v) < step * 1e-9 ? 0 : v);
        }
        return t;
    }
}

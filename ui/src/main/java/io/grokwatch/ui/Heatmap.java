package io.grokwatch.ui;

import java.util.List;
import java.util.Locale;

import static io.grokwatch.ui.Html.esc;
import static io.grokwatch.ui.Html.num;
import static io.grokwatch.ui.Html.px;

/**
 * A matrix of values in [0, max] drawn as coloured cells (white to dark blue), rows top to bottom, with a colour
 * scale; each cell says its row, column and value on hover and to screen readers that read SVG titles.
 */
final class Heatmap {
    private static final int RIGHT = 60;
    private static final int TOP = 10;
    private static final int BOTTOM = 40;

    private final String id;
    private final String title;
    private final List<String> rows;
    private final List<String> cols;
    private final double[][] values;
    private final String xLabel;
    private final String yLabel;
    private final double max;

    Heatmap(String id, String title, List<String> rows, List<String> cols, double[][] values, String xLabel,
            String yLabel, double max) {
        this.id = id;
        this.title = title;
        this.rows = rows;
        this.cols = cols;
        this.values = values;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.max = max;
    }

    static String colour(double t) {
        double u = Double.isFinite(t) ? Math.max(0, Math.min(1, t)) : 0;
        int r = (int) Math.round(255 + (8 - 255) * u);
        int g = (int) Math.round(255 + (48 - 255) * u);
        int b = (int) Math.round(255 + (107 - 255) * u);
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, b);
    }

    String svg(String description) {
        int width = LineChart.WIDTH;
        int longest = rows.stream().mapToInt(String::length).max().orElse(0);
        int left = Math.min(260, 24 + 6 * longest);
        double plotW = width - left - RIGHT;
        double cw = plotW / Math.max(1, cols.size());
        double ch = Math.max(4, Math.min(30, 300.0 / Math.max(1, rows.size())));
        double plotH = ch * rows.size();
        int height = (int) Math.ceil(TOP + plotH + BOTTOM);
        boolean labelled = cw >= 34 && ch >= 16;
        StringBuilder b = new StringBuilder(8192);
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart heatmap\" id=\"").append(esc(id))
                .append("\" viewBox=\"0 0 ").append(width).append(' ').append(height)
                .append("\" role=\"img\" aria-labelledby=\"").append(esc(id)).append("-t ").append(esc(id))
                .append("-d\" data-points=\"").append(rows.size() * cols.size()).append("\">");
        b.append("<title id=\"").append(esc(id)).append("-t\">").append(esc(title)).append("</title>");
        b.append("<desc id=\"").append(esc(id)).append("-d\">").append(esc(description)).append("</desc>");
        int rowEvery = Math.max(1, (int) Math.ceil(rows.size() * 12.0 / plotH));
        int colEvery = Math.max(1, (int) Math.ceil(cols.size() * 40.0 / plotW));
        for (int i = 0; i < rows.size(); i++) {
            double y = TOP + i * ch;
            if (i % rowEvery == 0) {
                b.append("<text class=\"tick\" x=\"").append(left - 5).append("\" y=\"").append(px(y + ch / 2 + 4))
                        .append("\" text-anchor=\"end\">").append(esc(rows.get(i))).append("</text>");
            }
            for (int j = 0; j < cols.size(); j++) {
                double v = values[i][j];
                double x = left + j * cw;
                b.append("<rect x=\"").append(px(x)).append("\" y=\"").append(px(y)).append("\" width=\"")
                        .append(px(cw + 0.3)).append("\" height=\"").append(px(ch + 0.3)).append("\" fill=\"")
                        .append(colour(v / max)).append("\"><title>").append(esc(rows.get(i))).append(", ")
                        .append(esc(cols.get(j))).append(": ").append(num(v)).append("</title></rect>");
                if (labelled) {
                    b.append("<text class=\"cell\" x=\"").append(px(x + cw / 2)).append("\" y=\"")
                            .append(px(y + ch / 2 + 4)).append("\" text-anchor=\"middle\" fill=\"")
                            .append(v / max > 0.55 ? "#fff" : "#000").append("\">").append(num(v)).append("</text>");
                }
            }
        }
        for (int j = 0; j < cols.size(); j += colEvery) {
            b.append("<text class=\"tick\" x=\"").append(px(left + (j + 0.5) * cw)).append("\" y=\"")
                    .append(px(TOP + plotH + 14)).append("\" text-anchor=\"middle\">").append(esc(cols.get(j)))
                    .append("</text>");
        }
        b.append("<text class=\"label\" x=\"").append(px(left + plotW / 2)).append("\" y=\"")
                .append(px(TOP + plotH + 32)).append("\" text-anchor=\"middle\">").append(esc(xLabel)).append("</text>");
        b.append("<text class=\"label\" transform=\"translate(13 ").append(px(TOP + plotH / 2))
                .append(") rotate(-90)\" text-anchor=\"middle\">").append(esc(yLabel)).append("</text>");
        // Colour scale.
        double sx = width - RIGHT + 14;
        double steps = 10;
        for (int k = 0; k < steps; k++) {
            b.append("<rect x=\"").append(px(sx)).append("\" y=\"").append(px(TOP + plotH * k / steps))
                    .append("\" width=\"12\" height=\"").append(px(plotH / steps + 0.3)).append("\" fill=\"")
                    .append(colour(1 - (k + 0.5) / steps)).append("\"/>");
        }
        b.append("<text class=\"tick\" x=\"").append(px(sx + 16)).append("\" y=\"").append(TOP + 9).append("\">")
                .append(num(max)).append("</text><text class=\"tick\" x=\"").append(px(sx + 16)).append("\" y=\"")
                .append(px(TOP + plotH)).append("\">0</text>");
        b.append("</svg>");
        return b.toString();
    }
}

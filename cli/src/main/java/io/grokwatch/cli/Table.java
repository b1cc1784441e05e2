package io.grokwatch.cli;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table with right-aligned columns, for the summaries commands print at the end. */
final class Table {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    Table(String... header) {
        this.header = List.of(header);
    }

    Table row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + header.size()
                    + " columns");
        }
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(c instanceof Double d ? fmt(d) : String.valueOf(c));
        }
        rows.add(r);
        return this;
    }

    static String fmt(double d) {
        if (Double.isNaN(d)) {
            return "-";
        }
        double a = Math.abs(d);
        if (a != 0 && (a < 1e-3 || a >= 1e5)) {
            return String.format("%.3e", d);
        }
        return String.format("%.4f", d);
    }

    String render() {
        int[] w = new int[header.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = header.get(i).length();
            for (List<String> r : rows) {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        appendRow(sb, header, w);
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
        }
        sb.append('\n');
        for (List<String> r : rows) {
            appendRow(sb, r, w);
        }
        return sb.toString();
    }

    private static void appendRow(StringBuilder sb, List<String> cells, int[] w) {
        for (int i = 0; i < w.length; i++) {
            String c = cells.get(i);
            sb.append(i == 0 ? "" : "  ").append(" ".repeat(w[i] - c.length())).append(c);
        }
        sb.append('\n');
    }
}

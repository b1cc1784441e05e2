package io.grokwatch.cli;

import java.io.PrintStream;
import java.time.Duration;

/**
 * A one-line console progress bar on stderr: redrawn in place on a terminal, printed at most every 10% when
 * the output is a file or a pipe (so CI logs stay readable).
 */
final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final long total;
    private final boolean interactive;
    private final long started = System.nanoTime();
    private int lastDecile = -1;
    private long lastDraw;
    private boolean closed;

    ProgressBar(String label, long total) {
        this(System.err, label, total, System.console() != null);
    }

    ProgressBar(PrintStream out, String label, long total, boolean interactive) {
        if (total <= 0) {
            throw new IllegalArgumentException("progress total must be positive, got " + total);
        }
        this.out = out;
        this.label = label;
        this.total = total;
        this.interactive = interactive;
    }

    /** Reports {@code done} of {@code total} units with a short status text. */
    void update(long done, String status) {
        long now = System.nanoTime();
        double frac = Math.min(1.0, Math.max(0.0, (double) done / total));
        if (interactive) {
            if (now - lastDraw < 50_000_000L && done < total) {
                return;
            }
            lastDraw = now;
            out.print("\r" + line(done, frac, status, now) + "\u001b[K");
            out.flush();
        } else {
            int decile = (int) Math.floor(frac * 10);
            if (decile > lastDecile) {
                lastDecile = decile;
                out.println(line(done, frac, status, now));
            }
        }
    }

    private String line(long done, double frac, String status, long now) {
        int filled = (int) Math.round(frac * WIDTH);
        String bar = "#".repeat(filled) + "-".repeat(WIDTH - filled);
        double elapsed = (now - started) / 1e9;
        String eta = frac > 0 && frac < 1 ? " eta " + format(elapsed * (1 - frac) / frac) : "";
        return String.format("%s [%s] %3.0f%% %d/%d %s%s%s", label, bar, frac * 100, done, total,
                format(elapsed), eta, status.isEmpty() ? "" : "  " + status);
    }

    private static String format(double seconds) {
        Duration d = Duration.ofMillis((long) (seconds * 1000));
        return d.toMinutes() > 0 ? String.format("%dm%02ds", d.toMinutes(), d.toSecondsPart())
                : String.format("%.1fs", seconds);
    }

    @Override
    public void close() {
        if (!closed && interactive) {
            out.println();
        }
        closed = true;
    }
}

"""Draws an SVG of a `grokwatch bench solver --out bench.json` file (python3 standard library only).

Usage: python3 docs/plot_bench.py bench.json out.svg
Panels: time per checkpoint of each method, case by case (median bar, min-max whisker, log scale); operator
products per wanted pair of the cold and warm Lanczos solves, against the one product per pair that any solve
certifying its residuals needs, and the count a warm solve 3x cheaper than the cold one would have to reach.
"""
import json, math, statistics, sys

import svgpage

PLOT_W, PAD_R, ROW, GROUP_GAP, PANEL_GAP = 710, 40, 15, 12, 46
# Widened in main() to the longest case label (12 px text is about 7 px a character).
W, PAD_L = 900, 190
CHAR_W = 7
METHODS = [("dense", "dense (LAPACK)", "#7f7f7f"), ("cold", "Lanczos cold", "#1f77b4"),
           ("warm", "Lanczos warm", "#ff7f0e"), ("analysis cold", "analysis cold", "#9ecae1"),
           ("analysis warm", "analysis warm", "#fdae6b")]


def cases(d):
    return [(name, rows) for name, rows in d.items() if isinstance(rows, list) and rows]  # "summary" is a dict


def warm_speedup(rows):
    """Median over checkpoints of cold time / warm time on the same checkpoint (as the bench's summary)."""
    cold = {r["checkpoint"]: r["ms"] for r in rows if r["method"] == "cold"}
    ratios = [cold[r["checkpoint"]] / r["ms"] for r in rows if r["method"] == "warm" and r["checkpoint"] in cold]
    return statistics.median(ratios) if ratios else None


def header(y, title, note):
    return [f'<text x="10" y="{y + 14}" font-size="14" font-weight="bold">{title}</text>',
            f'<text x="10" y="{y + 30}" font-size="11" fill="#555">{note}</text>']


def timings(y0, d):
    groups = []
    for name, rows in cases(d):
        bars = []
        for key, label, color in METHODS:
            ms = [r["ms"] for r in rows if r["method"] == key]
            if ms:
                bars.append((label, color, statistics.median(ms), min(ms), max(ms)))
        groups.append((rows[0]["case"], rows[0]["n"], rows[0]["k"], bars))
    values = [v for _, _, _, bars in groups for b in bars for v in b[3:]]
    lo = 10 ** math.floor(math.log10(min(values)))
    hi = 10 ** math.ceil(math.log10(max(values)))
    x0, x1 = PAD_L, W - PAD_R - 60
    fx = lambda v: x0 + (x1 - x0) * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    out = header(y0, "Time per checkpoint (median bar, min to max whisker; log scale)",
                 "Lanczos: the whole-model kernel (TMS: the flattened kernel's dual); analysis: everything a "
                 "checkpoint costs the analyzer")
    y = y0 + 44
    top = y
    for name, n, k, bars in groups:
        rows_drawn = len(bars) + (0 if any(b[0] == METHODS[0][1] for b in bars) else 1)
        out.append(f'<text x="{x0 - 8}" y="{y + ROW * rows_drawn / 2 + 4:.1f}" font-size="12" text-anchor="end">'
                   f'{name} (n={n:,}, k={k})</text>')
        if not any(b[0] == METHODS[0][1] for b in bars):
            out.append(f'<text x="{x0 + 4}" y="{y + ROW - 4}" font-size="10" font-style="italic" fill="#555">'
                       f'dense: not run (side above --dense-max-side)</text>')
            y += ROW
        for label, color, med, mn, mx in bars:
            out.append(f'<rect x="{x0}" y="{y + 2}" width="{fx(med) - x0:.1f}" height="{ROW - 4}" fill="{color}"/>')
            out.append(f'<line x1="{fx(mn):.1f}" x2="{fx(mx):.1f}" y1="{y + ROW / 2:.1f}" y2="{y + ROW / 2:.1f}" '
                       f'stroke="#333"/>')
            text = f"{med / 1000:.2f} s" if med >= 1000 else f"{med:.0f} ms"
            out.append(f'<text x="{max(fx(mx), fx(med)) + 5:.1f}" y="{y + ROW - 4}" font-size="10">{text}</text>')
            y += ROW
        y += GROUP_GAP
    e = math.log10(lo)
    while e <= math.log10(hi) + 1e-9:
        v = 10 ** e
        label = f"{v / 1000:g} s" if v >= 1000 else f"{v:g} ms"
        out.insert(0, f'<line x1="{fx(v):.1f}" x2="{fx(v):.1f}" y1="{top}" y2="{y - GROUP_GAP}" stroke="#eee"/>')
        out.append(f'<text x="{fx(v):.1f}" y="{y + 4}" font-size="10" text-anchor="middle">{label}</text>')
        e += 1
    legend_x = x0
    for _, label, color in METHODS:
        out.append(f'<rect x="{legend_x}" y="{y + 14}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{legend_x + 14}" y="{y + 23}" font-size="11">{label}</text>')
        legend_x += 20 + 7 * len(label)
    return out, y + 34


def products(y0, d):
    groups = []
    for name, rows in cases(d):
        k = rows[0]["k"]
        cold = [r["products"] / k for r in rows if r["method"] == "cold" and "products" in r]
        warm = [r["products"] / k for r in rows if r["method"] == "warm" and "products" in r]
        if cold and warm:
            gain = d.get("summary", {}).get(name, {}).get("warmSpeedup") or warm_speedup(rows)
            label = rows[0]["case"] + (f" (warm {gain:.1f}x in time)" if gain else "")
            groups.append((label, statistics.median(cold), statistics.median(warm)))
    if not groups:
        return [], y0
    hi = math.ceil(max(max(c, w) for _, c, w in groups))
    x0, x1 = PAD_L, W - PAD_R - 60
    fx = lambda v: x0 + (x1 - x0) * v / hi
    out = header(y0, "Operator products per wanted pair (median)",
                 "Any solve that certifies its residuals applies the kernel to every wanted vector at least once "
                 "(red line); a warm solve 3x cheaper than the cold one would need the dashed tick")
    y = y0 + 44
    top = y
    for name, cold, warm in groups:
        out.append(f'<text x="{x0 - 8}" y="{y + ROW + 4}" font-size="12" text-anchor="end">{name}</text>')
        for value, color in ((cold, METHODS[1][2]), (warm, METHODS[2][2])):
            out.append(f'<rect x="{x0}" y="{y + 2}" width="{fx(value) - x0:.1f}" height="{ROW - 4}" fill="{color}"/>')
            out.append(f'<text x="{fx(value) + 5:.1f}" y="{y + ROW - 4}" font-size="10">{value:.2f}</text>')
            y += ROW
        t = fx(cold / 3)
        out.append(f'<line x1="{t:.1f}" x2="{t:.1f}" y1="{y - 2 * ROW}" y2="{y}" stroke="#333" '
                   f'stroke-dasharray="3 2" stroke-width="2"/>')
        y += GROUP_GAP
    out.append(f'<line x1="{fx(1):.1f}" x2="{fx(1):.1f}" y1="{top}" y2="{y - GROUP_GAP}" stroke="#d62728" '
               f'stroke-width="2"/>')
    for v in range(0, hi + 1):
        out.insert(0, f'<line x1="{fx(v):.1f}" x2="{fx(v):.1f}" y1="{top}" y2="{y - GROUP_GAP}" stroke="#eee"/>')
        out.append(f'<text x="{fx(v):.1f}" y="{y + 4}" font-size="10" text-anchor="middle">{v}</text>')
    out.append(f'<rect x="{x0}" y="{y + 14}" width="10" height="10" fill="{METHODS[1][2]}"/>'
               f'<text x="{x0 + 14}" y="{y + 23}" font-size="11">cold</text>'
               f'<rect x="{x0 + 60}" y="{y + 14}" width="10" height="10" fill="{METHODS[2][2]}"/>'
               f'<text x="{x0 + 74}" y="{y + 23}" font-size="11">warm (from the previous checkpoint\'s basis)</text>')
    return out, y + 34


def fit_labels(d):
    """Left margin wide enough for the longest case label of either panel (window cases have long names)."""
    global W, PAD_L
    longest = max((len(f"{rows[0]['case']} (n={rows[0]['n']:,}, k={rows[0]['k']})") for _, rows in cases(d)),
                  default=0)
    longest = max(longest, max((len(rows[0]["case"]) + len(" (warm 0.0x in time)") for _, rows in cases(d)),
                               default=0))
    PAD_L = max(190, 18 + CHAR_W * longest)
    W = PAD_L + PLOT_W


def main():
    d = json.load(open(sys.argv[1]))
    fit_labels(d)
    body, y = timings(0, d)
    more, y = products(y + PANEL_GAP - 34, d)
    body += more
    machine = d.get("machine", "").split(" (")[0]
    body.append(f'<text x="10" y="{y + 10}" font-size="11" fill="#555">grokwatch bench solver on {machine}</text>')
    svgpage.write(sys.argv[2], W, y + 20, body)


if __name__ == "__main__":
    main()

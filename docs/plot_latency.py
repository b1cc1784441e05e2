"""Draws an SVG of one or more `grokwatch demo --out run.jsonl` files (python3 standard library only).

Usage: python3 docs/plot_latency.py out.svg "LABEL=run.jsonl" ["LABEL=other.jsonl" ...]
Panels, per run against its epochs: the checkpoint-to-spectrum latency, and the analyzer's load (its time per
checkpoint over the time between checkpoints, summed over the runs it serves), where above 1 the lag grows.
"""
import json, math, sys

import svgpage

W, H, PAD_L, PAD_R, PAD_T, PAD_B, GAP = 900, 210, 62, 250, 26, 34, 18
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def read(path):
    spectra = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind") == "spectrum":
                spectra.append(r)
    return spectra


def ticks(lo, hi):
    """Round values from lo to hi, 1, 2 or 5 times a power of ten apart: the finest such step with at most 6 gaps."""
    span = max(hi - lo, 1e-9)
    decade = 10 ** math.floor(math.log10(span))
    step = next(m * d for d in (decade / 10, decade) for m in (1, 2, 5) if span / (m * d) <= 6)
    t = math.floor(lo / step) * step
    out = []
    while t <= hi + 1e-9:
        out.append(t)
        t += step
    return out


def panel(y0, title, runs, value, epochs, hline=None, unit=""):
    pts = [(e, v) for _, series in runs for e, v in value(series) if v is not None]
    e0, e1 = epochs
    lo = 0.0
    hi = max([v for _, v in pts] + ([hline * 1.2] if hline else []))
    x0, x1 = PAD_L, W - PAD_R
    fx = lambda e: x0 + (x1 - x0) * (e - e0) / max(1, e1 - e0)
    fy = lambda v: y0 + PAD_T + (H - PAD_T - PAD_B) * (1 - (v - lo) / (hi - lo))
    out = [f'<text x="{x0}" y="{y0 + 16}" font-size="14" font-weight="bold">{title}</text>',
           f'<rect x="{x0}" y="{y0 + PAD_T}" width="{x1 - x0}" height="{H - PAD_T - PAD_B}" fill="none" stroke="#999"/>']
    for t in ticks(lo, hi):
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{fy(t):.1f}" y2="{fy(t):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 - 6}" y="{fy(t) + 4:.1f}" font-size="10" text-anchor="end">{t:g}{unit}</text>')
    for t in ticks(e0, e1):
        if t >= e0:
            out.append(f'<text x="{fx(t):.1f}" y="{y0 + H - PAD_B + 14}" font-size="10" text-anchor="middle">{t:g}'
                       f'</text>')
    if hline is not None:
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{fy(hline):.1f}" y2="{fy(hline):.1f}" stroke="#333" '
                   f'stroke-dasharray="5 3"/>')
    for k, (label, series) in enumerate(runs):
        c = COLORS[k % len(COLORS)]
        xy = [(fx(e), fy(v)) for e, v in value(series) if v is not None]
        # Markers first: a renderer that carries a path's pen into the next element then draws nothing extra.
        out += [f'<rect x="{x - 2.5:.1f}" y="{y - 2.5:.1f}" width="5" height="5" fill="{c}"/>' for x, y in xy]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
        out.append(f'<text x="{x1 + 10}" y="{y0 + PAD_T + 14 + 16 * k}" font-size="12" fill="{c}">{label}</text>')
    return out


def latency(series):
    return [(s["epoch"], s["timings"]["producedToResultSeconds"]) for s in series]


def load(series):
    return [(s["epoch"], s["pace"]["analyzerLoad"]) for s in series if "pace" in s]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = []
    for arg in sys.argv[2:]:
        label, _, path = arg.rpartition("=")
        runs.append((label or path, read(path)))
    epochs = [s["epoch"] for _, series in runs for s in series]
    if not epochs:
        sys.exit("no spectra in " + ", ".join(sys.argv[2:]))
    span = (min(epochs), max(epochs))
    body = panel(0, "Checkpoint-to-spectrum latency", runs, latency, span, unit=" s")
    body += panel(H + GAP, "Analyzer load (dashed: 1, above it the lag grows)", runs, load, span, hline=1.0)
    total = 2 * (H + GAP) + 24
    body.append(f'<text x="{PAD_L}" y="{total - 8}" font-size="11" fill="#555">epoch of the checkpoint; from '
                f'grokwatch demo --out (every checkpoint analysed: --backlog all)</text>')
    svgpage.write(sys.argv[1], W, total, body)


if __name__ == "__main__":
    main()

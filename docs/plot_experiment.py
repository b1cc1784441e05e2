"""Draws an SVG of a `grokwatch experiment modular-addition` JSON file (python3 standard library only).

Usage: python3 docs/plot_experiment.py ma.json out.svg
Panels: accuracy; eigenvalues lambda_0, lambda_1, lambda_56, lambda_112 (log scale); cliff overlaps; the
end-of-second-cliff gap.
"""
import json, math, sys

import svgpage

W, H, PAD_L, PAD_R, PAD_T, PAD_B, GAP = 880, 190, 62, 150, 26, 34, 18
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def panel(y0, title, series, epochs, log=False, ymin=None, ymax=None, marker=None):
    vals = [v for _, ys in series for v in ys if v is not None and (v > 0 or not log)]
    lo = min(vals) if ymin is None else ymin
    hi = max(vals) if ymax is None else ymax
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi == lo:
        hi = lo + 1
    x0, x1 = PAD_L, W - PAD_R
    e0, e1 = epochs[0], epochs[-1]
    fx = lambda e: x0 + (x1 - x0) * (e - e0) / max(1, e1 - e0)
    fy = lambda v: y0 + PAD_T + (H - PAD_T - PAD_B) * (1 - ((math.log10(v) if log else v) - lo) / (hi - lo))
    out = [f'<text x="{x0}" y="{y0 + 16}" font-size="14" font-weight="bold">{title}</text>',
           f'<rect x="{x0}" y="{y0 + PAD_T}" width="{x1 - x0}" height="{H - PAD_T - PAD_B}" fill="none" stroke="#999"/>']
    for i in range(5):
        t = lo + (hi - lo) * i / 4
        y = fy(10 ** t if log else t)
        label = f"1e{t:.1f}" if log else f"{t:.2f}"
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{label}</text>')
    for e in range(0, e1 + 1, 100 if e1 >= 300 else 50):
        out.append(f'<text x="{fx(e):.1f}" y="{y0 + H - PAD_B + 14}" font-size="10" text-anchor="middle">{e}</text>')
    if marker is not None:
        out.append(f'<line x1="{fx(marker):.1f}" x2="{fx(marker):.1f}" y1="{y0 + PAD_T}" y2="{y0 + H - PAD_B}" '
                   f'stroke="#aaa" stroke-dasharray="4 3"/>')
    for k, (name, ys) in enumerate(series):
        pts = " ".join(f"{fx(e):.1f},{fy(v):.1f}" for e, v in zip(epochs, ys) if v is not None and (v > 0 or not log))
        c = COLORS[k % len(COLORS)]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"/>')
        out.append(f'<text x="{x1 + 10}" y="{y0 + PAD_T + 14 + 16 * k}" font-size="12" fill="{c}">{name}</text>')
    return out


def main():
    d = json.load(open(sys.argv[1]))
    cps = d["checkpoints"]
    ep = [c["epoch"] for c in cps]
    p = d["config"]["p"]
    q = 2 * (p - 1)
    grok = next((c["epoch"] for c in cps if c.get("testAccuracy", 0) >= 0.5), None)
    ev = lambda i: [c["eigenvalues"][i] if len(c["eigenvalues"]) > i else None for c in cps]
    ov = lambda cl, f: [c["overlaps"][cl][f] for c in cps]
    panels = [
        ("Accuracy", [("train", [c["trainAccuracy"] for c in cps]), ("test", [c["testAccuracy"] for c in cps])],
         dict(ymin=0, ymax=1)),
        ("eNTK eigenvalues (whole model, log scale)",
         [("lambda_0", ev(0)), ("lambda_1", ev(1)), (f"lambda_{q}", ev(q)), (f"lambda_{2 * q}", ev(2 * q))],
         dict(log=True)),
        ("Cliff overlaps with Fourier families",
         [("1st cliff: n", ov("firstCliff", "n")), ("1st cliff: m", ov("firstCliff", "m")),
          ("2nd cliff: sum", ov("secondCliff", "sum")), ("2nd cliff: diff", ov("secondCliff", "diff"))],
         dict(ymin=0, ymax=1)),
        (f"Gap at the end of the 2nd cliff (lambda_{2 * q} / lambda_{2 * q + 1})",
         [("gap", [c["gaps"]["endOfSecondCliff"] for c in cps])], dict()),
    ]
    total = len(panels) * (H + GAP) + 30
    body = []
    for i, (title, series, kw) in enumerate(panels):
        body += panel(i * (H + GAP), title, series, ep, marker=grok, **kw)
    body.append(f'<text x="{PAD_L}" y="{total - 8}" font-size="11" fill="#555">epoch (dashed line: test accuracy '
                f'first >= 0.5); modular addition p={p}, H={d["config"]["width"]}, alpha={d["config"]["alpha"]}, '
                f'seed {d["config"]["seed"]}</text>')
    svgpage.write(sys.argv[2], W, total, body)


if __name__ == "__main__":
    main()

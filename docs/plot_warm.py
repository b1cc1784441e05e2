"""Draws an SVG of what a warm start gains against how far it starts from the answer, from one or more
`grokwatch bench solver --out bench.json` files (python3 standard library only).

Usage: python3 docs/plot_warm.py out.svg bench.json [more.json ...]
One point per warm-started checkpoint: across, the median residual ||K v - theta v|| / theta of the previous
checkpoint's basis on this checkpoint's kernel (log scale); up, the cold solve's time (filled) and operator products
(hollow) over the warm solve's, on the same checkpoint. Windows through a run (`--train-epochs 60,300,1500`) spread the
points: the kernel moves fast at the onset of grokking and slowly once a run has settled.
"""
import json, math, sys

import svgpage

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 900, 420, 62, 200, 44, 46
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def points(d):
    """(run, window, start residual, time ratio, product ratio) per warm-started checkpoint."""
    out = []
    for key, rows in d.items():
        if not isinstance(rows, list) or not rows:
            continue  # "summary", "machine", "tolerance"
        run, _, window = rows[0]["case"].partition(" @")
        by = {}
        for r in rows:
            method = "warm" if r["method"] == "warm->cold" else r["method"]
            by[(r["checkpoint"], method)] = r
        for (checkpoint, method), prev in by.items():
            if method != "previous basis":
                continue
            cold, warm = by.get((checkpoint, "cold")), by.get((checkpoint, "warm"))
            if cold and warm and "products" in cold and "products" in warm:
                out.append((run, window, prev["medianResidual"], cold["ms"] / warm["ms"],
                            cold["products"] / warm["products"]))
    return out


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    pts, tolerance = [], None
    for path in sys.argv[2:]:
        with open(path) as f:
            d = json.load(f)
        pts += points(d)
        tolerance = tolerance or d.get("tolerance")
    if not pts:
        sys.exit("no warm-started checkpoints in " + ", ".join(sys.argv[2:]))
    runs = list(dict.fromkeys(p[0] for p in pts))
    xs = [p[2] for p in pts] + ([tolerance] if tolerance else [])
    lx0, lx1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y1 = max(4.0, math.ceil(max(max(p[3], p[4]) for p in pts) + 0.5))
    x0, x1, top, bottom = PAD_L, W - PAD_R, PAD_T, H - PAD_B
    # Smaller residuals (better starts) to the right.
    fx = lambda v: x1 - (x1 - x0) * (math.log10(v) - lx0) / max(1, lx1 - lx0)
    fy = lambda v: bottom - (bottom - top) * v / y1
    body = [f'<text x="{x0}" y="18" font-size="14" font-weight="bold">Warm start against cold, per checkpoint, by '
            f'how far the previous basis is from the new kernel</text>',
            f'<text x="{x0}" y="34" font-size="11" fill="#555">filled: time ratio (cold / warm); hollow: operator '
            f'products ratio; dashed: 1x and 3x; dotted: the solves\' residual tolerance</text>',
            f'<rect x="{x0}" y="{top}" width="{x1 - x0}" height="{bottom - top}" fill="none" stroke="#999"/>']
    for e in range(lx0, lx1 + 1):
        x = fx(10.0 ** e)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#eee"/>')
        body.append(f'<text x="{x:.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">1e{e}</text>')
    for t in range(0, int(y1) + 1):
        body.append(f'<text x="{x0 - 6}" y="{fy(t) + 4:.1f}" font-size="10" text-anchor="end">{t}x</text>')
        if t in (1, 3):
            body.append(f'<line x1="{x0}" x2="{x1}" y1="{fy(t):.1f}" y2="{fy(t):.1f}" stroke="#333" '
                        f'stroke-dasharray="5 3"/>')
    if tolerance:
        x = fx(tolerance)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#333" '
                    f'stroke-dasharray="1 3"/>')
        body.append(f'<text x="{x + 4:.1f}" y="{top + 12}" font-size="10" fill="#333">tolerance {tolerance:g}</text>')
    for k, run in enumerate(runs):
        c = COLORS[k % len(COLORS)]
        for r, window, res, time, products in pts:
            if r != run:
                continue
            x = fx(res)
            body.append(f'<circle cx="{x:.1f}" cy="{fy(time):.1f}" r="4" fill="{c}"/>')
            body.append(f'<circle cx="{x:.1f}" cy="{fy(products):.1f}" r="4" fill="none" stroke="{c}" '
                        f'stroke-width="1.5"/>')
        windows = sorted({p[1] for p in pts if p[0] == run and p[1]}, key=lambda w: int(w))
        label = run + (" (epochs " + ", ".join(windows) + ")" if windows else "")
        body.append(f'<text x="{x1 + 10}" y="{top + 14 + 18 * k}" font-size="12" fill="{c}">{label}</text>')
    body.append(f'<text x="{(x0 + x1) / 2:.0f}" y="{H - 12}" font-size="11" text-anchor="middle" fill="#555">median '
                f'residual of the previous checkpoint\'s basis on this checkpoint\'s kernel (log; better starts to the '
                f'right)</text>')
    svgpage.write(sys.argv[1], W, H, body)


if __name__ == "__main__":
    main()

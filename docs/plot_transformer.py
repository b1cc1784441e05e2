"""Draws how the example transformer's eNTK takes in the sum family while it generalises, one panel per run.

Usage: python3 docs/plot_transformer.py OUT.svg RUN.json [RUN.json ...]

Each RUN.json is written by `grokwatch experiment checkpoints ... --family-profile W --out RUN.json` on the
modular-addition token grid. Per checkpoint the panel shows test accuracy, the share of the sum family captured
by the top 2(p-1) eigenvectors (summed over the profile's bands) and by the top 14, and the effective rank, each
of the last three over its largest value in the run; vertical lines mark the alerts.
"""
import json
import sys

import svgpage

W, H, PAD = 300, 210, 36
SERIES = [("test accuracy", "#222222", None), ("sum family in top 2(p-1) / max", "#1f5fbf", None),
          ("sum family in top 14 / max", "#7fb0ef", None), ("effective rank / max", "#999999", "4 3")]


def series(run):
    ck = run["checkpoints"]
    out = {name: [] for name, _, _ in SERIES}
    for c in ck:
        prof = c["familyProfile"]
        w = prof["bandWidth"]
        bands = prof["bands"]
        # The family's dimension is p - 1; p comes from the probe spec "modular-addition:p=P,tokens".
        spec = run["probes"]
        p = int(spec.split("p=")[1].split(",")[0].split(" ")[0])
        dim = p - 1
        top = lambda k: sum(b["sum"] for b in bands[:k // w])
        e = c["epoch"]
        out["test accuracy"].append((e, c["testAccuracy"]))
        out["sum family in top 2(p-1) / max"].append((e, top(2 * dim)))
        out["sum family in top 14 / max"].append((e, top(14)))
        out["effective rank / max"].append((e, c["effectiveRank"]))
    for name in ("sum family in top 2(p-1) / max", "sum family in top 14 / max", "effective rank / max"):
        peak = max(v for _, v in out[name]) or 1.0
        out[name] = [(e, v / peak) for e, v in out[name]]
    return out, [(a["type"], a["epoch"]) for a in run["alerts"]]


def panel(x0, title, data, alerts):
    body = [f'<text x="{x0 + PAD}" y="16" font-size="12" font-weight="bold">{title}</text>']
    emax = max(e for pts in data.values() for e, _ in pts)
    sx = lambda e: x0 + PAD + (W - PAD - 8) * e / emax
    sy = lambda v: 24 + (H - 24 - PAD) * (1 - v)
    body.append(f'<rect x="{x0 + PAD}" y="24" width="{W - PAD - 8}" height="{H - 24 - PAD}" fill="none" '
                f'stroke="#cccccc"/>')
    for v in (0, 0.5, 1):
        body.append(f'<text x="{x0 + PAD - 4}" y="{sy(v) + 4}" font-size="10" text-anchor="end">{v:g}</text>')
    for e in (0, emax // 2, emax):
        body.append(f'<text x="{sx(e)}" y="{H - PAD + 14}" font-size="10" text-anchor="middle">{e}</text>')
    body.append(f'<text x="{x0 + PAD + (W - PAD) / 2}" y="{H - 6}" font-size="10" text-anchor="middle">epoch</text>')
    for kind, e in alerts:
        colour = "#c0392b" if kind == "generalization" else "#e67e22"
        body.append(f'<line x1="{sx(e)}" x2="{sx(e)}" y1="24" y2="{H - PAD}" stroke="{colour}" '
                    f'stroke-dasharray="2 2"><title>{kind} alert at epoch {e}</title></line>')
    for name, colour, dash in SERIES:
        pts = " ".join(f"{sx(e):.1f},{sy(v):.1f}" for e, v in data[name])
        d = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.6"{d}/>')
    return body


def main(out, paths):
    body = []
    for i, path in enumerate(paths):
        run = json.load(open(path))
        data, alerts = series(run)
        title = path.rsplit("/", 1)[-1].removesuffix(".json")
        body += panel(i * W, title, data, alerts)
    y = H + 14
    x = PAD
    for name, colour, dash in SERIES + [("spectral-gap alert", "#e67e22", "2 2"), ("generalization alert", "#c0392b", "2 2")]:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<line x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" stroke-width="1.6"{d}/>')
        body.append(f'<text x="{x + 26}" y="{y}" font-size="11">{name}</text>')
        x += 30 + 5.6 * len(name)
    svgpage.write(out, W * len(paths), H + 24, body)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])

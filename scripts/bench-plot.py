#!/usr/bin/env python3
"""Draws docs/bench/latest.json (written by scripts/bench.sh) as SVG plots, with the standard
library only: tokens.svg (device tokens per second beside bare rustls and nginx, ECDSA and
RSA), instructions.svg (the server's CPU instructions per token request, from callgrind),
cas.svg and revocation.svg (the token rate against the number of trusted CAs and of revoked
serials, as a share of bare rustls measured beside it), console.svg (the first load against its
goals), interactive.svg (time to interactive), server.svg (RSS), bulk-registration.svg (the
server's time for 100,000 and 1,000,000 rows), bulk-preview.svg and bulk-memory.svg (the
browser's preview beside PapaParse: time and the tab's memory, by the number of rows).

Usage: scripts/bench-plot.py docs/bench/latest.json docs/bench
"""

import json
import sys
from html import escape

COLORS = {"anchorage": "#1f6feb", "bare rustls": "#8c959f", "nginx": "#2da44e", "goal": "#cf222e"}
FONT = 'font-family="system-ui, sans-serif"'


def svg(width, height, body, title):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n'
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600" {FONT}>'
        f"{escape(title)}</text>\n{body}</svg>\n"
    )


def nice_step(peak, ticks=5):
    """A round tick step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to `peak`."""
    import math

    raw = peak / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def bars(groups, series, unit, title, goal_lines=(), note=""):
    """Grouped vertical bars: groups = [(name, {series: value})]."""
    width, height, left, bottom, top = 640, 360, 70, 300, 50
    peak = max([v for _, values in groups for v in values.values() if v is not None] + [g for g, _ in goal_lines] + [1])
    step = nice_step(peak * 1.1)
    count = int(peak * 1.1 // step) + 1
    scale = (bottom - top) / (step * count)
    body = []
    for i in range(count + 1):
        v = step * i
        y = bottom - v * scale
        body.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" {FONT}>{v:,.0f}</text>')
    body.append(f'<text x="16" y="{(top + bottom) / 2}" font-size="11" {FONT} '
                f'transform="rotate(-90 16 {(top + bottom) / 2})" text-anchor="middle">{escape(unit)}</text>')
    group_w = (width - 20 - left) / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    for gi, (name, values) in enumerate(groups):
        x0 = left + gi * group_w + group_w * 0.1
        for si, s in enumerate(series):
            v = values.get(s)
            if v is None:
                continue
            x, h = x0 + si * bar_w, v * scale
            body.append(f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
                        f'fill="{COLORS.get(s, "#999")}"><title>{escape(s)}: {v:,.1f}</title></rect>')
            body.append(f'<text x="{x + (bar_w - 4) / 2:.1f}" y="{bottom - h - 4:.1f}" text-anchor="middle" '
                        f'font-size="10" {FONT}>{v:,.0f}</text>')
        body.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="12" {FONT}>'
                    f"{escape(name)}</text>")
    for value, label in goal_lines:
        y = bottom - value * scale
        body.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="{COLORS["goal"]}" '
                    f'stroke-dasharray="5 4"/>')
        body.append(f'<text x="{width - 22}" y="{y - 4:.1f}" text-anchor="end" font-size="10" fill="{COLORS["goal"]}" '
                    f"{FONT}>{escape(label)}</text>")
    for si, s in enumerate(series):
        x = left + si * 130
        body.append(f'<rect x="{x}" y="{height - 34}" width="12" height="12" fill="{COLORS.get(s, "#999")}"/>')
        body.append(f'<text x="{x + 16}" y="{height - 24}" font-size="12" {FONT}>{escape(s)}</text>')
    if note:
        body.append(f'<text x="{left}" y="{height - 8}" font-size="10" fill="#57606a" {FONT}>{escape(note)}</text>')
    return svg(width, height, "\n".join(body) + "\n", title)


def line(points, unit, title, goal=None, note="", xlabel="trusted CAs (log scale)"):
    """A line over a log x axis: points = [(x, y)] with y a share (0..1.x)."""
    import math

    width, height, left, bottom, top = 640, 340, 70, 280, 50
    xs = [math.log10(max(x, 1)) for x, _ in points]
    lo, hi = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    peak = max([y for _, y in points if y is not None] + [goal or 0, 1.0]) * 1.1
    sx = lambda x: left + (math.log10(max(x, 1)) - lo) / (hi - lo) * (width - 40 - left)
    sy = lambda y: bottom - y / peak * (bottom - top)
    body = []
    for i in range(6):
        v = peak * i / 5
        body.append(f'<line x1="{left}" x2="{width - 20}" y1="{sy(v):.1f}" y2="{sy(v):.1f}" stroke="#d0d7de"/>')
        body.append(f'<text x="{left - 6}" y="{sy(v) + 4:.1f}" text-anchor="end" font-size="11" {FONT}>{v:.0%}</text>')
    body.append(f'<text x="16" y="{(top + bottom) / 2}" font-size="11" {FONT} '
                f'transform="rotate(-90 16 {(top + bottom) / 2})" text-anchor="middle">{escape(unit)}</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(points) if y is not None)
    body.append(f'<path d="{path}" fill="none" stroke="{COLORS["anchorage"]}" stroke-width="2"/>')
    for x, y in points:
        if y is None:
            continue
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="4" fill="{COLORS["anchorage"]}"/>')
        body.append(f'<text x="{sx(x):.1f}" y="{sy(y) - 8:.1f}" text-anchor="middle" font-size="10" {FONT}>{y:.0%}</text>')
        body.append(f'<text x="{sx(x):.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" {FONT}>{x:,}</text>')
    body.append(f'<text x="{(left + width) / 2}" y="{bottom + 34}" text-anchor="middle" font-size="11" {FONT}>'
                f"{escape(xlabel)}</text>")
    if goal is not None:
        body.append(f'<line x1="{left}" x2="{width - 20}" y1="{sy(goal):.1f}" y2="{sy(goal):.1f}" '
                    f'stroke="{COLORS["goal"]}" stroke-dasharray="5 4"/>')
        body.append(f'<text x="{width - 22}" y="{sy(goal) - 4:.1f}" text-anchor="end" font-size="10" '
                    f'fill="{COLORS["goal"]}" {FONT}>goal {goal:.0%}</text>')
    if note:
        body.append(f'<text x="{left}" y="{height - 8}" font-size="10" fill="#57606a" {FONT}>{escape(note)}</text>')
    return svg(width, height, "\n".join(body) + "\n", title)


def loglog(series, unit, title, xlabel, note=""):
    """Lines over log x and log y axes: series = {name: [(x, y)]}."""
    import math

    width, height, left, bottom, top = 640, 360, 70, 280, 50
    positive = lambda ps: [(x, y) for x, y in ps if y is not None and y > 0]
    pts = [p for ps in series.values() for p in positive(ps)]
    if not pts:
        return svg(width, height, "", title + " (no data)")
    lx = lambda x: math.log10(max(x, 1e-9))
    x_lo, x_hi = lx(min(x for x, _ in pts)), lx(max(x for x, _ in pts))
    y_lo, y_hi = math.floor(lx(min(y for _, y in pts))), math.ceil(lx(max(y for _, y in pts)))
    x_hi = x_hi if x_hi > x_lo else x_lo + 1
    y_hi = y_hi if y_hi > y_lo else y_lo + 1
    sx = lambda x: left + (lx(x) - x_lo) / (x_hi - x_lo) * (width - 60 - left)
    sy = lambda y: bottom - (lx(y) - y_lo) / (y_hi - y_lo) * (bottom - top)
    body = []
    for e in range(y_lo, y_hi + 1):
        y = sy(10 ** e)
        body.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" {FONT}>{10 ** e:,g}</text>')
    body.append(f'<text x="16" y="{(top + bottom) / 2}" font-size="11" {FONT} '
                f'transform="rotate(-90 16 {(top + bottom) / 2})" text-anchor="middle">{escape(unit)}</text>')
    for x in sorted({x for x, _ in pts}):
        body.append(f'<text x="{sx(x):.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" {FONT}>{x:,}</text>')
    body.append(f'<text x="{(left + width) / 2}" y="{bottom + 34}" text-anchor="middle" font-size="11" {FONT}>'
                f"{escape(xlabel)}</text>")
    legend_x = left
    for name, ps in series.items():
        color = COLORS.get(name, "#999")
        ps = positive(ps)
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(ps))
        body.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in ps:
            body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{color}"><title>{escape(name)}: '
                        f"{y:,.1f}</title></circle>")
        if ps:
            x, y = ps[-1]
            body.append(f'<text x="{sx(x) + 6:.1f}" y="{sy(y) + 4:.1f}" font-size="10" fill="{color}" {FONT}>{y:,.0f}</text>')
        body.append(f'<rect x="{legend_x}" y="{height - 34}" width="12" height="12" fill="{color}"/>')
        body.append(f'<text x="{legend_x + 16}" y="{height - 24}" font-size="11" {FONT}>{escape(name)}</text>')
        legend_x += 16 + 6.0 * len(name) + 14
    if note:
        body.append(f'<text x="{left}" y="{height - 8}" font-size="10" fill="#57606a" {FONT}>{escape(note)}</text>')
    return svg(width, height, "\n".join(body) + "\n", title)


def main():
    doc = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    when = f'{doc["date"][:10]}, {doc["commit"]}, {doc["machine"]["cores"]} cores, load {doc["machine"]["loadAverageAtStart"]}'
    when += " (--quick)" if doc.get("quick") else ""

    groups = []
    for kind, name in (("ecdsa", "ECDSA P-256 devices"), ("rsa", "RSA 2048 devices")):
        t = doc["tokens"][kind]
        groups.append((name, {"anchorage": t["anchorage"]["tokensPerSecond"],
                              "bare rustls": t["bareRustls"]["tokensPerSecond"],
                              "nginx": t["nginx"]["tokensPerSecond"]}))
    open(f"{out}/tokens.svg", "w").write(bars(
        groups, ["anchorage", "bare rustls", "nginx"], "tokens per second (fresh mutual-TLS connections)",
        "Device tokens: anchorage beside bare rustls and nginx", note=when))

    cas = doc["caScaling"]
    open(f"{out}/cas.svg", "w").write(line(
        [(c["trustedCas"], c["shareOfBareRustls"]) for c in cas], "anchorage as a share of bare rustls",
        "Token rate against trusted CAs", note=when))

    ins = doc.get("instructionsPerToken")
    if ins:
        open(f"{out}/instructions.svg", "w").write(bars(
            [("per token request (ECDSA P-256 devices)", {"anchorage": ins["anchorage"] / 1000,
                                                         "bare rustls": ins["bareRustls"] / 1000})],
            ["anchorage", "bare rustls"], "thousand instructions (callgrind)",
            "Server CPU instructions per token request",
            note=f'({ins["requests"][1]} - {ins["requests"][0]} requests, totals differenced); {when}'))

    rev = doc.get("revocation")
    if rev:
        open(f"{out}/revocation.svg", "w").write(line(
            [(r["revokedSerials"], r["shareOfBareRustls"]) for r in rev], "anchorage as a share of bare rustls",
            "Token rate with the offline revocation check, against revoked serials", note=when,
            xlabel="revoked serials in the tenant's list (log scale; 0 at the left)"))

    bulk = doc.get("bulkRegistration")
    if bulk:
        COLORS["seconds"] = "#1f6feb"
        open(f"{out}/bulk-registration.svg", "w").write(bars(
            [(f'{b["rows"]:,} rows ({b["bytes"] / 1e6:.0f} MB)', {"seconds": b["seconds"]}) for b in bulk], ["seconds"],
            "seconds (one POST, certificate devices)", "Bulk registration on the server",
            goal_lines=[(30, "goal for 1,000,000 rows: 30 s")],
            note="peak RSS " + ", ".join(f'{b["peakRssKiB"] / 1024:,.0f} MiB' for b in bulk) + f"; {when}"))

    preview = doc.get("bulkPreview")
    if preview:
        COLORS.update({"PapaParse, file.text()": "#8c959f", "PapaParse, Papa.parse(File)": "#2da44e",
                       "goal: 3x the file": COLORS["goal"]})
        open(f"{out}/bulk-preview.svg", "w").write(loglog(
            {"anchorage": [(p["rows"], p["anchorageMs"]) for p in preview],
             "PapaParse, file.text()": [(p["rows"], p["papaTextMs"]) for p in preview],
             "PapaParse, Papa.parse(File)": [(p["rows"], p["papaFileMs"]) for p in preview]},
            "milliseconds (log scale)", "Bulk CSV preview in Chromium: anchorage beside PapaParse",
            "rows in the file (log scale)", note=when))
        open(f"{out}/bulk-memory.svg", "w").write(loglog(
            {"anchorage": [(p["rows"], p["anchoragePeakBytes"] / 1e6) for p in preview],
             "PapaParse, file.text()": [(p["rows"], p["papaTextPeakBytes"] / 1e6) for p in preview],
             "PapaParse, Papa.parse(File)": [(p["rows"], p["papaFilePeakBytes"] / 1e6) for p in preview],
             "goal: 3x the file": [(p["rows"], 3 * p["bytes"] / 1e6) for p in preview]},
            "MB the tab grew by at its peak (log scale)", "Bulk CSV preview: the tab's memory",
            "rows in the file (log scale)", note=when))

    c = doc.get("console", {})
    if "login" in c:
        COLORS["time to interactive"] = "#1f6feb"
        open(f"{out}/interactive.svg", "w").write(bars(
            [("login page", {"time to interactive": c["login"]["timeToInteractiveMs"]}),
             (f'trusted certificates, {c["trustedCertificates"]["rows"]:,} rows',
              {"time to interactive": c["trustedCertificates"]["timeToInteractiveMs"]})],
            ["time to interactive"], "milliseconds (median, fresh tab)", "Console time to interactive",
            goal_lines=[(300, "goal 300 ms")],
            note=f'tab memory {c["login"]["rssBytes"] / 1e6:.0f} MB and '
                 f'{c["trustedCertificates"]["rssBytes"] / 1e6:.0f} MB; {when}'))
    series = {}
    if "firstLoadGzipBytes" in c:
        series["gzip"] = c["firstLoadGzipBytes"] / 1024
    if "firstLoadBrotliBytes" in c:
        series["brotli"] = c["firstLoadBrotliBytes"] / 1024
    COLORS.update({"gzip": "#8250df", "brotli": "#bf8700"})
    open(f"{out}/console.svg", "w").write(bars(
        [("first load (login, then the home page)", series)], list(series), "KiB as served",
        "Console first load", goal_lines=[(145, "gzip goal 145 KiB"), (120, "brotli goal 120 KiB")], note=when))

    s = doc["server"]
    COLORS.update({"idle": "#8c959f", "after tokens": "#1f6feb", "at the end": "#0a3069"})
    open(f"{out}/server.svg", "w").write(bars(
        [("server RSS", {"idle": s["idleRssKiB"] / 1024, "after tokens": s["rssAfterTokensKiB"] / 1024,
                         "at the end": s["rssAtEndKiB"] / 1024})],
        ["idle", "after tokens", "at the end"], "MiB", "anchorage's memory (RSS)",
        goal_lines=[(25, "idle goal 25 MiB")],
        note=f'after {s["tokensIssuedBefore"]:,} measured tokens; binary {s["binaryBytes"] / 1048576:.1f} MiB; {when}'))


if __name__ == "__main__":
    main()

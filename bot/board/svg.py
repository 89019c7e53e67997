"""Charts drawn on the server as SVG: no chart library, no CDN, nothing the
bank network has to let through."""

from __future__ import annotations

from html import escape

PALETTE = ("#1d4e89", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#c17c74", "#3c3c3b")


def vendor_months(rows: list[dict], top: int = 7, width: int = 760, height: int = 260) -> str:
    """Stacked bars: cases opened per month, by vendor (the top ones by
    count; the rest as 'other')."""
    if not rows:
        return ""
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["vendor"]] = totals.get(r["vendor"], 0) + r["n"]
    named = [v for v, _ in sorted(totals.items(), key=lambda kv: -kv[1])[:top]]
    months = sorted({r["month"] for r in rows})
    grid: dict[str, dict[str, int]] = {m: {} for m in months}
    for r in rows:
        key = r["vendor"] if r["vendor"] in named else "other"
        grid[r["month"]][key] = grid[r["month"]].get(key, 0) + r["n"]
    series = named + (["other"] if any("other" in g for g in grid.values()) else [])
    highest = max(sum(g.values()) for g in grid.values()) or 1
    step = max(1, -(-highest // 4))  # whole cases per grid line
    peak = step * 4
    left, bottom, top_pad, legend_w = 40, 30, 10, 170
    plot_w, plot_h = width - left - legend_w, height - bottom - top_pad
    slot = plot_w / len(months)
    bar = min(slot, 80)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="cases per month by vendor" class="chart">']
    for i in range(5):  # horizontal guides
        y = top_pad + plot_h - plot_h * i / 4
        value = step * i
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{value}</text>')
    for i, month in enumerate(months):
        x = left + i * slot + (slot - bar * 0.7) / 2
        y = top_pad + plot_h
        for j, name in enumerate(series):
            n = grid[month].get(name, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.7:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(month)} · {escape(name)}: {n}</title></rect>')
        if len(months) <= 12 or i % 2 == 0:
            parts.append(f'<text x="{x + bar * 0.35:.1f}" y="{height - 10}" text-anchor="middle" font-size="11">'
                         f'{escape(month)}</text>')
    for j, name in enumerate(series):
        y = top_pad + 14 + j * 18
        lx = width - legend_w + 10
        parts.append(f'<rect x="{lx}" y="{y - 10}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 18}" y="{y}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)

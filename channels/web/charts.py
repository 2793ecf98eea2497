"""Bar charts drawn on the server as SVG (no script): the 统计 page shows each beside its table."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW, LABEL, WIDTH = 22, 120, 260


def bars(pairs: list[tuple[str, float]], unit: str = "") -> Markup:
    """One horizontal bar per (label, value), scaled to the largest value."""
    top = max((v for _, v in pairs), default=0) or 1
    height = ROW * len(pairs) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {LABEL + WIDTH + 60} {height}" '
             f'width="{LABEL + WIDTH + 60}" height="{height}" role="img">']
    for n, (label, value) in enumerate(pairs):
        y = n * ROW + 2
        length = WIDTH * value / top
        parts.append(f'<text x="{LABEL - 6}" y="{y + 15}" text-anchor="end" font-size="12">{escape(label)}</text>'
                     f'<rect x="{LABEL}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" fill="#8b1a1a"/>'
                     f'<text x="{LABEL + length + 4:.1f}" y="{y + 15}" font-size="12">{value:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))

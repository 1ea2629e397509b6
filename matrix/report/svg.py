"""The producer x consumer grids of one cross check as a standalone SVG image (for the README).

Contract: `render(check, grids)` returns an SVG document (no external fonts, images or scripts):
one small panel per model, precision and variant, rows = producer, columns = consumer, each cell
coloured AND marked with its status symbol, with a legend. All text is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from matrix.report.model import Grid
from matrix.report.style import ABSENT, STYLES, legend

CELL = 22
LABEL_W = 48
HEAD_H = 34
GAP = 18
FONT = "DejaVu Sans, Verdana, sans-serif"


def _text(
    x: float,
    y: float,
    text: str,
    size: int = 11,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = "#1f2933",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>'
    )


def _panel(grid: Grid, x0: float, y0: float) -> tuple[list[str], float, float]:
    out = [_text(x0, y0 + 12, f"{grid.precision} · {grid.variant}", 11, weight="bold")]
    top = y0 + HEAD_H
    for j, consumer in enumerate(grid.consumers):
        cx = x0 + LABEL_W + j * CELL + CELL / 2
        out.append(_text(cx, top - 4, consumer.removeprefix("trt"), 9, anchor="middle", fill="#52606d"))
    for i, producer in enumerate(grid.producers):
        y = top + i * CELL
        out.append(_text(x0 + LABEL_W - 4, y + CELL / 2 + 3, producer, 9, anchor="end", fill="#52606d"))
        for j, consumer in enumerate(grid.consumers):
            x = x0 + LABEL_W + j * CELL
            result = grid.cells.get((producer, consumer))
            status = result.status if result else ABSENT
            style = STYLES[status]
            tip = f"{producer} → {consumer}: {style.label}" + (f": {result.reason}" if result and result.reason else "")
            out.append(
                f'<g><title>{escape(tip)}</title><rect x="{x + 1}" y="{y + 1}" width="{CELL - 2}" '
                f'height="{CELL - 2}" rx="3" fill={quoteattr(style.background)} '
                f"stroke={quoteattr('#829ab1' if producer == consumer else '#ffffff')}/>"
                + _text(
                    x + CELL / 2,
                    y + CELL / 2 + 5,
                    style.symbol,
                    13,
                    anchor="middle",
                    weight="bold",
                    fill=style.foreground,
                )
                + "</g>"
            )
    width = LABEL_W + max(len(grid.consumers), 1) * CELL
    height = HEAD_H + max(len(grid.producers), 1) * CELL
    return out, width, height


def render(check: str, grids: Sequence[Grid], banner: str = "") -> str:
    rows: dict[str, list[Grid]] = {}
    for grid in grids:
        if grid.check == check:
            rows.setdefault(grid.model, []).append(grid)
    body: list[str] = [_text(10, 20, f"{check}: producer (rows) × consumer (columns)", 14, weight="bold")]
    y = 34.0
    width = 300.0
    for model, panels in rows.items():
        body.append(_text(10, y + 14, model, 12, weight="bold"))
        y += 20
        x, row_h = 10.0, 0.0
        for grid in panels:
            parts, w, h = _panel(grid, x, y)
            body += parts
            x += w + GAP
            row_h = max(row_h, h)
        width = max(width, x)
        y += row_h + GAP
    lx = 10.0
    for style in legend():
        label = f"{style.symbol} {style.label}"
        body.append(
            f'<rect x="{lx}" y="{y}" width="16" height="16" rx="3" fill={quoteattr(style.background)} '
            'stroke="#bcccdc"/>'
        )
        body.append(_text(lx + 8, y + 12, style.symbol, 11, anchor="middle", weight="bold", fill=style.foreground))
        body.append(_text(lx + 20, y + 12, style.label, 11))
        lx += 28 + 7 * len(label)
    width = max(width, lx)
    height = y + 28
    top = ""
    if banner:  # a self-test's grid says so above everything else, in the picture and in its title
        width = max(width, 12 + 7 * len(banner))
        top = _text(8, 16, banner.upper(), 12, weight="bold", fill="#7c2d12")
        body = ['<g transform="translate(0,24)">', *body, "</g>"]
        height += 24
    title = (f"{banner}: " if banner else "") + f"{check} producer × consumer grid (trt-matrix report)"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family={quoteattr(FONT)} role="img">'
        f"<title>{escape(title)}</title>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + top + "".join(body) + "</svg>\n"
    )

"""Line charts as PNG with Pillow alone: training curves without a plotting dependency."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

PALETTE = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14))
Series = dict[str, list[tuple[float, float]]]


def _draw_panel(draw: ImageDraw.ImageDraw, title: str, series: Series, box: tuple[int, int, int, int]) -> None:
    left, upper, right, lower = box
    draw.text((left, upper - 19), title, fill="black")
    draw.rectangle(box, outline=(160, 160, 160))
    points = [p for values in series.values() for p in values]
    if not points:
        draw.text((left + 10, upper + 10), "no data", fill="gray")
        return
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad

    def at(x: float, y: float) -> tuple[float, float]:
        return left + (x - x0) / (x1 - x0) * (right - left), lower - (y - y0) / (y1 - y0) * (lower - upper)

    for frac in (0.0, 0.5, 1.0):
        y = y0 + frac * (y1 - y0)
        draw.text((4, at(x0, y)[1] - 6), f"{y:.3g}", fill="black")
    draw.text((left, lower + 6), f"{x0:g}", fill="black")
    draw.text((right - 40, lower + 6), f"{x1:g}", fill="black")
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        coords = [at(x, y) for x, y in sorted(values)]
        if len(coords) > 1:
            draw.line(coords, fill=colour, width=2)
        if len(coords) < 40:
            for cx, cy in coords:
                draw.ellipse((cx - 2, cy - 2, cx + 2, cy + 2), fill=colour)
        draw.text((right - 330 + 170 * i, upper - 19), name, fill=colour)  # the legend, on the title's line


def line_chart(panels: dict[str, Series], path: str | Path, *, width: int = 640, panel_height: int = 220) -> Path:
    """One panel per title, each with named series of (x, y) points, stacked; written to ``path``."""
    image = Image.new("RGB", (width, panel_height * max(1, len(panels))), "white")
    draw = ImageDraw.Draw(image)
    for row, (title, series) in enumerate(panels.items()):
        top = row * panel_height
        _draw_panel(draw, title, series, (60, top + 25, width - 15, top + panel_height - 30))
    path = Path(path)
    image.save(path)
    return path

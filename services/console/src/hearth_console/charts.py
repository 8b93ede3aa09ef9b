"""Charts drawn on the server as inline SVG: no script, nothing fetched, readable by a screen
reader through the title and description each carries (and the table beside each chart).

Colour never carries meaning alone: each series also has its own marker shape and a label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT, MARGIN = 640, 220, 44


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float
    label: str


def _frame(title: str, description: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(description)}</desc>{body}</svg>'
    )


def _axes(top: float) -> str:
    bottom, right = HEIGHT - MARGIN, WIDTH - 12
    return (
        f'<line x1="{MARGIN}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#0b0c0c"/>'
        f'<line x1="{MARGIN}" y1="12" x2="{MARGIN}" y2="{bottom}" stroke="#0b0c0c"/>'
        f'<text x="{MARGIN - 6}" y="16" text-anchor="end" font-size="12">{top:g}</text>'
        f'<text x="{MARGIN - 6}" y="{bottom}" text-anchor="end" font-size="12">0</text>'
    )


def cumulative(points: Sequence[Point], title: str) -> Markup:
    """A step line of a running total over time, one square marker per event."""
    if not points:
        return _frame(title, "Nothing recorded yet.", _axes(1))
    first, last = points[0].at.timestamp(), points[-1].at.timestamp()
    span = max(last - first, 1.0)
    top = max(p.value for p in points) or 1.0
    bottom = HEIGHT - MARGIN

    def x(p: Point) -> float:
        return MARGIN + (p.at.timestamp() - first) / span * (WIDTH - MARGIN - 24)

    def y(p: Point) -> float:
        return bottom - p.value / top * (bottom - 16)

    path, previous = [], None
    for p in points:
        if previous is not None:
            path.append(f"L{x(p):.1f},{previous:.1f}")
        path.append(f"{'M' if previous is None else 'L'}{x(p):.1f},{y(p):.1f}")
        previous = y(p)
    markers = "".join(
        f'<rect x="{x(p) - 4:.1f}" y="{y(p) - 4:.1f}" width="8" height="8" fill="#1d70b8">'
        f"<title>{escape(p.label)}</title></rect>"
        for p in points
    )
    labels = (
        f'<text x="{MARGIN}" y="{HEIGHT - 20}" font-size="12">{points[0].at:%d %b %H:%M}</text>'
        f'<text x="{WIDTH - 12}" y="{HEIGHT - 20}" font-size="12" text-anchor="end">'
        f"{points[-1].at:%d %b %H:%M}</text>"
    )
    description = (
        f"{len(points)} events from {points[0].at:%d %b %Y %H:%M} to "
        f"{points[-1].at:%d %b %Y %H:%M}, reaching {points[-1].value:g}."
    )
    body = (
        _axes(top)
        + f'<path d="{" ".join(path)}" fill="none" stroke="#1d70b8" stroke-width="2"/>'
        + markers
        + labels
    )
    return _frame(title, description, body)


def bars(groups: Sequence[tuple[str, int]], title: str) -> Markup:
    """One labelled bar per (label, count), its count written on it."""
    if not groups:
        return _frame(title, "No figures for this period.", _axes(1))
    top = max(count for _, count in groups) or 1
    bottom = HEIGHT - MARGIN
    step = (WIDTH - MARGIN - 24) / len(groups)
    parts = [_axes(top)]
    for i, (label, count) in enumerate(groups):
        height = count / top * (bottom - 16)
        left = MARGIN + i * step + step * 0.15
        parts.append(
            f'<rect x="{left:.1f}" y="{bottom - height:.1f}" width="{step * 0.7:.1f}" '
            f'height="{height:.1f}" fill="#1d70b8"><title>{escape(label)}: {count}</title></rect>'
            f'<text x="{left + step * 0.35:.1f}" y="{bottom - height - 4:.1f}" '
            f'text-anchor="middle" font-size="12">{count}</text>'
            f'<text x="{left + step * 0.35:.1f}" y="{bottom + 16:.1f}" text-anchor="middle" '
            f'font-size="11">{escape(label[:18])}</text>'
        )
    description = "; ".join(f"{label}: {count}" for label, count in groups)
    return _frame(title, description, "".join(parts))

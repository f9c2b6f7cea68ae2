"""Small server-rendered SVG charts for the web pages: no script, no fetch, readable as text.

Each chart is one ``<svg role="img">`` with a ``<title>`` and ``<desc>`` that say in words what
it shows (screen readers read those), dark ink on a light panel (WCAG AA contrast), and a
colour-blind-safe palette (Okabe-Ito). Values outside the axes are clipped to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE: tuple[str, ...] = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9")
"""Okabe-Ito colours dark enough for lines and markers on white."""
INK = "#1a1a1a"
GRID = "#d0d0d0"


@dataclass(frozen=True, slots=True)
class Point:
    """A value with its interval at position ``x`` (any number: seconds, an index)."""

    x: float
    y: float
    low: float
    high: float


def _open(width: int, height: int, title: str, desc: str, css_class: str) -> list[str]:
    return [
        f'<svg class="chart {css_class}" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(desc)}</desc>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def empty_chart(title: str, message: str, width: int = 640, height: int = 80) -> str:
    """A placeholder chart that says why there is nothing to draw."""
    parts = _open(width, height, title, message, "empty")
    parts.append(
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" fill="{INK}">'
        f"{escape(message)}</text></svg>"
    )
    return "".join(parts)


def line_chart(
    series: Mapping[str, Sequence[Point]],
    *,
    title: str,
    x_labels: Mapping[float, str] | None = None,
    y_label: str = "",
    y_range: tuple[float, float] = (0.0, 1.0),
    width: int = 640,
    height: int = 280,
) -> str:
    """Lines with a marker and error bar per point, one colour per series, and a legend.

    Args:
        series: Points by series name, each in increasing ``x``.
        title: What the chart shows (its accessible name).
        x_labels: Tick labels by x position (e.g. times); default: none.
        y_label: The y axis label.
        y_range: The y axis limits.
        width: Pixels.
        height: Pixels.
    """
    points = [p for values in series.values() for p in values]
    if not points:
        return empty_chart(title, "no data yet")
    left, right, top, bottom = 56, 48, 16, 44 + 16 * math.ceil(len(series) / 2)
    x_min = min(p.x for p in points)
    x_max = max(p.x for p in points)
    x_span = (x_max - x_min) or 1.0
    y_min, y_max = y_range
    y_span = (y_max - y_min) or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x_min) / x_span * plot_w if x_max > x_min else left + plot_w / 2

    def sy(y: float) -> float:
        clipped = min(max(y, y_min), y_max)
        return top + plot_h - (clipped - y_min) / y_span * plot_h

    summary = "; ".join(
        f"{name}: " + ", ".join(f"{p.y:.2f}" for p in values) for name, values in series.items()
    )
    parts = _open(width, height, title, f"{y_label} per series over time. {summary}", "line")
    parts += _y_axis(left, width - right, sy, y_min, y_max, y_label)
    for x, label in (x_labels or {}).items():
        parts.append(
            f'<text x="{_fmt(sx(x))}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'fill="{INK}">{escape(label)}</text>'
        )
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        path = " ".join(f"{_fmt(sx(p.x))},{_fmt(sy(p.y))}" for p in values)
        parts.append(
            f'<g class="series" data-series="{escape(name)}">'
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for p in values:
            cx = _fmt(sx(p.x))
            parts.append(
                f'<line x1="{cx}" x2="{cx}" y1="{_fmt(sy(p.low))}" y2="{_fmt(sy(p.high))}" '
                f'stroke="{colour}" stroke-width="1"/>'
                f'<circle cx="{cx}" cy="{_fmt(sy(p.y))}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)}: {p.y:.3f} [{p.low:.3f}, {p.high:.3f}]</title></circle>"
            )
        parts.append("</g>")
        column, line = index % 2, index // 2
        lx, ly = left + column * (plot_w / 2), top + plot_h + 34 + 16 * line
        parts.append(
            f'<rect x="{_fmt(lx)}" y="{ly - 9}" width="12" height="10" fill="{colour}"/>'
            f'<text x="{_fmt(lx + 18)}" y="{ly}" fill="{INK}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def interval_chart(
    rows: Sequence[tuple[str, Point]],
    *,
    title: str,
    x_label: str,
    x_range: tuple[float, float] | None = None,
    colours: Sequence[int] | None = None,
    width: int = 640,
) -> str:
    """One row per label: a point estimate (``Point.y``) with its interval, horizontally.

    Args:
        rows: ``(label, point)``; the point's ``x`` is ignored.
        title: What the chart shows.
        x_label: The value axis label.
        x_range: Axis limits; default: the intervals' extent (0..1 when they all fit in it).
        colours: A palette index per row (rows of one kind share a colour); default: by row.
        width: Pixels.
    """
    indices = list(colours) if colours is not None else list(range(len(rows)))
    if len(indices) != len(rows):
        raise ValueError(f"colours must have one entry per row ({len(rows)}), got {len(indices)}")
    keep = [i for i, (_, p) in enumerate(rows) if math.isfinite(p.y)]
    finite = [rows[i] for i in keep]
    palette = [PALETTE[indices[i] % len(PALETTE)] for i in keep]
    if not finite:
        return empty_chart(title, "no data yet")
    left, right, top, row_h = 200, 24, 12, 26
    height = top + row_h * len(finite) + 40
    if x_range is None:
        lows = [p.low for _, p in finite if math.isfinite(p.low)] + [p.y for _, p in finite]
        highs = [p.high for _, p in finite if math.isfinite(p.high)] + [p.y for _, p in finite]
        lo, hi = min(lows), max(highs)
        x_range = (0.0, 1.0) if lo >= 0.0 and hi <= 1.0 else (lo, hi if hi > lo else lo + 1.0)
    x_min, x_max = x_range
    span = (x_max - x_min) or 1.0
    plot_w = width - left - right

    def sx(x: float) -> float:
        return left + (min(max(x, x_min), x_max) - x_min) / span * plot_w

    desc = "; ".join(f"{label}: {p.y:.3f} [{p.low:.3f}, {p.high:.3f}]" for label, p in finite)
    parts = _open(width, height, title, desc, "interval")
    bottom = top + row_h * len(finite)
    for tick in range(5):
        value = x_min + span * tick / 4
        x = _fmt(sx(value))
        parts.append(
            f'<line x1="{x}" x2="{x}" y1="{top}" y2="{bottom}" stroke="{GRID}"/>'
            f'<text x="{x}" y="{bottom + 14}" text-anchor="middle" fill="{INK}">{value:.2f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{bottom + 32}" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)}</text>'
    )
    for index, (label, p) in enumerate(finite):
        y = top + row_h * index + row_h / 2
        colour = palette[index]
        low = p.low if math.isfinite(p.low) else p.y
        high = p.high if math.isfinite(p.high) else p.y
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.0f}" text-anchor="end" fill="{INK}">'
            f"{escape(label[:30])}</text>"
            f'<line x1="{_fmt(sx(low))}" x2="{_fmt(sx(high))}" y1="{y:.0f}" y2="{y:.0f}" '
            f'stroke="{colour}" stroke-width="2"/>'
            f'<circle cx="{_fmt(sx(p.y))}" cy="{y:.0f}" r="4.5" fill="{colour}">'
            f"<title>{escape(label)}: {p.y:.3f} [{low:.3f}, {high:.3f}]</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    bins: int = 20,
    marker: float | None = None,
    marker_label: str = "",
    width: int = 640,
    height: int = 220,
) -> str:
    """Counts of ``values`` in ``bins`` equal bins from 0, with an optional vertical marker.

    Raises:
        ValueError: ``bins`` < 1.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    if not values:
        return empty_chart(title, "no rewards yet")
    left, right, top, bottom = 48, 16, 16, 44
    upper = max(max(values), marker or 0.0) or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int(max(value, 0.0) / upper * bins))] += 1
    most = max(counts)
    plot_w, plot_h = width - left - right, height - top - bottom
    bar_w = plot_w / bins

    def sy(count: float) -> float:
        return top + plot_h - count / most * plot_h

    ordered = sorted(values)
    median = ordered[len(ordered) // 2]
    desc = f"{len(values)} values; median {median:.1f}; max {ordered[-1]:.1f}"
    parts = _open(width, height, title, desc, "histogram")
    parts += _y_axis(left, width - right, sy, 0.0, float(most), "count", integer=True)
    for index, count in enumerate(counts):
        if count:
            x = left + index * bar_w
            parts.append(
                f'<rect x="{_fmt(x + 1)}" y="{_fmt(sy(count))}" width="{_fmt(bar_w - 2)}" '
                f'height="{_fmt(top + plot_h - sy(count))}" fill="{PALETTE[0]}">'
                f"<title>{count} in [{index * upper / bins:.1f}, "
                f"{(index + 1) * upper / bins:.1f})</title></rect>"
            )
    for tick in range(5):
        value = upper * tick / 4
        parts.append(
            f'<text x="{_fmt(left + plot_w * tick / 4)}" y="{top + plot_h + 16}" '
            f'text-anchor="middle" fill="{INK}">{value:.0f}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" '
        f'fill="{INK}">{escape(x_label)}</text>'
    )
    if marker is not None:
        mx = _fmt(left + marker / upper * plot_w)
        parts.append(
            f'<line x1="{mx}" x2="{mx}" y1="{top}" y2="{top + plot_h}" stroke="{PALETTE[1]}" '
            f'stroke-width="2" stroke-dasharray="5 3"/>'
            f'<text x="{mx}" y="{top + 10}" text-anchor="end" dx="-4" fill="{INK}">'
            f"{escape(marker_label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(
    left: float,
    right: float,
    sy: Callable[[float], float],
    y_min: float,
    y_max: float,
    label: str,
    *,
    integer: bool = False,
) -> list[str]:
    parts = []
    for tick in range(5):
        value = y_min + (y_max - y_min) * tick / 4
        y = _fmt(sy(value))
        text = f"{value:.0f}" if integer else f"{value:.2f}"
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y}" dy="4" text-anchor="end" fill="{INK}">{text}</text>'
        )
    if label:
        parts.append(
            f'<text transform="rotate(-90)" x="-{_fmt(sy((y_min + y_max) / 2))}" y="12" '
            f'text-anchor="middle" fill="{INK}">{escape(label)}</text>'
        )
    return parts

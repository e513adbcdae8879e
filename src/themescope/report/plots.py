"""Small inline SVG charts for the report: line charts, the 2-D map and the timeline.

The charts are plain SVG markup built here so that the page needs no plotting
library, stays small, and renders its text with the browser's own (CJK-capable)
fonts. Every piece of text that goes into the markup is escaped; numbers are
formatted by this module.

Example:
    >>> svg = line_chart([Series("loss", [1, 2, 3], [0.9, 0.5, 0.4])], x_label="epoch")
    >>> str(svg).startswith("<svg")
    True

"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeGuard

from markupsafe import Markup, escape

PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#1b4f72",
    "#8cd17d",
)
"""Categorical colours: Tableau 10 and two more, so that a study's themes (k up to 12 by
default) each have their own; repeated beyond twelve."""


def theme_color(theme_id: int) -> str:
    """Return the colour of a theme; ids beyond the palette wrap around."""
    return PALETTE[theme_id % len(PALETTE)] if theme_id >= 0 else "#999999"


@dataclass
class Series:
    """One line of a line chart.

    Attributes:
        name: Legend text.
        xs: X values.
        ys: Y values; None or NaN leaves a gap.
        color: Stroke colour (CSS).
        lows: Lower ends of an interval around each y (None: no band there).
        highs: Upper ends; with ``lows``, a translucent band is drawn under the line.

    """

    name: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    color: str = PALETTE[0]
    lows: Sequence[float | None] | None = None
    highs: Sequence[float | None] | None = None


def _finite(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _tick_label(value: float) -> str:
    """Format a tick label compactly (3 significant digits)."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e4 or magnitude < 1e-3:
        return f"{value:.2e}"
    return f"{value:.3g}"


def _nice_ticks(low: float, high: float, n_ticks: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high]."""
    if high <= low:
        return [low]
    raw_step = (high - low) / n_ticks
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    if integer:
        step = max(step, 1.0)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks or [low]


def line_chart(
    series: Sequence[Series],
    *,
    x_label: str = "",
    y_label: str = "",
    title: str = "",
    mark_x: float | None = None,
    width_px: int = 320,
    height_px: int = 200,
    integer_x: bool = False,
    log_y: bool | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
) -> Markup:
    """Return an SVG line chart of ``series`` (points drawn when there are few).

    Args:
        series: The lines to draw, sharing both axes.
        x_label: Caption of the x axis.
        y_label: Caption of the y axis.
        title: Title drawn above the plot.
        mark_x: X value to mark with a dashed vertical line (the chosen k, say).
        width_px: Width of the SVG.
        height_px: Height of the SVG.
        integer_x: X values are integers (k, epochs): ticks only at integers.
        log_y: Logarithmic y axis; None chooses it when all values are positive
            and span two decades or more (a training loss, typically).
        x_ticks: ``(x, label)`` of each x tick (dates, say) instead of numbers.

    Returns:
        The SVG markup; a short "no data" SVG when no series has a finite point.

    """
    legend_h = 16 if len(series) > 1 else 0
    left, right, top, bottom = 52, 10, 24 if title else 10, 34 + legend_h
    plot_w, plot_h = width_px - left - right, height_px - top - bottom
    points = [
        (float(x), float(y))
        for s in series
        for x, y in zip(s.xs, s.ys, strict=False)
        if _finite(x) and _finite(y)
    ]
    parts = [
        f'<svg class="chart" width="{width_px}" height="{height_px}" '
        f'viewBox="0 0 {width_px} {height_px}" role="img" aria-label="{escape(title or y_label)}">'
    ]
    if title:
        parts.append(
            f'<text x="{width_px / 2:.1f}" y="15" text-anchor="middle" class="chart-title">'
            f"{escape(title)}</text>"
        )
    if not points:
        parts.append(
            f'<text x="{width_px / 2:.1f}" y="{height_px / 2:.1f}" text-anchor="middle" '
            'class="chart-empty">no data</text></svg>'
        )
        return Markup("".join(parts))
    # An interval band must fit in the plot too.
    ys_all = [p[1] for p in points] + [
        float(y) for s in series for y in [*(s.lows or ()), *(s.highs or ())] if _finite(y)
    ]
    if log_y is None:
        log_y = min(ys_all) > 0 and max(ys_all) / min(ys_all) >= 100
    if log_y and min(ys_all) <= 0:
        log_y = False

    def ty(y: float) -> float:
        return math.log10(y) if log_y else y

    x_low, x_high = min(p[0] for p in points), max(p[0] for p in points)
    y_low, y_high = min(ty(y) for y in ys_all), max(ty(y) for y in ys_all)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    if y_high == y_low:
        pad = abs(y_low) * 0.1 or 1.0
        y_low, y_high = y_low - pad, y_high + pad
    else:
        pad = (y_high - y_low) * 0.05
        y_low, y_high = y_low - pad, y_high + pad

    def sx(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return top + plot_h - (ty(y) - y_low) / (y_high - y_low) * plot_h

    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="chart-frame"/>'
    )
    y_ticks = (
        [10**e for e in range(math.ceil(y_low), math.floor(y_high) + 1)]
        if log_y
        else _nice_ticks(y_low, y_high, 4)
    )
    if log_y and len(y_ticks) < 2:
        y_ticks = [10**v for v in _nice_ticks(y_low, y_high, 3)]
    for tick in y_ticks:
        y = sy(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" class="tick">'
            f"{escape(_tick_label(tick))}</text>"
        )
    ticks = x_ticks or [
        (tick, f"{tick:.0f}" if integer_x or abs(tick) >= 10 else _tick_label(tick))
        for tick in _nice_ticks(x_low, x_high, 5, integer=integer_x)
    ]
    for tick, label in ticks:
        x = sx(tick)
        # A long label (a date) centred on the right edge would run out of the chart.
        anchor = "end" if x + 3.2 * len(label) > width_px else "middle"
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 13}" text-anchor="{anchor}" class="tick">'
            f"{escape(label)}</text>"
        )
    if x_label:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 28}" text-anchor="middle" '
            f'class="axis-label">{escape(x_label + (" (log y)" if log_y else ""))}</text>'
        )
    if y_label:
        parts.append(
            f'<text transform="translate(11 {top + plot_h / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" class="axis-label">{escape(y_label)}</text>'
        )
    if mark_x is not None and _finite(mark_x) and x_low <= mark_x <= x_high:
        x = sx(float(mark_x))
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" class="mark"/>'
        )
    for s in series:
        band = [
            (sx(x_value), sy(low), sy(high))
            for x_value, low, high in zip(s.xs, s.lows or (), s.highs or (), strict=False)
            if _finite(x_value) and _finite(low) and _finite(high) and not log_y
        ]
        if len(band) > 1:
            outline = [f"{x:.1f},{y:.1f}" for x, _, y in band]
            outline += [f"{x:.1f},{y:.1f}" for x, y, _ in reversed(band)]
            parts.append(
                f'<polygon points="{" ".join(outline)}" fill="{escape(s.color)}" '
                'fill-opacity="0.15" stroke="none" class="band"/>'
            )
        pairs = list(zip(s.xs, s.ys, strict=False))
        runs: list[list[tuple[float, float]]] = [[]]
        for x_value, y_value in pairs:
            if _finite(x_value) and _finite(y_value) and (not log_y or y_value > 0):
                runs[-1].append((sx(x_value), sy(y_value)))
            elif runs[-1]:
                runs.append([])
        color = escape(s.color)
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.6"/>'
                )
            if len(pairs) <= 30:
                parts.extend(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{color}"/>' for x, y in run
                )
    if legend_h:
        x = float(left)
        y = height_px - 6
        for s in series:
            parts.append(
                f'<rect x="{x:.1f}" y="{y - 5}" width="10" height="3" fill="{escape(s.color)}"/>'
                f'<text x="{x + 13:.1f}" y="{y}" class="legend">{escape(s.name)}</text>'
            )
            x += 22 + 6.2 * len(s.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def scatter_map(
    points: Sequence[Sequence[float]],
    themes: Sequence[int],
    frame_ids: Sequence[int],
    *,
    width_px: int = 560,
    height_px: int = 420,
    radius_px: float = 4.5,
) -> Markup:
    """Return the 2-D map as SVG: one circle per frame, coloured by theme.

    Each circle carries ``data-frame`` (the frame id) so that the page's script can
    show the frame's thumbnail and text on hover.

    Args:
        points: Projection coordinates, one ``[x, y]`` per frame.
        themes: Theme id of each frame (-1 for none).
        frame_ids: The frame id of each point.
        width_px: Width of the SVG.
        height_px: Height of the SVG.
        radius_px: Circle radius.

    """
    pad = 12.0
    finite = [(float(p[0]), float(p[1])) for p in points if _finite(p[0]) and _finite(p[1])]
    parts = [
        f'<svg id="map" class="map" width="{width_px}" '
        f'height="{height_px}" viewBox="0 0 {width_px} {height_px}" role="img" '
        'aria-label="2-D map of the frames">'
        f'<rect x="0" y="0" width="{width_px}" height="{height_px}" class="map-bg"/>'
    ]
    if not finite:
        parts.append(
            f'<text x="{width_px / 2}" y="{height_px / 2}" text-anchor="middle" '
            'class="chart-empty">no projection</text></svg>'
        )
        return Markup("".join(parts))
    x_low, x_high = min(p[0] for p in finite), max(p[0] for p in finite)
    y_low, y_high = min(p[1] for p in finite), max(p[1] for p in finite)
    span = max(x_high - x_low, y_high - y_low) or 1.0
    # One scale for both axes: t-SNE distances mean the same in every direction.
    scale = min(width_px - 2 * pad, height_px - 2 * pad) / span
    x_off = (width_px - (x_high - x_low) * scale) / 2
    y_off = (height_px - (y_high - y_low) * scale) / 2
    for point, theme, frame_id in zip(points, themes, frame_ids, strict=False):
        if not (_finite(point[0]) and _finite(point[1])):
            continue
        cx = x_off + (float(point[0]) - x_low) * scale
        cy = height_px - (y_off + (float(point[1]) - y_low) * scale)
        parts.append(
            f'<circle class="pt" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius_px}" '
            f'fill="{theme_color(int(theme))}" data-frame="{int(frame_id)}" '
            f'data-theme="{int(theme)}"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass
class Segment:
    """One stretch of the timeline.

    Attributes:
        start_s: Start time in seconds.
        end_s: End time in seconds.
        theme: Theme id (-1 for none).
        frame_id: The frame the segment shows (its first frame for merged segments);
            -1 for none (a study's timelines, whose script-free page shows no frame).
        index: Position of the segment in the transcript table; -1 for none.
        title: Text shown when the pointer rests on the segment (none when empty).

    """

    start_s: float
    end_s: float
    theme: int
    frame_id: int = -1
    index: int = -1
    title: str = ""


def timeline(
    segments: Sequence[Segment],
    duration_s: float,
    *,
    width: int = 1000,
    height: int = 36,
    svg_id: str | None = "timeline",
    css_class: str = "timeline",
    label: str = "timeline coloured by theme",
) -> Markup:
    """Return the timeline strip as SVG: one rectangle per segment, coloured by theme.

    The SVG stretches to its box's width (``preserveAspectRatio="none"``); each
    rectangle carries ``data-theme``, and ``data-seg`` and ``data-frame`` for the
    run report's script when the segment has them.

    Args:
        segments: Segments in time order.
        duration_s: The video's duration (the strip's full width).
        width: ViewBox width.
        height: ViewBox height.
        svg_id: The element's id (None: no id, for a page with many strips).
        css_class: The element's class.
        label: Its accessible name.

    """
    total = max(duration_s, max((s.end_s for s in segments), default=0.0), 1e-9)
    id_attribute = f'id="{escape(svg_id)}" ' if svg_id else ""
    parts = [
        f'<svg {id_attribute}class="{escape(css_class)}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}">'
        f'<rect x="0" y="0" width="{width}" height="{height}" class="timeline-bg"/>'
    ]
    for seg in segments:
        x = seg.start_s / total * width
        w = max((seg.end_s - seg.start_s) / total * width, 0.5)
        data = f'data-theme="{seg.theme}"'
        if seg.index >= 0:
            data += f' data-seg="{seg.index}"'
        if seg.frame_id >= 0:
            data += f' data-frame="{seg.frame_id}"'
        head = (
            f'<rect class="seg" x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" '
            f'fill="{theme_color(seg.theme)}" {data}'
        )
        parts.append(
            f"{head}><title>{escape(seg.title)}</title></rect>" if seg.title else head + "/>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def heat_color(value: float | None, low: float = 0.0, high: float = 1.0) -> str:
    """Return a background colour for a similarity ``value`` (white → dark blue)."""
    if value is None or not _finite(value):
        return "#eeeeee"
    t = 0.0 if high <= low else min(max((float(value) - low) / (high - low), 0.0), 1.0)
    red = round(247 + (8 - 247) * t)
    green = round(251 + (48 - 251) * t)
    blue = round(255 + (107 - 255) * t)
    return f"rgb({red},{green},{blue})"


def heat_text_color(value: float | None, low: float = 0.0, high: float = 1.0) -> str:
    """Return black or white, whichever reads on :func:`heat_color` of ``value``."""
    if value is None or not _finite(value) or high <= low:
        return "#000"
    return "#fff" if (float(value) - low) / (high - low) > 0.55 else "#000"

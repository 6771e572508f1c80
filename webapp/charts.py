"""Charts as inline SVG, drawn on the server: nothing is fetched by the browser, so the app works
on a network with no internet access and needs no JavaScript library."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

POSITIVE, NEGATIVE, TOTAL, NEUTRAL = "#2e7d32", "#c62828", "#1f4e79", "#5b7fa3"


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: a label, the amount it adds, and a note (e.g. the level)."""

    label: str
    amount: float
    note: str = ""


def waterfall(steps: Sequence[Step], total_label: str = "match weight") -> str:
    """A waterfall chart: each step starts where the last ended; the last bar is the total.
    Used for a pair's match weight (the prior, then each field's weight)."""
    width, row, left, right = 640, 26, 170, 90
    bars = [*steps, Step(total_label, sum(step.amount for step in steps), "total")]
    running, spans = 0.0, []
    for position, step in enumerate(bars):
        if position == len(bars) - 1:
            spans.append((0.0, step.amount))
        else:
            spans.append((running, running + step.amount))
            running += step.amount
    low = min(0.0, *(min(span) for span in spans))
    high = max(0.0, *(max(span) for span in spans))
    scale = (width - left - right) / ((high - low) or 1.0)

    def x(value: float) -> float:
        return left + (value - low) * scale

    height = row * len(bars) + 24
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-label="How the match weight adds up">',
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="0" y2="{height - 20}" stroke="#888"/>',
    ]
    for position, (step, (start, end)) in enumerate(zip(bars, spans, strict=True)):
        y = position * row + 4
        is_total = position == len(bars) - 1
        colour = TOTAL if is_total else POSITIVE if step.amount >= 0 else NEGATIVE
        x0, x1 = sorted((x(start), x(end)))
        label = escape(step.label) + (
            f" ({escape(step.note)})" if step.note and not is_total else ""
        )
        parts += [
            f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">{label}</text>',
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1.5):.1f}" height="{row - 8}" '
            f'fill="{colour}"><title>{label}: {step.amount:+.2f}</title></rect>',
            f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 15}" font-size="12">'
            f"{step.amount:+.2f}</text>",
        ]
    parts.append(
        f'<text x="{left}" y="{height - 4}" font-size="11" fill="#555">'
        "weight in bits (log2 Bayes factor); right of the line favours a match</text></svg>"
    )
    return "".join(parts)


def _number(value: float) -> str:
    """A count with thousands separators (12,290); other values to four significant digits."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.4g}"


def _short(label: str, most: int = 52) -> str:
    return label if len(label) <= most else label[: most - 1] + "\u2026"


def bars(
    labels: Sequence[str],
    values: Sequence[float | None],
    unit: str = "",
    colour: str = NEUTRAL,
    title: str = "",
) -> str:
    """Horizontal bars, one per label; a missing value (suppressed) is shown as such."""
    width, row, left, right = 760, 22, 340, 80
    known = [value for value in values if value is not None]
    high = max([0.0, *known]) or 1.0
    scale = (width - left - right) / high
    height = row * len(labels) + 6
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-label="{escape(title)}">'
    ]
    for position, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = position * row + 3
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{escape(_short(str(label)))}</text>"
        )
        if value is None:
            parts.append(
                f'<text x="{left + 2}" y="{y + 13}" font-size="12" fill="#777">suppressed</text>'
            )
            continue
        parts += [
            f'<rect x="{left}" y="{y}" width="{max(value * scale, 1):.1f}" height="{row - 6}" '
            f'fill="{colour}"><title>{escape(str(label))}: {_number(value)}{unit}</title></rect>',
            f'<text x="{left + value * scale + 4:.1f}" y="{y + 13}" font-size="12">'
            f"{_number(value)}{unit}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    markers: dict[str, float] | None = None,
    chart_id: str = "",
) -> str:
    """Vertical bars over bins (``edges`` has one more value than ``counts``), with labelled
    vertical markers (e.g. the match and review thresholds). A marker outside the bins widens
    the axis to show it; labels of markers near each other are put on separate lines."""
    width, bottom, left, right = 640, 30, 40, 10
    markers = dict(sorted((markers or {}).items(), key=lambda item: item[1]))
    top_margin = 16 * len(markers) + 6
    height = 190 + top_margin
    first = min([edges[0], *markers.values()])
    last = max([edges[-1], *markers.values()])
    top = max([1, *counts])
    span = (last - first) or 1.0

    def x(value: float) -> float:
        return left + (value - first) / span * (width - left - right)

    identity = f' id="{escape(chart_id)}"' if chart_id else ""
    parts = [
        f'<svg class="chart"{identity} role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="Distribution of match weights">'
    ]
    for start, end, count in zip(edges[:-1], edges[1:], counts, strict=True):
        bar = count / top * (height - bottom - top_margin)
        parts.append(
            f'<rect x="{x(start):.1f}" y="{height - bottom - bar:.1f}" '
            f'width="{max(x(end) - x(start) - 1, 1):.1f}" height="{bar:.1f}" fill="{NEUTRAL}">'
            f"<title>{start:.1f} to {end:.1f}: {count:,}</title></rect>"
        )
    step = max(1, math.ceil(span / 8))
    for value in range(math.ceil(first), math.floor(last) + 1, step):
        parts.append(
            f'<text x="{x(value):.1f}" y="{height - 12}" font-size="11" text-anchor="middle">'
            f"{value:.0f}</text>"
        )
    for row, (label, value) in enumerate(markers.items()):
        at = x(value)
        # A label near the right edge reads leftwards from its line.
        anchor, shift = ("end", -3) if at > width * 0.7 else ("start", 3)
        parts += [
            f'<line class="threshold" x1="{at:.1f}" x2="{at:.1f}" y1="{16 * row + 4}" '
            f'y2="{height - bottom}" stroke="{NEGATIVE}" stroke-width="1.5" '
            f'stroke-dasharray="4 3"><title>{escape(label)}</title></line>',
            f'<text x="{at + shift:.1f}" y="{16 * row + 14}" font-size="12" '
            f'text-anchor="{anchor}" fill="{NEGATIVE}">{escape(label)}</text>',
        ]
    parts.append(
        f'<text x="{width - right}" y="{height - 1}" font-size="11" text-anchor="end">'
        "match weight (bits)</text></svg>"
    )
    return "".join(parts)


def trends(
    series: dict[str, Sequence[tuple[date, float | None]]],
    chart_id: str = "",
    title: str = "",
    columns: int = 3,
) -> str:
    """Small multiples: one panel per series (e.g. per KPI), each with its own scale from zero,
    its (date, value) points in date order joined by a line, every panel over the same dates.
    A value of None (withheld by disclosure control) breaks the line and is marked suppressed;
    a date a series has no point for is simply skipped."""
    dates = sorted({day for points in series.values() for day, _ in points})
    width, panel_height, gap = 760, 132, 14
    columns = max(1, min(columns, len(series)))
    panel_width = (width - gap * (columns - 1)) / columns
    rows = -(-len(series) // columns)
    height = rows * (panel_height + gap)
    first, last = min(dates), max(dates)
    days = (last - first).days

    identity = f' id="{escape(chart_id)}"' if chart_id else ""
    parts = [
        f'<svg class="chart"{identity} role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(title)}">'
    ]
    for position, (name, points) in enumerate(series.items()):
        points = sorted(points, key=lambda point: point[0])
        values = [value for _, value in points]
        left = (position % columns) * (panel_width + gap)
        top = (position // columns) * (panel_height + gap)
        plot_left, plot_right = left + 44, left + panel_width - 12
        plot_top, plot_bottom = top + 46, top + panel_height - 22
        known = [value for value in values if value is not None]
        high = max([0.0, *known]) or 1.0

        def x(day: date, plot_left: float = plot_left, plot_right: float = plot_right) -> float:
            if not days:
                return (plot_left + plot_right) / 2
            return plot_left + (day - first).days / days * (plot_right - plot_left)

        def y(
            value: float, top: float = plot_top, bottom: float = plot_bottom, high: float = high
        ) -> float:
            return bottom - value / high * (bottom - top)

        latest = next((value for value in reversed(values) if value is not None), None)
        parts += [
            f'<rect x="{left:.1f}" y="{top}" width="{panel_width:.1f}" height="{panel_height}" '
            'fill="#fff" stroke="#d0d4da"/>',
            f'<text class="kpi" x="{left + 6:.1f}" y="{top + 15}" font-size="12" '
            f'font-weight="600">{escape(_short(name, int(panel_width / 7.4)))}'
            f"<title>{escape(name)}</title></text>",
            f'<text x="{left + 6:.1f}" y="{top + 28}" font-size="11" fill="#555">latest '
            f"{_number(latest) if latest is not None else 'suppressed'}</text>",
            f'<line x1="{plot_left:.1f}" x2="{plot_right:.1f}" y1="{plot_bottom:.1f}" '
            f'y2="{plot_bottom:.1f}" stroke="#888"/>',
            f'<text x="{plot_left - 4:.1f}" y="{plot_top + 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="#555">{_number(high) if known else ""}</text>',
            f'<text x="{plot_left - 4:.1f}" y="{plot_bottom:.1f}" font-size="10" '
            'text-anchor="end" fill="#555">0</text>',
            f'<text x="{x(first):.1f}" y="{plot_bottom + 14:.1f}" '
            f'font-size="10" text-anchor="{"start" if days else "middle"}" fill="#555">'
            f"{first.isoformat()}</text>",
        ]
        if days:
            parts.append(
                f'<text x="{plot_right:.1f}" y="{plot_bottom + 14:.1f}" font-size="10" '
                f'text-anchor="end" fill="#555">{last.isoformat()}</text>'
            )
        run: list[str] = []
        for day, value in [*points, (None, None)]:
            if value is None and len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{TOTAL}" '
                    'stroke-width="2"/>'
                )
            if value is None:
                run = []
            else:
                run.append(f"{x(day):.1f},{y(value):.1f}")
        for day, value in points:
            label = f"{name}, {day.isoformat()}: "
            if value is None:
                parts.append(
                    f'<text x="{x(day):.1f}" y="{plot_bottom - 4:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="#777">&#215;<title>{escape(label)}suppressed'
                    "</title></text>"
                )
            else:
                parts.append(
                    f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="3.5" fill="{TOTAL}">'
                    f"<title>{escape(label)}{_number(value)}</title></circle>"
                )
    parts.append("</svg>")
    return "".join(parts)

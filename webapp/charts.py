"""Charts as inline SVG, drawn on the server: nothing is fetched by the browser, so the app works
on a network with no internet access and needs no JavaScript library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
            f'fill="{colour}"><title>{escape(str(label))}: {value:,.4g}{unit}</title></rect>',
            f'<text x="{left + value * scale + 4:.1f}" y="{y + 13}" font-size="12">'
            f"{value:,.4g}{unit}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def histogram(
    edges: Sequence[float], counts: Sequence[int], markers: dict[str, float] | None = None
) -> str:
    """Vertical bars over bins (``edges`` has one more value than ``counts``), with labelled
    vertical markers (e.g. the match and review thresholds)."""
    width, height, bottom, left = 640, 220, 30, 40
    top = max([1, *counts])
    span = (edges[-1] - edges[0]) or 1.0

    def x(value: float) -> float:
        return left + (value - edges[0]) / span * (width - left - 10)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-label="Distribution of match weights">'
    ]
    for start, end, count in zip(edges[:-1], edges[1:], counts, strict=True):
        bar = count / top * (height - bottom - 10)
        parts.append(
            f'<rect x="{x(start):.1f}" y="{height - bottom - bar:.1f}" '
            f'width="{max(x(end) - x(start) - 1, 1):.1f}" height="{bar:.1f}" fill="{NEUTRAL}">'
            f"<title>{start:.1f} to {end:.1f}: {count:,}</title></rect>"
        )
    for value in edges[:: max(1, len(edges) // 8)]:
        parts.append(
            f'<text x="{x(value):.1f}" y="{height - 12}" font-size="11" text-anchor="middle">'
            f"{value:.0f}</text>"
        )
    for label, value in (markers or {}).items():
        parts += [
            f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="0" y2="{height - bottom}" '
            f'stroke="{NEGATIVE}" stroke-dasharray="4 3"/>',
            f'<text x="{x(value) + 3:.1f}" y="12" font-size="11" fill="{NEGATIVE}">'
            f"{escape(label)}</text>",
        ]
    parts.append(f'<text x="{left}" y="{height - 1}" font-size="11">match weight</text></svg>')
    return "".join(parts)

"""Which collection year a period belongs to, so the loader can pick that year's schema.

A collection year is held as the calendar year it ends in: the 2024-25 SSDA903 and CIN returns
(year to 31 March 2025), the School Census terms of the 2024/25 academic year (autumn 2024,
spring 2025, summer 2025), the SEN2 return of January 2025, the monthly health extracts of
April 2024 to March 2025 and the attainment results of the 2024/25 academic year (``2024-25``,
out in the summer of 2025) are all collection year 2025. Schemas name years the way the sector
does (``2024-25``, or ``2025`` for SEN2); both forms read as the same number.
"""

from __future__ import annotations

import re

CADENCES = ("school_census", "sen2", "annual", "monthly", "assessment")
_LABEL = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


def parse_year_label(label: str | int) -> int:
    """``'2024-25'`` -> 2025, ``'2025'`` (or 2025) -> 2025; ``ValueError`` otherwise."""
    match = _LABEL.match(str(label).strip())
    if not match:
        raise ValueError(f"not a collection year (like 2024-25 or 2025): {label!r}")
    start, end = int(match.group(1)), match.group(2)
    if end is None:
        return start
    if (start + 1) % 100 != int(end):
        raise ValueError(f"not a collection year (like 2024-25): {label!r}")
    return start + 1


def year_label(year: int, cadence: str) -> str:
    """How the sector writes collection year ``year`` for a source: ``2025`` for SEN2 (named
    by its census), ``2024-25`` otherwise."""
    return str(year) if cadence == "sen2" else f"{year - 1}-{year % 100:02d}"


def collection_year(cadence: str, period: str) -> int:
    """The collection year (the year it ends in) of a period of a source with ``cadence``.

    ``2024-autumn`` -> 2025 (academic year 2024/25); ``2025-spring``, ``2025-summer`` -> 2025;
    SEN2 ``2025`` -> 2025; ``2024-25`` (a collection year, or an academic year's assessment
    results) -> 2025; monthly ``2024-04`` .. ``2025-03`` -> 2025 (the financial year NHS data
    sets change with).
    """
    if cadence == "school_census":
        year, term = period.split("-")
        return int(year) + 1 if term == "autumn" else int(year)
    if cadence == "sen2":
        return int(period)
    if cadence in ("annual", "assessment"):
        return parse_year_label(period)
    if cadence == "monthly":
        year, month = (int(part) for part in period.split("-"))
        return year + 1 if month >= 4 else year
    raise ValueError(f"unknown cadence {cadence!r} (expected one of {', '.join(CADENCES)})")

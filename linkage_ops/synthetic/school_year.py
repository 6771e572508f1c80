"""Census days, academic years and national curriculum years.

The census-day rules are data (``CENSUS_TERMS``): a term is the nth Thursday of a month.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class CensusTerm:
    """When a termly School Census falls and how the return names the term."""

    code: str
    month: int
    nth_thursday: int


# DfE census days: autumn first Thursday of October, spring and summer third Thursdays.
CENSUS_TERMS: dict[str, CensusTerm] = {
    "autumn": CensusTerm(code="AUT", month=10, nth_thursday=1),
    "spring": CensusTerm(code="SPR", month=1, nth_thursday=3),
    "summer": CensusTerm(code="SUM", month=5, nth_thursday=3),
}

# Reception is the year a child turns five; age on 31 August decides it.
RECEPTION_AGE = 4
ACADEMIC_YEAR_START_MONTH = 9


@dataclass(frozen=True)
class CensusPeriod:
    """A School Census collection such as ``2024-autumn``."""

    year: int
    term: str

    @property
    def label(self) -> str:
        return f"{self.year}-{self.term}"

    @property
    def term_code(self) -> str:
        return CENSUS_TERMS[self.term].code

    @property
    def census_day(self) -> date:
        rule = CENSUS_TERMS[self.term]
        return nth_weekday(self.year, rule.month, calendar.THURSDAY, rule.nth_thursday)


def parse_census_period(period: str) -> CensusPeriod:
    """``2024-autumn`` -> ``CensusPeriod(2024, "autumn")``; raises ``ValueError`` otherwise."""
    match = re.fullmatch(r"(\d{4})-([a-z]+)", period.strip().lower())
    if not match or match.group(2) not in CENSUS_TERMS:
        terms = ", ".join(CENSUS_TERMS)
        raise ValueError(f"census period must look like 2024-autumn (terms: {terms}): {period!r}")
    return CensusPeriod(year=int(match.group(1)), term=match.group(2))


def parse_month_period(period: str) -> date:
    """``2024-10`` -> the last day of that month (the day an extract is taken)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", period.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"month period must look like 2024-10: {period!r}")
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, calendar.monthrange(year, month)[1])


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``th ``weekday`` (Monday 0) of a month."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def academic_year_start(day: date) -> int:
    """The calendar year in which the academic year containing ``day`` began (1 September)."""
    return day.year if day.month >= ACADEMIC_YEAR_START_MONTH else day.year - 1


def age_on(birth: date, day: date) -> int:
    """Whole years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def nc_year_number(birth: date, census_day: date) -> int:
    """National curriculum year as a number: 0 Reception, 1-13, negative before school."""
    last_31_august = date(academic_year_start(census_day), 8, 31)
    return age_on(birth, last_31_august) - RECEPTION_AGE


def nc_year_label(year_number: int) -> str:
    """``ncyearactual`` as the census writes it: ``R`` for Reception, else the number."""
    return "R" if year_number == 0 else str(year_number)


def first_school_day(year: int) -> date:
    """A plausible first day of the autumn term: the first weekday on or after 2 September."""
    day = date(year, 9, 2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class CollectionYear:
    """A statutory collection year, 1 April to 31 March, e.g. ``2024-25``.

    CIN and SSDA903 cover the whole year; health feeds arrive monthly within it; the School
    Census terms of the academic year inside it are autumn and spring (summer falls after it).
    """

    start_year: int

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def first_day(self) -> date:
        return date(self.start_year, 4, 1)

    @property
    def last_day(self) -> date:
        return date(self.start_year + 1, 3, 31)

    @property
    def months(self) -> list[str]:
        """``2024-04`` ... ``2025-03``."""
        return [
            f"{self.start_year + (month < 4)}-{month:02d}"
            for month in (*range(4, 13), *range(1, 4))
        ]

    @property
    def census_periods(self) -> list[CensusPeriod]:
        """The School Census terms that fall inside the year: autumn, then spring."""
        return [
            CensusPeriod(self.start_year, "autumn"),
            CensusPeriod(self.start_year + 1, "spring"),
        ]


def parse_collection_year(label: str) -> CollectionYear:
    """``2024-25`` -> ``CollectionYear(2024)``; raises ``ValueError`` otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", label.strip())
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ValueError(f"collection year must look like 2024-25: {label!r}")
    return CollectionYear(int(match.group(1)))

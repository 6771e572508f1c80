"""Census days, academic years, national curriculum years and the school terms whose
attendance a census reports.

The census-day rules are data (``CENSUS_TERMS``): a term is the nth Thursday of a month. Term
dates are a typical English local authority's pattern (``school_term`` says how each is made).
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


def birthday(born: date, age: int) -> date:
    """The day a child born on ``born`` turns ``age`` (1 March for 29 February in other years)."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return date(born.year + age, 3, 1)


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


# --- Terms whose attendance a census reports --------------------------------------------------

# The attendance codes of the School Attendance (Pupil Registration) (England) Regulations 2024
# apply to sessions from this day; earlier terms were registered with the old codes.
NEW_ATTENDANCE_CODES_FROM = date(2024, 8, 19)


@dataclass(frozen=True)
class SchoolTerm:
    """A stretch of the school year: the school meets on the weekdays from ``first_day`` to
    ``last_day`` except ``closed_days`` (half-term weeks, bank holidays)."""

    name: str
    first_day: date
    last_day: date
    closed_days: frozenset[date] = frozenset()

    def school_days(self, start: date | None = None, end: date | None = None) -> int:
        """Days the school met from ``start`` to ``end`` (inclusive), within the term."""
        first = max(self.first_day, start or self.first_day)
        last = min(self.last_day, end or self.last_day)
        days, day = 0, first
        while day <= last:
            if day.weekday() < 5 and day not in self.closed_days:
                days += 1
            day += timedelta(days=1)
        return days

    @property
    def new_attendance_codes(self) -> bool:
        """Registered with the attendance codes of August 2024 (C1, C2, J1, K, Q, Y1-Y7)."""
        return self.first_day >= NEW_ATTENDANCE_CODES_FROM


def easter_sunday(year: int) -> date:
    """Easter Sunday of ``year`` (the Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _week_from(monday: date) -> frozenset[date]:
    return frozenset(monday + timedelta(days=i) for i in range(5))


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def school_term(name: str, year: int) -> SchoolTerm:
    """The ``autumn`` term (September to December of ``year``, a half-term week at the end of
    October), the ``spring`` term (January of ``year`` to Easter, a half-term week in
    February), or the first and second halves of the ``summer`` term (``summer_half_1``: the
    week after Easter Monday to the spring bank holiday, less the early May bank holiday;
    ``summer_half_2``: a week after the spring bank holiday to 22 July)."""
    easter = easter_sunday(year)
    spring_bank_holiday = nth_weekday(year, 5, calendar.MONDAY, 1)
    while spring_bank_holiday.month == 5:  # the last Monday of May
        spring_bank_holiday += timedelta(days=7)
    spring_bank_holiday -= timedelta(days=7)
    if name == "autumn":
        last_monday_of_october = nth_weekday(year, 11, calendar.MONDAY, 1) - timedelta(days=7)
        return SchoolTerm(
            name,
            first_school_day(year),
            _weekday_on_or_before(date(year, 12, 20)),
            _week_from(last_monday_of_october),
        )
    if name == "spring":
        first = date(year, 1, 6)
        while first.weekday() >= 5:
            first += timedelta(days=1)
        return SchoolTerm(
            name,
            first,
            easter - timedelta(days=3),
            _week_from(nth_weekday(year, 2, calendar.MONDAY, 3)),
        )
    if name == "summer_half_1":
        return SchoolTerm(
            name,
            easter + timedelta(days=8),
            spring_bank_holiday - timedelta(days=3),
            frozenset({nth_weekday(year, 5, calendar.MONDAY, 1)}),
        )
    if name == "summer_half_2":
        return SchoolTerm(
            name,
            spring_bank_holiday + timedelta(days=7),
            _weekday_on_or_before(date(year, 7, 22)),
        )
    raise ValueError(f"no school term {name!r}")


def reported_terms(period: CensusPeriod) -> dict[str, SchoolTerm]:
    """The attendance a census reports, one term in arrears: spring reports the autumn term,
    summer the spring term, and autumn the previous summer term in two halves (``termly`` is
    the first half, ``summerhalfterm2`` the second)."""
    if period.term == "spring":
        return {"termly": school_term("autumn", period.year - 1)}
    if period.term == "summer":
        return {"termly": school_term("spring", period.year)}
    return {
        "termly": school_term("summer_half_1", period.year),
        "summerhalfterm2": school_term("summer_half_2", period.year),
    }

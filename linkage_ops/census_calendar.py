"""When each return's data arrives, computed from the collection rules (never a list of dates).

- School Census: census days are the first Thursday of October (autumn), the third Thursday of
  January (spring) and the third Thursday of May (summer); periods are ``2024-autumn``.
- SEN2: census day is the third Thursday of January; the period is its year (``2025``).
- Children in Need census and SSDA903: the collection year runs to 31 March; the period is
  ``2024-25``.
- Health feeds: monthly extracts; the period is the month (``2025-03``).
- Attainment (cadence ``assessment``): the period is the academic year (``2024-25``); results
  arrive on a day the source's schema declares (``results_due``, e.g. the first Tuesday on or
  after 8 July for Key Stage 2), in the academic year's second calendar year. That day is the
  period end.

Each ``*_due_on(day)`` answers: which period should be loaded on ``day``? Data reaches the
landing folder some days after the census day or period end (``lag_days``), so a period falls
due that many days later.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from linkage_ops.ingest import load_schema
from linkage_ops.ingest.schema import ResultsDue

THURSDAY = 3
SCHOOL_CENSUS_TERMS = {"autumn": (10, 1), "spring": (1, 3), "summer": (5, 3)}  # month, nth
# Assessment results are loaded the day after they arrive, as CIN and SSDA903 are the day
# after their year ends.
DEFAULT_LAG_DAYS = {"school_census": 7, "sen2": 7, "annual": 1, "monthly": 5, "assessment": 1}


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The ``nth`` (1-based) ``weekday`` (Monday 0) of a month: nth_weekday(2024, 10, 3, 1) is
    the first Thursday of October 2024."""
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (nth - 1))


def weekday_on_or_after(year: int, month: int, weekday: int, day: int) -> date:
    """The first ``weekday`` (Monday 0) on or after ``day`` ``month`` ``year``:
    weekday_on_or_after(2025, 7, 1, 8) is 2025-07-08, a Tuesday."""
    start = date(year, month, day)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


def results_day(period: str, results_due: ResultsDue) -> date:
    """``2024-25`` -> the day its results arrive by ``results_due``, in 2025."""
    return weekday_on_or_after(
        int(period[:4]) + 1, results_due.month, results_due.weekday, results_due.on_or_after
    )


def school_census_day(period: str) -> date:
    """``2024-autumn`` -> 2024-10-03. A spring or summer term is in the year it names."""
    year, term = period.split("-")
    month, nth = SCHOOL_CENSUS_TERMS[term]
    return nth_weekday(int(year), month, THURSDAY, nth)


def period_of_day(cadence: str, day: date) -> str | None:
    """The period a day belongs to, for cadences whose periods a single date names: the month
    (``monthly``), or the term whose census day is nearest (``school_census``: a return's
    reference date is its census day). ``None`` for other cadences."""
    if cadence == "monthly":
        return f"{day:%Y-%m}"
    if cadence == "school_census":
        return min(
            (f"{day.year}-{term}" for term in SCHOOL_CENSUS_TERMS),
            key=lambda period: abs((school_census_day(period) - day).days),
        )
    return None


def sen2_census_day(period: str) -> date:
    """``2025`` -> the third Thursday of January 2025."""
    return nth_weekday(int(period), 1, THURSDAY, 3)


def collection_year_end(period: str) -> date:
    """``2024-25`` -> 2025-03-31."""
    return date(int(period[:4]) + 1, 3, 31)


def month_end(period: str) -> date:
    """``2025-02`` -> 2025-02-28."""
    year, month = (int(part) for part in period.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def school_census_due_on(day: date, lag_days: int = DEFAULT_LAG_DAYS["school_census"]) -> list[str]:
    """School Census periods whose census day was ``lag_days`` before ``day``."""
    census = day - timedelta(days=lag_days)
    return [
        period
        for term in SCHOOL_CENSUS_TERMS
        if school_census_day(period := f"{census.year}-{term}") == census
    ]


def sen2_due_on(day: date, lag_days: int = DEFAULT_LAG_DAYS["sen2"]) -> list[str]:
    census = day - timedelta(days=lag_days)
    return [str(census.year)] if sen2_census_day(str(census.year)) == census else []


def collection_year_due_on(day: date, lag_days: int = DEFAULT_LAG_DAYS["annual"]) -> list[str]:
    """The CIN / SSDA903 year that ended (31 March) ``lag_days`` before ``day``."""
    ended = day - timedelta(days=lag_days)
    if (ended.month, ended.day) != (3, 31):
        return []
    return [f"{ended.year - 1}-{ended.year % 100:02d}"]


def monthly_due_on(day: date, lag_days: int = DEFAULT_LAG_DAYS["monthly"]) -> list[str]:
    """The month that ended ``lag_days`` before ``day``."""
    ended = day - timedelta(days=lag_days)
    if ended + timedelta(days=1) != date(ended.year + ended.month // 12, ended.month % 12 + 1, 1):
        return []
    return [f"{ended.year}-{ended.month:02d}"]


def assessment_due_on(
    day: date, results_due: ResultsDue, lag_days: int = DEFAULT_LAG_DAYS["assessment"]
) -> list[str]:
    """The academic year whose results arrived (by ``results_due``) ``lag_days`` before
    ``day``."""
    arrived = day - timedelta(days=lag_days)
    period = f"{arrived.year - 1}-{arrived.year % 100:02d}"
    return [period] if results_day(period, results_due) == arrived else []


def period_end(cadence: str, period: str, results_due: ResultsDue | None = None) -> date:
    """The day a period's data describes up to (for freshness). An ``assessment`` period's is
    its results day, by its source's ``results_due`` (see ``source_period_end``)."""
    if cadence == "assessment":
        if results_due is None:
            raise ValueError("an assessment period's end needs its source's results_due")
        return results_day(period, results_due)
    return {
        "school_census": school_census_day,
        "sen2": sen2_census_day,
        "annual": collection_year_end,
        "monthly": month_end,
    }[cadence](period)


def source_period_end(source: str, period: str) -> date:
    """The period end of a period of ``source``, by the rules its schema declares."""
    schema = load_schema(source)
    return period_end(schema.cadence, period, schema.results_due)


def cadence_of(source: str) -> str:
    """How often ``source`` is collected, as its schema declares: ``school_census`` (termly,
    census days), ``sen2`` (January census), ``annual`` (year to 31 March), ``monthly`` or
    ``assessment`` (an academic year's results, on the schema's ``results_due`` day)."""
    return load_schema(source).cadence


def newest_period(source: str, periods) -> str | None:
    """The newest of ``source``'s ``periods`` by the calendar (2025-summer is newer than
    2025-spring, whatever the names sort as); None when there are none."""
    return max(periods, key=lambda period: source_period_end(source, period), default=None)


def comparable_period(source: str, period: str, periods) -> str | None:
    """The newest of ``periods`` earlier than ``period`` that it can be compared with (a row
    count, say). For the School Census that is the same term a year or more earlier: each term
    exports its own tables and columns (autumn's fsmperiodsonroll and addressesonroll, the
    summer term's attendance in two halves, the year's phase leavers), so autumn and spring
    counts differ by design. Otherwise the newest earlier period."""
    cadence = cadence_of(source)
    end = source_period_end(source, period)
    earlier = [p for p in periods if source_period_end(source, p) < end]
    if cadence == "school_census":
        term = period.split("-")[1]
        earlier = [p for p in earlier if p.split("-")[1] == term]
    return newest_period(source, earlier)


def periods_due_on(source: str, day: date) -> list[str]:
    """The periods of ``source`` that fall due on ``day``."""
    schema = load_schema(source)
    if schema.cadence == "assessment":
        return assessment_due_on(day, schema.results_due)
    return {
        "school_census": school_census_due_on,
        "sen2": sen2_due_on,
        "annual": collection_year_due_on,
        "monthly": monthly_due_on,
    }[schema.cadence](day)


def periods_due_since(source: str, first_period: str, today: date) -> list[str]:
    """The periods of ``source`` that fell due after ``first_period`` ended, up to ``today``,
    oldest first: what should have arrived since the source's first period."""
    periods: list[str] = []
    day = source_period_end(source, first_period) + timedelta(days=1)
    while day <= today:
        periods += [period for period in periods_due_on(source, day) if period not in periods]
        day += timedelta(days=1)
    return periods


# How late a source's latest period may be, in days after it fell due, before it is overdue:
# the default for each cadence. A source declares its own in its schema (max_days_late).
MAX_DAYS_LATE = {"school_census": 14, "sen2": 14, "annual": 45, "monthly": 10, "assessment": 14}


def max_days_late(source: str) -> int:
    """The days ``source``'s period may be late: its schema's ``max_days_late``, or its
    cadence's default."""
    declared = load_schema(source).max_days_late
    return declared if declared is not None else MAX_DAYS_LATE[cadence_of(source)]


def latest_period_due(source: str, today: date, lookback_days: int = 800) -> str | None:
    """The newest period of ``source`` that had fallen due by ``today``."""
    for back in range(lookback_days):
        due = periods_due_on(source, today - timedelta(days=back))
        if due:
            return due[-1]
    return None


def overdue_period(source: str, latest_loaded: str | None, today: date) -> str | None:
    """The period that should have arrived by ``today`` (allowing the source's days late) but
    is newer than the latest one loaded; ``None`` if the source is fresh."""
    # Overdue once more than the allowed days have passed since the period fell due.
    expected = latest_period_due(source, today - timedelta(days=max_days_late(source) + 1))
    if expected is None:
        return None
    if latest_loaded is None or source_period_end(source, latest_loaded) < source_period_end(
        source, expected
    ):
        return expected
    return None


# Weekdays and leap years repeat every 28 years (within a century that keeps its leap years):
# every day a period can fall due shows up in one such cycle.
CALENDAR_CYCLE_YEARS = 28
SCHEDULE_HOUR = 6


@cache
def due_day_crons(source: str, hour: int = SCHEDULE_HOUR) -> tuple[str, ...]:
    """Cron expressions firing on exactly the days of the year a period of ``source`` can fall
    due, worked out from the rules above (so the calendar stays the one place they are
    written): e.g. ``0 6 22-28 1,5 *`` and ``0 6 8-14 10 *`` for the School Census (a week
    after a Thursday census day, in January, May and October), ``0 6 5 * *`` monthly. Which of
    those days it is in a given year is still the calendar's to say."""
    days_by_month: dict[int, set[int]] = {}
    start = date(2001, 1, 1)
    for offset in range((date(2001 + CALENDAR_CYCLE_YEARS, 1, 1) - start).days):
        day = start + timedelta(days=offset)
        if periods_due_on(source, day):
            days_by_month.setdefault(day.month, set()).add(day.day)
    months_by_days: dict[str, list[int]] = {}
    for month, days in sorted(days_by_month.items()):
        months_by_days.setdefault(_cron_list(sorted(days)), []).append(month)
    return tuple(
        f"0 {hour} {days} {'*' if len(months) == 12 else _cron_list(months)} *"
        for days, months in months_by_days.items()
    )


def _cron_list(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``1-3,7``."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ",".join(
        f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(map(str, run)) for run in runs
    )

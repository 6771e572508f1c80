"""Census days and due periods from the collection rules, over several years."""

from datetime import date, timedelta

import pytest

from linkage_ops.census_calendar import (
    collection_year_due_on,
    month_end,
    monthly_due_on,
    nth_weekday,
    period_end,
    periods_due_on,
    school_census_day,
    school_census_due_on,
    sen2_census_day,
    sen2_due_on,
)


@pytest.mark.parametrize(
    ("period", "census_day"),
    [
        ("2022-autumn", date(2022, 10, 6)),
        ("2023-spring", date(2023, 1, 19)),
        ("2023-summer", date(2023, 5, 18)),
        ("2023-autumn", date(2023, 10, 5)),
        ("2024-spring", date(2024, 1, 18)),
        ("2024-summer", date(2024, 5, 16)),
        ("2024-autumn", date(2024, 10, 3)),
        ("2025-spring", date(2025, 1, 16)),
        ("2025-summer", date(2025, 5, 15)),
        ("2026-autumn", date(2026, 10, 1)),
        ("2027-spring", date(2027, 1, 21)),
    ],
)
def test_school_census_days(period: str, census_day: date) -> None:
    assert school_census_day(period) == census_day
    assert census_day.weekday() == 3  # a Thursday


def test_nth_weekday_when_the_month_starts_on_that_day() -> None:
    assert nth_weekday(2026, 10, 3, 1) == date(2026, 10, 1)  # 1 October 2026 is a Thursday
    assert nth_weekday(2026, 10, 3, 3) == date(2026, 10, 15)


def test_each_census_falls_due_once_a_week_after_census_day() -> None:
    year = [date(2024, 9, 1) + timedelta(days=n) for n in range(366)]
    due = {day: school_census_due_on(day) for day in year if school_census_due_on(day)}
    assert due == {
        date(2024, 10, 10): ["2024-autumn"],
        date(2025, 1, 23): ["2025-spring"],
        date(2025, 5, 22): ["2025-summer"],
    }


def test_sen2_annual_and_monthly_due_dates() -> None:
    assert sen2_census_day("2025") == date(2025, 1, 16)
    assert sen2_census_day("2026") == date(2026, 1, 15)
    assert sen2_due_on(date(2025, 1, 23)) == ["2025"]
    assert sen2_due_on(date(2025, 1, 22)) == []
    assert collection_year_due_on(date(2025, 4, 1)) == ["2024-25"]
    assert collection_year_due_on(date(2000, 4, 1)) == ["1999-00"]
    assert collection_year_due_on(date(2025, 3, 31)) == []
    assert monthly_due_on(date(2025, 3, 5)) == ["2025-02"]
    assert monthly_due_on(date(2025, 1, 5)) == ["2024-12"]
    assert monthly_due_on(date(2025, 3, 6)) == []
    assert month_end("2024-02") == date(2024, 2, 29)
    assert month_end("2024-12") == date(2024, 12, 31)


def test_each_source_has_its_cycle() -> None:
    assert periods_due_on("school_census", date(2024, 10, 10)) == ["2024-autumn"]
    assert periods_due_on("children_in_need", date(2025, 4, 1)) == ["2024-25"]
    assert periods_due_on("looked_after", date(2025, 4, 1)) == ["2024-25"]
    assert periods_due_on("gp", date(2025, 4, 5)) == ["2025-03"]
    assert periods_due_on("gp", date(2025, 4, 1)) == []
    assert period_end("annual", "2024-25") == date(2025, 3, 31)
    assert period_end("school_census", "2024-autumn") == date(2024, 10, 3)


def test_a_source_is_overdue_only_after_its_days_late() -> None:
    from linkage_ops.census_calendar import latest_period_due, overdue_period

    assert latest_period_due("school_census", date(2025, 1, 22)) == "2024-autumn"
    assert latest_period_due("school_census", date(2025, 1, 23)) == "2025-spring"
    # Spring census day 2025-01-16, due 2025-01-23, overdue more than 14 days later.
    assert overdue_period("school_census", "2024-autumn", date(2025, 2, 6)) is None
    assert overdue_period("school_census", "2024-autumn", date(2025, 2, 7)) == "2025-spring"
    assert overdue_period("school_census", "2025-spring", date(2025, 2, 6)) is None
    # Term order is by census day, not by name: summer is newer than spring.
    assert overdue_period("school_census", "2025-summer", date(2025, 6, 30)) is None
    assert overdue_period("gp", "2025-02", date(2025, 4, 15)) is None
    assert overdue_period("gp", "2025-02", date(2025, 4, 16)) == "2025-03"
    assert overdue_period("gp", "2025-03", date(2025, 4, 15)) is None
    assert overdue_period("looked_after", None, date(2025, 6, 1)) == "2024-25"


def test_a_source_declares_its_own_days_late_in_its_schema(monkeypatch) -> None:
    from dataclasses import replace

    from linkage_ops import census_calendar
    from linkage_ops.ingest import load_schema

    assert census_calendar.max_days_late("gp") == load_schema("gp").max_days_late == 10
    # An authority whose GP extract arrives later says so in gp.yaml: max_days_late: 20.
    patient = replace(load_schema("gp"), max_days_late=20)
    monkeypatch.setattr(census_calendar, "load_schema", lambda source: patient)
    assert census_calendar.overdue_period("gp", "2025-02", date(2025, 4, 16)) is None
    assert census_calendar.overdue_period("gp", "2025-02", date(2025, 4, 26)) == "2025-03"
    # Without a declaration, the cadence's default applies.
    monkeypatch.setattr(
        census_calendar, "load_schema", lambda source: replace(patient, max_days_late=None)
    )
    assert census_calendar.max_days_late("gp") == census_calendar.MAX_DAYS_LATE["monthly"]


def test_the_newest_period_is_by_the_calendar_not_by_name() -> None:
    from linkage_ops.census_calendar import newest_period

    assert newest_period("school_census", ["2025-spring", "2025-summer", "2024-autumn"]) == (
        "2025-summer"
    )
    assert newest_period("gp", ["2025-03", "2024-12"]) == "2025-03"
    assert newest_period("gp", []) is None


def test_a_school_census_term_is_compared_with_the_same_term_earlier() -> None:
    from linkage_ops.census_calendar import comparable_period

    loaded = ["2023-autumn", "2024-spring", "2024-summer", "2024-autumn", "2025-spring"]
    # Each term exports its own tables: spring is compared with spring, not with autumn.
    assert comparable_period("school_census", "2025-spring", loaded) == "2024-spring"
    assert comparable_period("school_census", "2024-autumn", loaded) == "2023-autumn"
    assert comparable_period("school_census", "2023-autumn", loaded) is None
    assert comparable_period("gp", "2025-03", ["2025-01", "2025-02", "2025-04"]) == "2025-02"


# --- Attainment: cadence assessment, results day from the schema's results_due ----------------

KEY_STAGE_2 = "results_due: {month: 7, weekday: tuesday, on_or_after: 8}"
ASSESSMENT_SCHEMA = """
source: results
service: education
cadence: assessment
period_pattern: '^\\d{4}-\\d{2}$'
RESULTS_DUE
tables:
  pupils:
    record_id: UPN
    columns:
      UPN: {mandatory: true}
"""


def assessment_schema(tmp_path, results_due: str = KEY_STAGE_2, cadence: str = "assessment"):
    from linkage_ops.ingest import load_schema

    folder = tmp_path / "schemas"
    (folder / "codelists").mkdir(parents=True, exist_ok=True)
    text = ASSESSMENT_SCHEMA.replace("RESULTS_DUE", results_due)
    (folder / "results.yaml").write_text(text.replace("cadence: assessment", f"cadence: {cadence}"))
    return load_schema("results", folder)


@pytest.mark.parametrize(
    ("period", "results_day"),
    [
        ("2021-22", date(2022, 7, 12)),
        ("2022-23", date(2023, 7, 11)),
        ("2023-24", date(2024, 7, 9)),
        ("2024-25", date(2025, 7, 8)),  # 8 July 2025 is a Tuesday
        ("2025-26", date(2026, 7, 14)),
    ],
)
def test_key_stage_2_results_arrive_on_the_first_tuesday_on_or_after_8_july(
    tmp_path, period: str, results_day: date
) -> None:
    schema = assessment_schema(tmp_path)
    assert str(schema.results_due) == "the first Tuesday on or after 8 July"
    assert period_end("assessment", period, schema.results_due) == results_day
    assert results_day.weekday() == 1  # a Tuesday


def test_an_assessment_period_falls_due_the_day_after_its_results(tmp_path, monkeypatch) -> None:
    from linkage_ops import census_calendar

    schema = assessment_schema(tmp_path)
    monkeypatch.setattr(census_calendar, "load_schema", lambda source: schema)
    year = [date(2024, 9, 1) + timedelta(days=n) for n in range(730)]
    due = {day: periods_due_on("ks2", day) for day in year if periods_due_on("ks2", day)}
    assert due == {date(2025, 7, 9): ["2024-25"], date(2026, 7, 15): ["2025-26"]}
    assert census_calendar.source_period_end("ks2", "2023-24") == date(2024, 7, 9)
    assert census_calendar.max_days_late("ks2") == census_calendar.MAX_DAYS_LATE["assessment"]
    # Overdue once more than the days late have passed since the day after results day.
    assert census_calendar.overdue_period("ks2", "2023-24", date(2025, 7, 23)) is None
    assert census_calendar.overdue_period("ks2", "2023-24", date(2025, 7, 24)) == "2024-25"
    assert census_calendar.overdue_period("ks2", "2024-25", date(2025, 12, 1)) is None
    assert census_calendar.newest_period("ks2", ["2024-25", "2022-23", "2023-24"]) == "2024-25"
    loaded = ["2022-23", "2023-24", "2025-26"]
    assert census_calendar.comparable_period("ks2", "2024-25", loaded) == "2023-24"
    assert census_calendar.comparable_period("ks2", "2022-23", loaded) is None


def test_the_results_day_rule_is_read_from_the_schema(tmp_path, monkeypatch) -> None:
    from linkage_ops import census_calendar

    # The last Friday of June is the first Friday on or after 24 June.
    schema = assessment_schema(
        tmp_path, "results_due: {month: 6, weekday: friday, on_or_after: 24}"
    )
    monkeypatch.setattr(census_calendar, "load_schema", lambda source: schema)
    assert census_calendar.source_period_end("eyfsp", "2024-25") == date(2025, 6, 27)
    assert census_calendar.source_period_end("eyfsp", "2023-24") == date(2024, 6, 28)
    assert periods_due_on("eyfsp", date(2025, 6, 28)) == ["2024-25"]
    assert periods_due_on("eyfsp", date(2025, 7, 9)) == []


@pytest.mark.parametrize(
    ("results_due", "cadence", "message"),
    [
        ("", "assessment", "cadence assessment needs results_due"),
        (KEY_STAGE_2, "annual", "only a source with cadence assessment"),
        ("results_due: {month: 7, weekday: tuesday}", "assessment", "missing on_or_after"),
        ("results_due: {month: 7, weekday: tue, on_or_after: 8}", "assessment", "weekday must"),
        ("results_due: {month: 13, weekday: friday, on_or_after: 8}", "assessment", "month must"),
        ("results_due: {month: 2, weekday: friday, on_or_after: 29}", "assessment", "every Feb"),
        (
            "results_due: {month: 7, weekday: tuesday, on_or_after: 8, year: 2}",
            "assessment",
            "unknown key 'year'",
        ),
    ],
)
def test_a_results_due_rule_that_cannot_be_followed_is_refused(
    tmp_path, results_due: str, cadence: str, message: str
) -> None:
    from linkage_ops.ingest import SchemaError

    with pytest.raises(SchemaError, match=message):
        assessment_schema(tmp_path, results_due, cadence)


def test_an_assessment_period_is_its_academic_years_collection_year() -> None:
    from linkage_ops.ingest.collection_year import collection_year, year_label

    assert collection_year("assessment", "2024-25") == 2025
    assert year_label(2025, "assessment") == "2024-25"
    with pytest.raises(ValueError, match="results_due"):
        period_end("assessment", "2024-25")

"""Great Expectations suites on DataFrames: critical findings are errors, warnings are
warnings, the volume rule compares with the previous period, and the report says so."""

import json
from datetime import date
from pathlib import Path

import pandas as pd

from linkage_ops.ingest import load_schema
from linkage_ops.quality import (
    period_parameters,
    raw_suite,
    validate,
    validate_periods,
    write_report,
)


def gp_rows(count: int, **overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "REGISTRATION_ID": [str(i) for i in range(count)],
            "NHS_NUMBER": ["943 476 5919"] * count,
            "FORENAME": ["Ava"] * count,
            "SURNAME": ["Cole"] * count,
            "DATE_OF_BIRTH": ["2015-01-02"] * count,
            "SEX": ["2"] * count,
            "POSTCODE": ["HR1 2AB"] * count,
            "PRACTICE_CODE": ["M85001"] * count,
            "REGISTRATION_START_DATE": ["2015-02-01"] * count,
            "REGISTRATION_END_DATE": [None] * count,
            "_source_file": ["gp_2025-03.csv"] * count,
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


SUITE = raw_suite("gp", load_schema("gp").for_period("2025-03").tables["registrations"])
MARCH_2025 = period_parameters(date(2025, 3, 31))


def check(frame: pd.DataFrame, previous_rows: int | None = None):
    return validate(frame, SUITE, previous_rows, MARCH_2025)


def test_a_good_period_meets_every_expectation() -> None:
    result = check(gp_rows(200), previous_rows=210)
    assert result.findings == []
    assert result.evaluated > 20


def test_a_code_outside_its_list_is_an_error_and_low_identifier_validity_a_warning() -> None:
    sex = ["2"] * 190 + ["7"] * 10
    nhs = ["943 476 5919"] * 180 + ["not a number"] * 20
    result = check(gp_rows(200, SEX=sex, NHS_NUMBER=nhs))
    assert [(f.column, f.expectation) for f in result.errors] == [
        ("SEX", "expect_column_values_to_be_in_set")
    ]
    assert [(f.column, f.expectation) for f in result.warnings] == [
        ("NHS_NUMBER", "expect_column_values_to_match_regex")
    ]
    assert "10 unexpected values" in result.describe()
    assert "943" not in result.describe()  # counts, never the values themselves


def test_a_missing_column_is_an_error_and_a_volume_drop_a_warning(tmp_path: Path) -> None:
    result = check(gp_rows(100).drop(columns="PRACTICE_CODE"), previous_rows=400)
    assert ("PRACTICE_CODE", "expect_column_to_exist") in [
        (f.column, f.expectation) for f in result.errors
    ]
    assert "expect_table_row_count_to_be_between" in [f.expectation for f in result.warnings]
    # Small feeds swing: below 100 rows in the previous period, volume is not judged.
    assert check(gp_rows(10), previous_rows=90).findings == []
    report = write_report([result], tmp_path / "report.html", "gp 2025-03")
    text = report.read_text()
    assert "PRACTICE_CODE" in text and "failed" in text


def test_a_record_id_repeated_in_one_file_is_an_error_but_not_across_files() -> None:
    ids = [str(i) for i in range(199)] + ["0"]
    repeated = check(gp_rows(200, REGISTRATION_ID=ids))
    assert [(f.expectation, f.observed) for f in repeated.errors] == [
        ("expect_compound_columns_to_be_unique", "2 unexpected values (1.0%)")
    ]
    files = ["gp_2025-03.csv"] * 199 + ["gp_2025-03_resend.csv"]
    assert check(gp_rows(200, REGISTRATION_ID=ids, _source_file=files)).findings == []


def test_a_few_dates_outside_the_period_warn_and_many_mean_the_wrong_file() -> None:
    # Born after the period ended, or 30 years before it: a few slips are a warning.
    births = ["2015-01-02"] * 196 + ["2025-06-01", "2025-04-01", "1995-03-30", "2015-01-02"]
    slips = check(gp_rows(200, DATE_OF_BIRTH=births))
    # Each bound is its own expectation: two born after the period, one too long before it.
    assert [(f.column, f.severity, f.observed.split(" (")[0]) for f in slips.findings] == [
        ("DATE_OF_BIRTH", "warn", "1 unexpected values"),
        ("DATE_OF_BIRTH", "warn", "2 unexpected values"),
    ]
    # Next year's extract delivered as March 2025: most registrations start after it.
    starts = ["2025-05-01"] * 150 + ["2015-02-01"] * 50
    wrong = check(gp_rows(200, REGISTRATION_START_DATE=starts))
    assert [(f.column, f.severity) for f in wrong.findings] == [
        ("REGISTRATION_START_DATE", "warn"),
        ("REGISTRATION_START_DATE", "error"),
    ]
    # The same file is sound for a later period.
    later = validate(
        gp_rows(200, REGISTRATION_START_DATE=starts),
        SUITE,
        None,
        period_parameters(date(2025, 5, 31)),
    )
    assert later.findings == []


def test_a_raw_suite_is_the_schema_of_the_year_checked_plus_hand_written_additions(
    tmp_path: Path,
) -> None:
    census = load_schema("school_census")

    def sen_types(period: str) -> set[str]:
        suite = raw_suite("school_census", census.for_period(period).tables["senneeds"])
        (in_set,) = [
            e for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_in_set"
        ]
        return set(in_set["kwargs"]["value_set"])

    # DfE added Down syndrome (DS) as a type of need in 2024-25: the suite follows the year.
    assert "DS" in sen_types("2025-spring")
    assert "DS" not in sen_types("2024-spring")
    additions = {
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "NHS_NUMBER", "mostly": 0.99},
                "severity": "warning",
            }
        ],
        "meta": {"volume": {"min_ratio": 0.9, "max_ratio": 1.1, "min_previous_rows": 10}},
    }
    (tmp_path / "gp__registrations.json").write_text(json.dumps(additions))
    table = load_schema("gp").for_period("2025-03").tables["registrations"]
    tuned = raw_suite("gp", table, extras_dir=tmp_path)
    assert tuned["expectations"][-1] == additions["expectations"][0]
    assert len(tuned["expectations"]) == len(SUITE["expectations"]) + 1
    assert tuned["meta"]["volume"]["min_ratio"] == 0.9
    assert tuned["meta"]["date_formats"] == SUITE["meta"]["date_formats"]
    # The tighter volume rule now warns where the default would not.
    assert validate(gp_rows(150), tuned, 200, MARCH_2025).warnings
    assert not validate(gp_rows(150), SUITE, 200, MARCH_2025).warnings


def test_an_empty_period_is_judged_without_running_every_expectation() -> None:
    empty = gp_rows(0)
    assert check(empty).findings == []
    # A table that had rows last period and has none now is still a volume warning.
    (drop,) = check(empty, previous_rows=400).findings
    assert (drop.expectation, drop.severity) == ("expect_table_row_count_to_be_between", "warn")
    # And a column missing from it is still an error.
    (missing,) = check(empty.drop(columns="SEX")).errors
    assert (missing.expectation, missing.column) == ("expect_column_to_exist", "SEX")


def test_periods_validated_together_are_each_judged_on_their_own_rows() -> None:
    """A backfill validates its periods in one run; a wrong file in one period fails that
    period only, though its rows are a small share of the whole, and each period's volume is
    compared with its own previous period."""
    months = {"2025-01": "2025-01-31", "2025-02": "2025-02-28", "2025-03": "2025-03-31"}
    frames = []
    for period, end in months.items():
        starts = ["2025-02-15"] * 100 if period == "2025-01" else ["2015-02-01"] * 100
        frame = gp_rows(100 if period != "2025-03" else 30, _period_end=end)
        frame["REGISTRATION_START_DATE"] = starts[: len(frame)]
        frames.append(frame.assign(_period=period))
    # A birth date 26 years before 15 February 2025 is within January's bound (26 years before
    # 31 January) and too early for the later periods, each judged against its own end.
    frames[1].loc[0, "DATE_OF_BIRTH"] = "1999-02-15"
    frames[0].loc[0, "DATE_OF_BIRTH"] = "1999-02-15"
    results = validate_periods(
        pd.concat(frames, ignore_index=True),
        SUITE,
        {"2025-01": None, "2025-02": 100, "2025-03": 100},
    )
    assert [(f.column, f.severity) for f in results["2025-01"].errors] == [
        ("REGISTRATION_START_DATE", "error")
    ]
    assert [(f.column, f.severity) for f in results["2025-02"].findings] == [
        ("DATE_OF_BIRTH", "warn")
    ]
    assert [f.expectation for f in results["2025-03"].findings] == [
        "expect_table_row_count_to_be_between"
    ]
    assert [results[p].rows for p in months] == [100, 100, 30]


def test_the_report_index_lists_every_report_newest_first_with_counts_and_no_values(
    tmp_path: Path,
) -> None:
    """126 report folders named by run id, with no index."""
    from linkage_ops.quality import write_report_index

    names = ["Zoë"] * 99 + ["Rhiannon-Secret"]
    bad = check(gp_rows(100, FORENAME=names, SEX=["2"] * 99 + ["7"]))
    good = check(gp_rows(100))
    reports = tmp_path / "reports"
    write_report([good], reports / "run-a" / "gp_2025-02.html", "gp 2025-02: data quality")
    write_report([bad], reports / "run-b" / "gp_2025-03.html", "gp 2025-03: data quality")
    # The later report is written later: newest first.
    summary = reports / "run-b" / "gp_2025-03.json"
    stamp = json.loads(summary.read_text())
    summary.write_text(json.dumps({**stamp, "written_at": "2999-01-01T00:00:00+00:00"}))

    index = write_report_index(reports).read_text()
    assert index.index("gp 2025-03") < index.index("gp 2025-02")
    assert "href='run-b/gp_2025-03.html'" in index
    assert f"<td class='failed'>failed</td><td>{bad.evaluated - len(bad.findings)}</td>" in index
    assert "<td class='passed'>passed</td>" in index
    assert "Rhiannon-Secret" not in index and "Zoë" not in index

"""Great Expectations suites on DataFrames: critical findings are errors, warnings are
warnings, the volume rule compares with the previous period, and the report says so."""

from pathlib import Path

import pandas as pd

from linkage_ops.quality import EXPECTATIONS_DIR, load_suite, validate, write_report


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
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


SUITE = load_suite(EXPECTATIONS_DIR / "raw" / "gp__registrations.json")


def test_a_good_period_meets_every_expectation() -> None:
    result = validate(gp_rows(200), SUITE, previous_rows=210)
    assert result.findings == []
    assert result.evaluated > 20


def test_a_code_outside_its_list_is_an_error_and_low_identifier_validity_a_warning() -> None:
    sex = ["2"] * 190 + ["7"] * 10
    nhs = ["943 476 5919"] * 180 + ["not a number"] * 20
    result = validate(gp_rows(200, SEX=sex, NHS_NUMBER=nhs), SUITE)
    assert [(f.column, f.expectation) for f in result.errors] == [
        ("SEX", "expect_column_values_to_be_in_set")
    ]
    assert [(f.column, f.expectation) for f in result.warnings] == [
        ("NHS_NUMBER", "expect_column_values_to_match_regex")
    ]
    assert "10 unexpected values" in result.describe()
    assert "943" not in result.describe()  # counts, never the values themselves


def test_a_missing_column_is_an_error_and_a_volume_drop_a_warning(tmp_path: Path) -> None:
    result = validate(gp_rows(100).drop(columns="PRACTICE_CODE"), SUITE, previous_rows=400)
    assert ("PRACTICE_CODE", "expect_column_to_exist") in [
        (f.column, f.expectation) for f in result.errors
    ]
    assert "expect_table_row_count_to_be_between" in [f.expectation for f in result.warnings]
    # Small feeds swing: below 100 rows in the previous period, volume is not judged.
    assert validate(gp_rows(10), SUITE, previous_rows=90).findings == []
    report = write_report([result], tmp_path / "report.html", "gp 2025-03")
    text = report.read_text()
    assert "PRACTICE_CODE" in text and "failed" in text

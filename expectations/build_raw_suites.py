"""Write a first GX suite per raw table from its loading schema (linkage_ops/schemas/).

    .venv/bin/python expectations/build_raw_suites.py

The suites are data: after this first cut, edit the JSON files by hand (this script does not
overwrite a suite that exists unless --force). Each suite checks the columns are present,
mandatory fields are filled, code lists hold (all critical: the loader quarantines bad rows,
so a failure means a loading bug), record keys are unique in their file where the return
guarantees it (critical; warning for the SSDA903 tables where repeated episodes do occur and
staging repairs them), dates fall in the period's range (warning for any date outside; critical
when more than 5% are, which means the wrong period's file or a misread date format),
identifier and postcode validity rates (warning below 95%), and the row count against the
previous period (warning outside 0.4 to 2.5 times, when the previous period had at least 100
rows: small feeds swing from month to month).

Date ranges use suite parameters the check supplies for each period (linkage_ops.quality.
period_parameters): ``period_end``, ``earliest_birth`` (26 years before: care leavers are
supported to 25) and ``earliest_parent_birth`` (70 years before).
"""

import argparse
import json
from pathlib import Path

from linkage_ops.ingest import available_sources, load_schema

OUT = Path(__file__).resolve().parent / "raw"
IDENTIFIER_PATTERNS = {
    "nhs_number": r"^\d{3}[ -]?\d{3}[ -]?\d{4}$",
    # A UPN, or one of the "not known" codes UN1-UN5 SSDA903 allows.
    "upn": r"^([A-Za-z]\d{11}[0-9A-Za-z]|UN[1-5])$",
    "postcode": r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$",
}
# Dates that may lie after the period: planned or expected ones.
FUTURE_DATES = {"ExpectedPersonBirthDate", "InitialCPCtarget", "DUC"}
# Parents' dates of birth.
PARENT_DATES = {"MOTHER_DATE_OF_BIRTH"}
# SSDA903 tables with several rows per child: the key, unique in a sound return. Repeats do
# arrive (staging repairs them), so these are warnings. Every other table's record id is
# unique in its file, critical; tables keyed by their place in an XML document are skipped.
REPEATING_KEYS = {
    ("looked_after", "episodes"): ["CHILD", "DECOM"],
    ("looked_after", "reviews"): ["CHILD", "REVIEW"],
    ("looked_after", "missing"): ["CHILD", "MIS_START"],
    ("looked_after", "swepisodes"): ["CHILD", "SW_DECOM"],
}


def date_range(column: str) -> list[dict]:
    """Every value within the period's range (warning); 95% within it (critical)."""
    earliest = "earliest_parent_birth" if column in PARENT_DATES else "earliest_birth"
    kwargs = {"column": column, "min_value": {"$PARAMETER": earliest}}
    if column not in FUTURE_DATES:
        kwargs["max_value"] = {"$PARAMETER": "period_end"}
    return [
        {"type": "expect_column_values_to_be_between", "kwargs": kwargs, "severity": "warning"},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {**kwargs, "mostly": 0.95},
            "severity": "critical",
        },
    ]


def uniqueness(source: str, table: str, record_id: str | None) -> list[dict]:
    if (source, table) in REPEATING_KEYS:
        columns, severity = REPEATING_KEYS[(source, table)], "warning"
    elif record_id and not record_id.startswith("_"):
        columns, severity = [record_id], "critical"
    else:
        return []
    return [
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": [*columns, "_source_file"]},
            "severity": severity,
        }
    ]


def suite_for(source: str, table: str, schema) -> dict:
    rules = schema.columns
    expectations = uniqueness(source, table, schema.record_id)
    for rule in rules:
        column = rule.name
        expectations.append(
            {"type": "expect_column_to_exist", "kwargs": {"column": column}, "severity": "critical"}
        )
        if rule.required:
            expectations.append(
                {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": column},
                    "severity": "critical",
                }
            )
        if rule.type == "code" and rule.codes:
            expectations.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": column, "value_set": sorted(rule.codes)},
                    "severity": "critical",
                }
            )
        if rule.type == "date":
            expectations.extend(date_range(column))
        if rule.type in IDENTIFIER_PATTERNS:
            expectations.append(
                {
                    "type": "expect_column_values_to_match_regex",
                    "kwargs": {
                        "column": column,
                        "regex": IDENTIFIER_PATTERNS[rule.type],
                        "mostly": 0.95,
                    },
                    "severity": "warning",
                }
            )
    return {
        "name": f"raw.{source}__{table}",
        "expectations": expectations,
        "meta": {
            "table": f"raw.{source}__{table}",
            "volume": {"min_ratio": 0.4, "max_ratio": 2.5, "min_previous_rows": 100},
            "date_formats": {rule.name: rule.date_format for rule in rules if rule.type == "date"},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for source in available_sources():
        for table, schema in load_schema(source).tables.items():
            path = OUT / f"{source}__{table}.json"
            if path.exists() and not args.force:
                continue
            suite = suite_for(source, table, schema)
            path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

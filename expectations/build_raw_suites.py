"""Write a first GX suite per raw table from its loading schema (linkage_ops/schemas/).

    .venv/bin/python expectations/build_raw_suites.py

The suites are data: after this first cut, edit the JSON files by hand (this script does not
overwrite a suite that exists unless --force). Each suite checks the columns are present,
mandatory fields are filled, code lists hold (all critical: the loader quarantines bad rows,
so a failure means a loading bug), identifier and postcode validity rates (warning below 95%),
and the row count against the previous period (warning outside 0.4 to 2.5 times, when the
previous period had at least 100 rows: small feeds swing from month to month).
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


def suite_for(source: str, table: str, rules) -> dict:
    expectations = []
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
            suite = suite_for(source, table, schema.columns)
            path.write_text(json.dumps(suite, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

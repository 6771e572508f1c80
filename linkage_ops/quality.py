"""Great Expectations suites run on DataFrames read from DuckDB (GX's SQL route to DuckDB does
not work), with the outcome split by severity and written as an HTML report.

A raw table's suite is derived, when the check runs, from the schema of the collection year
being checked (``raw_suite``), so its code lists and mandatory fields are the loader's own and
cannot drift; ``expectations/raw/<source>__<table>.json``, where present, adds hand-written
expectations and ``meta`` to it. Mart suites are JSON in ``expectations/marts/``.

A suite is GX 1.x JSON: ``name``, ``expectations`` (``type``, ``kwargs``,
``severity``: ``critical`` blocks, ``warning`` is degraded but usable) and ``meta``:
``table`` (what it validates), optionally ``volume`` (``min_ratio`` and ``max_ratio`` of
this period's rows to the previous period's, checked as a warning when the previous period had
at least ``min_previous_rows``) and ``date_formats`` (raw tables hold dates as delivered text:
these columns are read as dates, in their source's format, before validating). Date ranges
refer to suite parameters (``{"$PARAMETER": "period_end"}``) given by ``period_parameters``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from linkage_ops.ingest.raw_store import raw_table_name
from linkage_ops.ingest.schema import TableSchema

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"

# What the raw suites derived from a schema check beyond its rules.
IDENTIFIER_PATTERNS = {
    "nhs_number": r"^\d{3}[ -]?\d{3}[ -]?\d{4}$",
    # A UPN, or one of the "not known" codes UN1-UN5 SSDA903 allows.
    "upn": r"^([A-Za-z]\d{11}[0-9A-Za-z]|UN[1-5])$",
    "postcode": r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$",
}
# Dates that may lie after the period: planned or expected ones, and when a return was made
# (SEN2's header datetime, after its census day).
FUTURE_DATES = {
    "ExpectedPersonBirthDate",
    "InitialCPCtarget",
    "DUC",
    "DOLO_END",
    "phasetransferduedate",
    "phasetransferfinaldate",
    "datetime",
}
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
    ("looked_after", "dolo"): ["CHILD", "DOLO_START"],
}
VOLUME = {"min_ratio": 0.4, "max_ratio": 2.5, "min_previous_rows": 100}


@dataclass(frozen=True)
class Finding:
    """An expectation that failed."""

    expectation: str
    column: str | None
    severity: str  # "error" or "warn"
    observed: str


@dataclass
class QualityResult:
    suite: str
    table: str
    rows: int
    evaluated: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warn"]

    def describe(self) -> str:
        if not self.findings:
            return f"{self.evaluated} expectations met on {self.rows:,} rows"
        return "; ".join(
            f"{f.severity}: {f.expectation}"
            + (f" on {f.column}" if f.column else "")
            + f" ({f.observed})"
            for f in self.findings
        )


def load_suite(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _date_range(column: str) -> list[dict]:
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


def _uniqueness(source: str, table: TableSchema) -> list[dict]:
    if (source, table.name) in REPEATING_KEYS:
        columns, severity = REPEATING_KEYS[(source, table.name)], "warning"
    elif table.record_id and not table.record_id.startswith("_"):
        columns, severity = [table.record_id], "critical"
    else:
        return []
    return [
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": [*columns, "_source_file"]},
            "severity": severity,
        }
    ]


def raw_suite(source: str, table: TableSchema, extras_dir: Path | None = None) -> dict:
    """The suite of a raw table, from its schema in the collection year checked: columns
    present, mandatory fields filled, code lists and the record key unique in its file
    (critical: the loader quarantines bad rows, so a failure means a loading bug; a warning
    for a column whose bad values the loader flags and loads); dates in the
    period's range (warning for any outside; critical when over 5% are, i.e. the wrong period's
    file or a misread date format); identifier and postcode validity (warning below 95%); the
    row count against the previous period (warning outside 0.4-2.5 times, once it had 100
    rows). ``<extras_dir>/<source>__<table>.json`` adds expectations and ``meta``."""
    expectations = _uniqueness(source, table)
    for rule in table.columns:
        column = rule.name
        # A column whose bad values the loader loads and flags (on_invalid: flag) may hold
        # them: a warning, not the critical failure a quarantined column's would be.
        rule_severity = "warning" if rule.on_invalid == "flag" else "critical"
        expectations.append(
            {"type": "expect_column_to_exist", "kwargs": {"column": column}, "severity": "critical"}
        )
        if rule.mandatory:
            expectations.append(
                {
                    "type": "expect_column_values_to_not_be_null",
                    "kwargs": {"column": column},
                    "severity": rule_severity,
                }
            )
        if rule.type == "code" and rule.codes:
            expectations.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "kwargs": {"column": column, "value_set": sorted(rule.codes)},
                    "severity": rule_severity,
                }
            )
        if rule.type == "date":
            expectations.extend(_date_range(column))
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
    relation = raw_table_name(source, table.name)
    suite = {
        "name": relation,
        "expectations": expectations,
        "meta": {
            "table": relation,
            "volume": VOLUME,
            "date_formats": {r.name: r.date_format for r in table.columns if r.type == "date"},
        },
    }
    extras = (extras_dir or EXPECTATIONS_DIR / "raw") / f"{source}__{table.name}.json"
    if extras.exists():
        added = load_suite(extras)
        suite["expectations"] += added.get("expectations", [])
        suite["meta"] = {**suite["meta"], **added.get("meta", {})}
    return suite


def period_parameters(period_end: date) -> dict[str, pd.Timestamp]:
    """The suite parameters of a period's date ranges: its last day; the earliest birth date
    of a child the services may still support (care leavers to 25, so 26 years); the earliest
    of a parent (70 years)."""
    end = pd.Timestamp(period_end)
    return {
        "period_end": end,
        "earliest_birth": end - pd.DateOffset(years=26),
        "earliest_parent_birth": end - pd.DateOffset(years=70),
    }


def _with_dates(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """``frame`` with its date columns read as dates (a value the format cannot read becomes
    missing: the loader has already quarantined or flagged it)."""
    present = {column: fmt for column, fmt in formats.items() if column in frame.columns}
    if not present:
        return frame
    return frame.assign(
        **{
            column: pd.to_datetime(frame[column], format=fmt, errors="coerce")
            for column, fmt in present.items()
        }
    )


def _observed(result: dict) -> str:
    """What a failing expectation saw, without values (they may be identifiers)."""
    if result.get("unexpected_count") is not None:
        return (
            f"{result['unexpected_count']:,} unexpected values "
            f"({result.get('unexpected_percent', 0):.1f}%)"
        )
    if result.get("observed_value") is not None:
        return f"observed {result['observed_value']}"
    return "failed"


# Expectations about each value hold of no values at all: an empty period (a table a term or
# year does not export) needs no Great Expectations run, which costs ~0.4 s a table.
VACUOUS_PREFIXES = ("expect_column_values_", "expect_compound_columns_")


def _vacuous(spec: dict) -> bool | None:
    """Whether ``spec`` holds of an empty table, or None if that takes evaluating it."""
    if spec["type"].startswith(VACUOUS_PREFIXES):
        return True
    if spec["type"] == "expect_table_row_count_to_be_between":
        kwargs = spec["kwargs"]
        return (kwargs.get("min_value") or 0) <= 0
    return None if spec["type"] != "expect_column_to_exist" else True


def _validate_empty(frame: pd.DataFrame, suite: dict, specs: list[dict]) -> QualityResult:
    findings = []
    for spec in specs:
        column = spec["kwargs"].get("column")
        held = _vacuous(spec) and (
            spec["type"] != "expect_column_to_exist" or column in frame.columns
        )
        if not held:
            findings.append(
                Finding(
                    expectation=spec["type"],
                    column=column,
                    severity="warn" if spec.get("severity") == "warning" else "error",
                    observed="observed 0 rows" if column is None else "column missing",
                )
            )
    return QualityResult(
        suite=suite["name"],
        table=suite.get("meta", {}).get("table", ""),
        rows=0,
        evaluated=len(specs),
        findings=findings,
    )


def validate(
    frame: pd.DataFrame,
    suite: dict,
    previous_rows: int | None = None,
    parameters: dict | None = None,
) -> QualityResult:
    """Run ``suite`` on ``frame``. With ``previous_rows``, the suite's volume rule compares this
    period's row count with the previous period's; ``parameters`` are the suite parameters its
    expectations refer to (``period_parameters``)."""
    import great_expectations as gx  # slow to import: only when validating
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    specs = list(suite["expectations"])
    frame = _with_dates(frame, suite.get("meta", {}).get("date_formats", {}))
    volume = suite.get("meta", {}).get("volume")
    if volume and previous_rows and previous_rows >= volume.get("min_previous_rows", 0):
        specs.append(
            {
                "type": "expect_table_row_count_to_be_between",
                "kwargs": {
                    "min_value": int(previous_rows * volume["min_ratio"]),
                    "max_value": int(previous_rows * volume["max_ratio"]),
                },
                "severity": "warning",
            }
        )
    if frame.empty and all(_vacuous(spec) is not None for spec in specs):
        return _validate_empty(frame, suite, specs)
    context = gx.get_context(mode="ephemeral")
    expectations = [
        ExpectationConfiguration(
            type=spec["type"], kwargs=spec["kwargs"], severity=spec.get("severity", "critical")
        ).to_domain_obj()
        for spec in specs
    ]
    gx_suite = context.suites.add(
        gx.ExpectationSuite(name=suite["name"], expectations=expectations)
    )
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(suite["name"])
        .add_batch_definition_whole_dataframe("period")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    outcome = batch.validate(
        gx_suite, result_format="SUMMARY", expectation_parameters=parameters or {}
    )
    findings = [
        Finding(
            expectation=result.expectation_config.type,
            column=result.expectation_config.kwargs.get("column"),
            severity="warn"
            if str(result.expectation_config.severity).endswith("WARNING")
            else "error",
            observed=_observed(result.result or {}),
        )
        for result in outcome.results
        if not result.success
    ]
    return QualityResult(
        suite=suite["name"],
        table=suite.get("meta", {}).get("table", ""),
        rows=len(frame),
        evaluated=len(outcome.results),
        findings=findings,
    )


def write_report(results: list[QualityResult], path: Path, title: str) -> Path:
    """An HTML page: one section per suite, every failed expectation with its severity."""
    sections = []
    for result in results:
        status = "failed" if result.errors else "warnings" if result.warnings else "passed"
        rows = "".join(
            f"<tr><td>{html.escape(f.severity)}</td><td>{html.escape(f.expectation)}</td>"
            f"<td>{html.escape(f.column or '')}</td><td>{html.escape(f.observed)}</td></tr>"
            for f in result.findings
        )
        sections.append(
            f"<h2>{html.escape(result.suite)}: {status}</h2>"
            f"<p>{html.escape(result.table)}: {result.rows:,} rows, "
            f"{result.evaluated} expectations, {len(result.findings)} not met.</p>"
            + (
                "<table><tr><th>severity</th><th>expectation</th><th>column</th>"
                f"<th>what was seen</th></tr>{rows}</table>"
                if rows
                else ""
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif} td,th{border:1px solid #ccc;padding:4px}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>",
        encoding="utf-8",
    )
    return path

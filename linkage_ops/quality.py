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
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd

from linkage_ops.ingest.raw_store import raw_table_name
from linkage_ops.ingest.reader import DATE_FORMS, TIME_AFTER_DATE
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
    """Every value between its row's bounds (``_with_bounds``: the earliest birth date and the
    end of the row's period) as a warning; 95% of them, critical."""
    earliest = "_earliest_parent_birth" if column in PARENT_DATES else "_earliest_birth"
    pairs = [{"column_A": column, "column_B": earliest}]
    if column not in FUTURE_DATES:
        pairs.append({"column_A": "_period_end", "column_B": column})
    expectations = []
    for severity, mostly in (("warning", {}), ("critical", {"mostly": 0.95})):
        for pair in pairs:
            expectations.append(
                {
                    "type": "expect_column_pair_values_a_to_be_greater_than_b",
                    "kwargs": {
                        **pair,
                        "or_equal": True,
                        "ignore_row_if": "either_value_is_missing",
                        **mostly,
                    },
                    "severity": severity,
                }
            )
    return expectations


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
            # Within one file of one period (a file may keep its name from month to month).
            "kwargs": {"column_list": [*columns, "_source_file", "_period"]},
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


# How far before a period's end a date of birth may lie: a child the services may still
# support (care leavers to 25, so 26 years) and a parent (70 years).
EARLIEST_BIRTH_YEARS = {"earliest_birth": 26, "earliest_parent_birth": 70}


def period_parameters(period_end: date) -> dict[str, pd.Timestamp]:
    """The suite parameters of a period's date ranges (mart suites refer to them as
    ``{"$PARAMETER": "period_end"}``): its last day and the earliest birth dates before it."""
    end = pd.Timestamp(period_end)
    return {
        "period_end": end,
        **{name: end - pd.DateOffset(years=years) for name, years in EARLIEST_BIRTH_YEARS.items()},
    }


def _with_bounds(frame: pd.DataFrame, parameters: dict | None) -> pd.DataFrame:
    """``frame`` with the bounds its rows' dates are checked against: ``_period_end`` (the
    parameters' period end when given, else the row's period end as loaded) and the earliest
    birth dates before it (``_earliest_birth``, ``_earliest_parent_birth``)."""
    if parameters and "period_end" in parameters:
        end = pd.Series(pd.Timestamp(parameters["period_end"]), index=frame.index)
    elif "_period_end" in frame.columns:
        end = pd.to_datetime(frame["_period_end"])
    else:
        end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    bounds = {"_period_end": end}
    # A table's rows share a handful of period ends: each bound is worked out once per end.
    ends = end.dropna().unique()
    for name, years in EARLIEST_BIRTH_YEARS.items():
        earliest = {day: day - pd.DateOffset(years=years) for day in ends}
        bounds[f"_{name}"] = end.map(earliest).astype("datetime64[ns]")
    return frame.assign(**bounds)


def _with_dates(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """``frame`` with its date columns read as dates (a value the format cannot read becomes
    missing: the loader has already quarantined or flagged it)."""
    present = {column: fmt for column, fmt in formats.items() if column in frame.columns}
    if not present:
        return frame

    def dates(values: pd.Series, fmt: str) -> pd.Series:
        # Read as the loader reads them (reader.date_form): in the layout's format, a time
        # after a date set aside, or else in the other form UK systems write dates in.
        values = values.astype("string").str.strip()
        read = pd.to_datetime(values, format=fmt, errors="coerce")
        date_only = values.str.replace(TIME_AFTER_DATE, "", regex=True)
        for form in dict.fromkeys(((fmt,) if "%H" not in fmt else ()) + DATE_FORMS):
            unread = read.isna() & date_only.notna()
            if not unread.any():
                break
            read = read.fillna(
                pd.to_datetime(date_only.where(unread), format=form, errors="coerce")
            )
        return read

    return frame.assign(**{column: dates(frame[column], fmt) for column, fmt in present.items()})


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
VACUOUS_PREFIXES = (
    "expect_column_values_",
    "expect_column_pair_values_",
    "expect_compound_columns_",
)


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
    """Run ``suite`` on ``frame``, one period's rows. With ``previous_rows``, the suite's volume
    rule compares the row count with the previous period's; ``parameters`` are the suite
    parameters its expectations refer to (``period_parameters``; the period end also bounds the
    dates of a frame without ``_period_end``)."""
    whole = frame.assign(_period=_ONE_PERIOD)
    return validate_periods(whole, suite, {_ONE_PERIOD: previous_rows}, parameters)[_ONE_PERIOD]


_ONE_PERIOD = "period"


def validate_periods(
    frame: pd.DataFrame,
    suite: dict,
    previous_rows: dict[str, int | None],
    parameters: dict | None = None,
) -> dict[str, QualityResult]:
    """Run ``suite`` once on the rows of several periods (``frame._period``, one of the keys of
    ``previous_rows``) and judge each period on its own rows: an expectation about values fails
    for a period when that period's rows fail it (a ``mostly`` share counted within the
    period); one about the table, for every period. The volume rule compares each period's row
    count with its previous period's (``previous_rows``). One Great Expectations run costs
    about half a second a table whatever its rows, so a backfill validates its periods
    together."""
    specs = list(suite["expectations"])
    frame = _with_bounds(
        _with_dates(frame, suite.get("meta", {}).get("date_formats", {})), parameters
    )
    volume = suite.get("meta", {}).get("volume")
    rows = frame["_period"].value_counts().to_dict()
    volumes = {
        period: _volume(rows.get(period, 0), previous, volume)
        for period, previous in previous_rows.items()
    }

    def result(period: str, findings: list[Finding], evaluated: int) -> QualityResult:
        checked, finding = volumes[period]
        return QualityResult(
            suite=suite["name"],
            table=suite.get("meta", {}).get("table", ""),
            rows=rows.get(period, 0),
            evaluated=evaluated + checked,
            findings=findings + ([finding] if finding else []),
        )

    if frame.empty and all(_vacuous(spec) is not None for spec in specs):
        empty = _validate_empty(frame, suite, specs)
        return {
            period: result(period, list(empty.findings), len(specs)) for period in previous_rows
        }
    outcome = _run_great_expectations(frame, suite["name"], specs, parameters)
    findings: dict[str, list[Finding]] = {period: [] for period in previous_rows}
    for expectation in outcome.results:
        config = expectation.expectation_config
        severity = "warn" if str(config.severity).endswith("WARNING") else "error"
        column = _finding_column(config.kwargs)
        unexpected = (expectation.result or {}).get("unexpected_index_list")
        if unexpected is None:
            if not expectation.success:
                finding = Finding(
                    config.type, column, severity, _observed(expectation.result or {})
                )
                for period in findings:
                    findings[period].append(finding)
            continue
        by_period: dict[str, int] = {}
        for row in unexpected:
            by_period[row["_period"]] = by_period.get(row["_period"], 0) + 1
        mostly = config.kwargs.get("mostly") or 1.0
        for period, count in by_period.items():
            judged = _rows_judged(frame, period, config.type, config.kwargs)
            if judged and 1 - count / judged >= mostly:
                continue
            share = 100 * count / judged if judged else 100.0
            findings.setdefault(period, []).append(
                Finding(
                    config.type, column, severity, f"{count:,} unexpected values ({share:.1f}%)"
                )
            )
    return {
        period: result(period, findings[period], len(outcome.results)) for period in previous_rows
    }


def _run_great_expectations(frame: pd.DataFrame, name: str, specs: list[dict], parameters):
    """One Great Expectations validation of ``frame``, with the period of each unexpected row."""
    import great_expectations as gx  # slow to import: only when validating
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    context = gx.get_context(mode="ephemeral")
    expectations = [
        ExpectationConfiguration(
            type=spec["type"], kwargs=spec["kwargs"], severity=spec.get("severity", "critical")
        ).to_domain_obj()
        for spec in specs
    ]
    gx_suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("periods")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    return batch.validate(
        gx_suite,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["_period"],
            "return_unexpected_index_query": False,
        },
        expectation_parameters=parameters or {},
    )


def _finding_column(kwargs: dict) -> str | None:
    """The column an expectation is about (of a pair, the one that is not a bound)."""
    if kwargs.get("column"):
        return kwargs["column"]
    pair = [kwargs.get("column_A"), kwargs.get("column_B")]
    named = [c for c in pair if c and not c.startswith("_")]
    if named:
        return named[0]
    return ", ".join(c for c in kwargs.get("column_list", []) if not c.startswith("_")) or None


def _rows_judged(frame: pd.DataFrame, period: str, kind: str, kwargs: dict) -> int:
    """How many of ``period``'s rows an expectation judges: rows with a value in its column
    (every row for not-null and row-level expectations; both values for a pair)."""
    rows = frame[frame["_period"] == period]
    if kind == "expect_column_values_to_not_be_null" or "column_list" in kwargs:
        return len(rows)
    columns = [kwargs[key] for key in ("column", "column_A", "column_B") if kwargs.get(key)]
    return int(rows[columns].notna().all(axis=1).sum()) if columns else len(rows)


def _volume(
    rows: int, previous_rows: int | None, volume: dict | None
) -> tuple[bool, Finding | None]:
    """The volume rule (a warning): the period's rows within ``min_ratio``-``max_ratio`` times
    the previous period's, once that had ``min_previous_rows``. Whether it applied, and its
    finding if it did not hold."""
    if not volume or not previous_rows or previous_rows < volume.get("min_previous_rows", 0):
        return False, None
    low, high = int(previous_rows * volume["min_ratio"]), int(previous_rows * volume["max_ratio"])
    if low <= rows <= high:
        return True, None
    observed = f"observed {rows} (previous period {previous_rows})"
    return True, Finding("expect_table_row_count_to_be_between", None, "warn", observed)


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
        f"{REPORT_STYLE}</head><body><h1>{html.escape(title)}</h1>{''.join(sections)}"
        "</body></html>",
        encoding="utf-8",
    )
    # What the index lists: counts only, never a value from the data.
    summary = {
        "title": title,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tables": len(results),
        "rows": sum(result.rows for result in results),
        "expectations": sum(result.evaluated for result in results),
        "errors": sum(len(result.errors) for result in results),
        "warnings": sum(len(result.warnings) for result in results),
    }
    path.with_suffix(".json").write_text(json.dumps(summary), encoding="utf-8")
    return path


REPORT_STYLE = (
    "<style>body{font-family:sans-serif} td,th{border:1px solid #ccc;padding:4px}"
    " .failed{color:#b00020} .warnings{color:#8a5a00}</style>"
)


def write_report_index(reports_dir: Path) -> Path:
    """``reports_dir/index.html``: every report, newest first, with its run, what it covers
    (source and period, or the marts) and its counts of expectations met, errors and
    warnings, linking to the report. Rewritten whole and switched in, so a reader never sees
    half a page."""
    entries = []
    for summary_path in reports_dir.glob("*/*.json"):
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a report being written: the next index lists it
        entries.append((summary.get("written_at", ""), summary_path, summary))
    rows = []
    for written_at, summary_path, summary in sorted(entries, key=lambda e: e[0], reverse=True):
        report = summary_path.with_suffix(".html").relative_to(reports_dir).as_posix()
        errors, warnings = summary.get("errors", 0), summary.get("warnings", 0)
        status = "failed" if errors else "warnings" if warnings else "passed"
        met = summary.get("expectations", 0) - errors - warnings
        rows.append(
            f"<tr><td>{html.escape(written_at)}</td>"
            f"<td><a href='{html.escape(report)}'>{html.escape(summary.get('title', ''))}</a></td>"
            f"<td>{html.escape(summary_path.parent.name)}</td>"
            f"<td class='{status}'>{status}</td><td>{met:,}</td><td>{errors:,}</td>"
            f"<td>{warnings:,}</td><td>{summary.get('rows', 0):,}</td></tr>"
        )
    index = reports_dir / "index.html"
    reports_dir.mkdir(parents=True, exist_ok=True)
    staging = index.with_name(f".index.{os.getpid()}.html")
    staging.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Data-quality reports</title>"
        f"{REPORT_STYLE}</head><body><h1>Data-quality reports</h1>"
        f"<p>{len(rows)} reports, newest first: one per source period loaded, and one per "
        "refresh for the marts.</p><table><tr><th>written (UTC)</th><th>report</th><th>run</th>"
        "<th>outcome</th><th>expectations met</th><th>errors</th><th>warnings</th>"
        f"<th>rows</th></tr>{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )
    os.replace(staging, index)
    return index

"""Great Expectations suites as Dagster asset checks on the raw tables.

Each ingestion run validates the rows of the periods it loaded (a DataFrame read from DuckDB)
against each table's suite, derived from the schema of the period's collection year
(``linkage_ops.quality.raw_suite``), with the previous period's row count for the volume
rule. Each period is judged on its own rows, though periods with the same suite are validated
in one Great Expectations run (a backfill of 48 months is a handful of runs, not 48). Two
checks per table: ``expectations`` (the critical expectations; ERROR and blocking: the refresh
of staging, linkage and marts waits until the period is fixed and reloaded) and
``expectation_warnings`` (WARN, not blocking: the data is degraded but usable); either fails
if it fails for any period of the run. Every run writes an HTML report per period to
data/reports/<run id>/<source>_<period>.html, listed newest first in data/reports/index.html.
"""

import json

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from linkage_ops.census_calendar import comparable_period
from linkage_ops.ingest import load_schema, raw_table_name
from linkage_ops.ingest.raw_store import loaded_collection_year
from linkage_ops.quality import (
    EXPECTATIONS_DIR,
    QualityResult,
    load_suite,
    period_parameters,
    raw_suite,
    validate,
    validate_periods,
    write_report,
    write_report_index,
)
from orchestration.resources import WarehouseResource
from orchestration.sources.assets import raw_asset_key
from orchestration.sources.partitions import describe_periods, run_periods

EXPECTATIONS = "expectations"
EXPECTATION_WARNINGS = "expectation_warnings"


def _check_specs(key: dg.AssetKey, suite: str) -> tuple[dg.AssetCheckSpec, dg.AssetCheckSpec]:
    """The two checks a suite gives its asset: critical (ERROR, blocking) and warnings (WARN)."""
    return (
        dg.AssetCheckSpec(
            EXPECTATIONS,
            asset=key,
            blocking=True,
            description=f"The critical expectations of {suite}: ERROR, and blocking.",
        ),
        dg.AssetCheckSpec(
            EXPECTATION_WARNINGS,
            asset=key,
            description=f"The warning expectations of {suite}: WARN, not blocking.",
        ),
    )


def _check_results(
    key: dg.AssetKey, outcomes: list[tuple[str, QualityResult]], metadata: dict
) -> tuple[dg.AssetCheckResult, dg.AssetCheckResult]:
    """The outcome of both checks of ``key`` from its validations, one per period (the period
    is blank for a mart): a check fails if it fails in any of them."""
    results = [result for _, result in outcomes]
    if len(outcomes) == 1:
        seen = results[0].describe()
    else:
        seen = "; ".join(
            f"{period}: {result.describe()}" for period, result in outcomes if result.findings
        ) or (
            f"{sum(r.evaluated for r in results)} expectations met on "
            f"{sum(r.rows for r in results):,} rows in {len(outcomes)} periods"
        )
    errors = sum(len(result.errors) for result in results)
    warnings = sum(len(result.warnings) for result in results)
    common = {**metadata, "rows": sum(result.rows for result in results), "seen": seen}
    return (
        dg.AssetCheckResult(
            asset_key=key,
            check_name=EXPECTATIONS,
            passed=not errors,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={**common, "errors": errors},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=EXPECTATION_WARNINGS,
            passed=not warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**common, "warnings": warnings},
        ),
    )


def build_quality_checks(source: str) -> dg.AssetChecksDefinition:
    tables = list(load_schema(source).tables)

    @dg.multi_asset_check(
        name=f"{source}_expectations",
        specs=[
            spec
            for table in tables
            for spec in _check_specs(
                raw_asset_key(source, table), f"the {source} {table} suite of the period's year"
            )
        ],
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        run = context.op_execution_context.run
        periods = run_periods(run, context.instance, source)
        # Each period is judged on its own rows (its year's suite, its volume against the
        # period before) with its own report; a check fails if it fails for any period.
        validated = _validate_periods(source, tables, periods, warehouse)
        reports = [
            write_report(
                [result for _, result in validated[period]],
                warehouse.reports_dir / run.run_id / f"{source}_{period}.html",
                f"{source} {period}: data quality",
            )
            for period in periods
        ]
        write_report_index(warehouse.reports_dir)
        for table in tables:
            outcomes = [
                (period, result)
                for period in periods
                for name, result in validated[period]
                if name == table
            ]
            yield from _check_results(
                raw_asset_key(source, table),
                outcomes,
                {
                    "period": describe_periods(periods),
                    "expectations": sum(result.evaluated for _, result in outcomes),
                    # The period's report, or the run's folder of reports.
                    "report": dg.MetadataValue.path(
                        str(reports[0] if len(reports) == 1 else warehouse.reports_dir / run.run_id)
                    ),
                },
            )

    return _checks


def _validate_periods(
    source: str, tables: list[str], periods: list[str], warehouse: WarehouseResource
) -> dict[str, list[tuple[str, QualityResult]]]:
    """Each table's rows of each period against its suite for the period's collection year;
    periods whose suites are the same (years whose layout did not change) are validated
    together."""
    union = load_schema(source)
    found: dict[str, list[tuple[str, QualityResult]]] = {period: [] for period in periods}
    with warehouse.connect() as con:
        years = {}
        for period in periods:
            # The year the period was read with (a return may state a year of its own).
            stated = loaded_collection_year(con, source, period)
            years[period] = union.for_year(stated) if stated else union.for_period(period)
        for table in tables:
            relation = raw_table_name(source, table)
            counts = dict(
                con.execute(f"select _period, count(*) from {relation} group by _period").fetchall()
            )
            by_suite: dict[str, tuple[dict, list[str]]] = {}
            for period in periods:
                # A table the period's year does not have is checked by its newest layout.
                year = years[period]
                suite = raw_suite(source, year.tables.get(table) or union.tables[table])
                same = by_suite.setdefault(json.dumps(suite, sort_keys=True), (suite, []))
                same[1].append(period)
            for suite, suite_periods in by_suite.values():
                previous_rows = {}
                for period in suite_periods:
                    previous = comparable_period(source, period, list(counts))
                    previous_rows[period] = counts.get(previous) if previous else None
                frame = con.execute(
                    f"select * from {relation} where _period in "
                    f"({', '.join('?' for _ in suite_periods)})",
                    suite_periods,
                ).df()
                for period, result in validate_periods(frame, suite, previous_rows).items():
                    found[period].append((table, result))
    return found


def build_mart_quality_checks(mart_assets: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    """The suites of the key marts (expectations/marts/<model>.json) as checks on the dbt
    models, run in the refresh after the marts build. A failed critical expectation blocks the
    publication in that run, so BI tools keep the last good one."""
    suites = {path.stem: path for path in sorted((EXPECTATIONS_DIR / "marts").glob("*.json"))}
    keys = {model: get_asset_key_for_model([mart_assets], model) for model in suites}

    @dg.multi_asset_check(
        name="mart_expectations",
        specs=[
            spec
            for model, key in keys.items()
            for spec in _check_specs(key, f"expectations/marts/{model}.json")
        ],
    )
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        run = context.op_execution_context.run
        results = {}
        with warehouse.connect() as con:
            # Dates in the marts are judged against the date the data covers up to.
            (as_at,) = con.execute("select as_at_date from marts.as_at_date").fetchone()
            for model, path in suites.items():
                suite = load_suite(path)
                frame = con.execute(f"select * from {suite['meta']['table']}").df()
                results[model] = validate(frame, suite, parameters=period_parameters(as_at))
        report = write_report(
            list(results.values()),
            warehouse.reports_dir / run.run_id / "marts.html",
            "marts: data quality",
        )
        write_report_index(warehouse.reports_dir)
        for model, result in results.items():
            yield from _check_results(
                keys[model],
                [("", result)],
                {"as_at_date": str(as_at), "report": dg.MetadataValue.path(str(report))},
            )

    return _checks

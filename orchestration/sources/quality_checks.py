"""Great Expectations suites as Dagster asset checks on the raw tables.

Each source period's run validates the rows it loaded (a DataFrame read from DuckDB) against its
table's suite, derived from the schema of the period's collection year
(``linkage_ops.quality.raw_suite``), with the previous period's row count for the volume
rule. Two checks per table:
``expectations`` (the critical expectations; ERROR and blocking: the refresh of staging,
linkage and marts waits until the period is fixed and reloaded) and ``expectation_warnings``
(WARN, not blocking: the data is degraded but usable). Every run writes an HTML report to
data/reports/<run id>/.
"""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from linkage_ops.census_calendar import comparable_period, source_period_end
from linkage_ops.ingest import load_schema, raw_table_name
from linkage_ops.ingest.raw_store import loaded_collection_year
from linkage_ops.quality import (
    EXPECTATIONS_DIR,
    QualityResult,
    load_suite,
    period_parameters,
    raw_suite,
    validate,
    write_report,
)
from orchestration.resources import WarehouseResource
from orchestration.sources.assets import raw_asset_key

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
    key: dg.AssetKey, result: QualityResult, metadata: dict
) -> tuple[dg.AssetCheckResult, dg.AssetCheckResult]:
    """The outcome of both checks of ``key`` from one validation."""
    common = {**metadata, "rows": result.rows, "seen": result.describe()}
    return (
        dg.AssetCheckResult(
            asset_key=key,
            check_name=EXPECTATIONS,
            passed=not result.errors,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={**common, "errors": len(result.errors)},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=EXPECTATION_WARNINGS,
            passed=not result.warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={**common, "warnings": len(result.warnings)},
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
        period = run.tags.get("dagster/partition")
        this_period_end = source_period_end(source, period)
        results = []
        union = load_schema(source)
        with warehouse.connect() as con:
            # The year the period was read with (a return may state a year of its own).
            stated = loaded_collection_year(con, source, period)
            year = union.for_year(stated) if stated else union.for_period(period)
            for table in tables:
                # A table the period's year does not have is checked by its newest layout.
                suite = raw_suite(source, year.tables.get(table) or union.tables[table])
                relation = raw_table_name(source, table)
                periods = [
                    p for (p,) in con.execute(f"select distinct _period from {relation}").fetchall()
                ]
                previous = comparable_period(source, period, periods)
                previous_rows = None
                if previous is not None:
                    previous_rows = con.execute(
                        f"select count(*) from {relation} where _period = ?", [previous]
                    ).fetchone()[0]
                frame = con.execute(f"select * from {relation} where _period = ?", [period]).df()
                parameters = period_parameters(this_period_end)
                results.append((table, validate(frame, suite, previous_rows, parameters)))
        report = write_report(
            [result for _, result in results],
            warehouse.reports_dir / run.run_id / f"{source}_{period}.html",
            f"{source} {period}: data quality",
        )
        for table, result in results:
            yield from _check_results(
                raw_asset_key(source, table),
                result,
                {
                    "period": period,
                    "expectations": result.evaluated,
                    "report": dg.MetadataValue.path(str(report)),
                },
            )

    return _checks


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
        for model, result in results.items():
            yield from _check_results(
                keys[model],
                result,
                {"as_at_date": str(as_at), "report": dg.MetadataValue.path(str(report))},
            )

    return _checks

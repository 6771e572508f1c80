"""Load each source's landing files into raw DuckDB tables, one collection period at a time."""

from datetime import datetime

import dagster as dg

from linkage_ops.census_calendar import cadence_of, max_days_late
from linkage_ops.ingest import UnreadableFileError, load_period, load_schema, reconcile_period
from orchestration.resources import WarehouseResource
from orchestration.sources.partitions import periods_partitions

ROWS_RECONCILE = "rows_reconcile"


def raw_asset_key(source: str, table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source, table])


def landing_files_spec(source: str) -> dg.AssetSpec:
    """The source's files in the landing folder: external to Dagster (the authority's secure
    file transfer puts them there), shown so the graph starts where the data does."""
    return dg.AssetSpec(
        ["landing", source],
        group_name="landing",
        description=f"{source} files as received, under landing/{source}/<period>/.",
        kinds={"csv"},
        metadata={
            "cadence": cadence_of(source),
            "max_days_late": max_days_late(source),
        },
        partitions_def=periods_partitions(source),
    )


def build_source_assets(source: str) -> dg.AssetsDefinition:
    """A multi-asset with one raw table per table of ``source``'s schema, and on each a
    blocking check that rows read = rows loaded + rows quarantined."""
    schema = load_schema(source)
    keys = {table: raw_asset_key(source, table) for table in schema.tables}

    @dg.multi_asset(
        name=f"raw_{source}",
        specs=[
            dg.AssetSpec(
                key,
                group_name="raw",
                description=f"{source} {table} rows as delivered, every period, with lineage.",
                kinds={"duckdb"},
                metadata={"table": f"raw.{source}__{table}"},
                deps=[landing_files_spec(source).key],
            )
            for table, key in keys.items()
        ],
        check_specs=[
            dg.AssetCheckSpec(
                ROWS_RECONCILE,
                asset=key,
                blocking=True,
                description="Rows read = rows loaded + rows quarantined, and the raw table "
                "holds exactly the rows loaded for the period.",
            )
            for key in keys.values()
        ],
        partitions_def=periods_partitions(source),
    )
    def _load(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        period = context.partition_key
        try:
            with warehouse.connect() as con:
                loads, findings = load_period(
                    con,
                    warehouse.landing_dir,
                    source,
                    period,
                    run_id=context.run.run_id,
                    loaded_at=datetime.now(),
                )
                reconciliations = reconcile_period(con, schema, period)
        except UnreadableFileError as error:
            raise dg.Failure(
                description=f"{source} {period}: cannot load {error.path.name}: {error.problem}",
                metadata={"file": str(error.path), "problem": error.problem},
            ) from error
        by_table = {load.table: load for load in loads}
        for table, key in keys.items():
            load = by_table.get(table)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "period": period,
                    "source_file": load.source_file if load else "(no file this period)",
                    "file_sha256": load.file_sha256 if load else "",
                    "rows_read": load.rows_read if load else 0,
                    "rows_loaded": load.rows_loaded if load else 0,
                    "rows_quarantined": load.rows_rejected if load else 0,
                    "values_flagged": load.values_flagged if load else 0,
                },
            )
        for reconciliation in reconciliations:
            yield dg.AssetCheckResult(
                asset_key=keys[reconciliation.table],
                check_name=ROWS_RECONCILE,
                passed=reconciliation.balanced,
                metadata={
                    "period": period,
                    "rows_read": reconciliation.rows_read,
                    "rows_loaded": reconciliation.rows_loaded,
                    "rows_quarantined": reconciliation.rows_quarantined,
                    "rows_in_raw": reconciliation.rows_in_raw,
                },
            )
        context.log.info(
            f"{source} {period}: {sum(load.rows_loaded for load in loads)} rows loaded, "
            f"{sum(load.rows_rejected for load in loads)} quarantined, "
            f"{len(findings)} findings"
        )

    return _load

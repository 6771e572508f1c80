"""Load each source's landing files into raw DuckDB tables, one collection period at a time."""

from datetime import datetime

import dagster as dg

from linkage_ops.census_calendar import cadence_of, max_days_late
from linkage_ops.ingest import (
    UNMODELLED,
    UNMODELLED_XML,
    UnreadableFileError,
    failed_files,
    load_period,
    load_schema,
    reconcile_period,
)
from orchestration.ownership import owners_of, tags_of
from orchestration.resources import WarehouseResource
from orchestration.sources.partitions import describe_periods, periods_partitions

ROWS_RECONCILE = "rows_reconcile"
# A run tagged accept_reload_loss=true reloads a period even where a table would lose most of
# its previous rows (the loader refuses that otherwise: linkage_ops.ingest.ReloadRefused).
ACCEPT_RELOAD_LOSS_TAG = "accept_reload_loss"
# And tagged accept_other_period=true, loads a file whose dates are mostly in another period
# (month, or School Census term) (linkage_ops.ingest.OtherPeriodRefused otherwise).
ACCEPT_OTHER_PERIOD_TAG = "accept_other_period"
UNMODELLED_CONTENT = "unmodelled_content"


def raw_asset_key(source: str, table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source, table])


def raw_assets(source: str) -> list[str]:
    """The raw assets of a source: a table per table of any of its collection years, and
    ``unmodelled`` (files and XML elements no table models, kept verbatim)."""
    return [*load_schema(source).tables, UNMODELLED]


def landing_files_spec(source: str) -> dg.AssetSpec:
    """The source's files in the landing folder: external to Dagster (the authority's secure
    file transfer puts them there), shown so the graph starts where the data does."""
    return dg.AssetSpec(
        ["landing", source],
        group_name="landing",
        owners=owners_of("landing"),
        tags=tags_of("landing"),
        description=f"{source} files as received, under landing/{source}/<period>/.",
        kinds={"csv"},
        metadata={
            "cadence": cadence_of(source),
            "max_days_late": max_days_late(source),
        },
        partitions_def=periods_partitions(source),
    )


def build_source_assets(source: str) -> dg.AssetsDefinition:
    """A multi-asset with one raw table per table of ``source``'s schema (every collection
    year's) and one for its unmodelled content. Checks on each: ``rows_reconcile`` (blocking:
    every file of the period was read, and rows read = rows loaded + rows quarantined; a file
    that could not be read holds the refresh back until the delivery is fixed or accepted); on
    ``unmodelled``, ``unmodelled_content`` (WARN: something arrived that no table models, kept
    verbatim in raw.unmodelled_rows / raw.unmodelled_elements)."""
    schema = load_schema(source)
    keys = {name: raw_asset_key(source, name) for name in raw_assets(source)}

    def describe(name: str) -> str:
        if name == UNMODELLED:
            return (
                f"{source} files and XML elements no table models, kept verbatim "
                "(raw.unmodelled_rows, raw.unmodelled_elements), every period, with lineage."
            )
        return f"{source} {name} rows as delivered, every period, with lineage."

    @dg.multi_asset(
        name=f"raw_{source}",
        specs=[
            dg.AssetSpec(
                key,
                group_name="raw",
                owners=owners_of("raw"),
                tags=tags_of("raw"),
                description=describe(name),
                kinds={"duckdb"},
                metadata={
                    "table": f"raw.{source}__{name}"
                    if name != UNMODELLED
                    else "raw.unmodelled_rows, raw.unmodelled_elements",
                    "collection_years": schema.supported_years,
                },
                deps=[landing_files_spec(source).key],
            )
            for name, key in keys.items()
        ],
        check_specs=[
            *(
                dg.AssetCheckSpec(
                    ROWS_RECONCILE,
                    asset=key,
                    blocking=True,
                    description="Every file of the period was read (a file that fails alone is "
                    "named with its problem), rows read = rows loaded + rows quarantined, and the "
                    "raw table holds exactly the rows loaded for the period.",
                )
                for key in keys.values()
            ),
            dg.AssetCheckSpec(
                UNMODELLED_CONTENT,
                asset=keys[UNMODELLED],
                description="Nothing arrived that no table models (WARN: such content is "
                "kept verbatim, not dropped, and should be looked at).",
            ),
        ],
        partitions_def=periods_partitions(source),
        # A backfill of several periods is one run (the loader takes a range of periods).
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def _load(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        # One period, or a range of them in one run (the demo and a backfill load a source's
        # periods together: one run's overhead, not one per period).
        periods = context.partition_keys
        loads, reconciliations, problems = [], [], []
        with warehouse.connect() as con:
            for period in periods:
                try:
                    load = load_period(
                        con,
                        warehouse.landing_dir,
                        source,
                        period,
                        run_id=context.run.run_id,
                        loaded_at=datetime.now(),
                        accept_loss=context.run.tags.get(ACCEPT_RELOAD_LOSS_TAG) == "true",
                        accept_other_period=(
                            context.run.tags.get(ACCEPT_OTHER_PERIOD_TAG) == "true"
                        ),
                    )
                except UnreadableFileError as error:
                    problems.append(f"{period}: cannot load {error.path.name}: {error.problem}")
                    continue
                reconciliations += reconcile_period(con, schema, period)
                problems += [
                    f"{period} {name}: {problem}"
                    for name, problem in failed_files(con, source, period)
                ]
                loads.append(load)
        # One log event for the run (each event costs the instance a write).
        context.log.info(
            "\n".join(
                f"{source} {load.period} ({load.collection_year} schema): "
                f"{sum(f.rows_loaded for f in load.tables)} rows loaded, "
                f"{sum(f.rows_rejected for f in load.tables)} quarantined, "
                f"{len(load.findings)} findings, {len(load.unmodelled)} unmodelled, "
                f"{len(load.failed)} files failed"
                for load in loads
            )
            or f"{source}: nothing loaded"
        )
        described = describe_periods(periods)
        years = ", ".join(sorted({load.collection_year for load in loads}))
        unmodelled = [f for load in loads for f in load.unmodelled]
        for name, key in keys.items():
            if name == UNMODELLED:
                metadata = {
                    "files": ", ".join(f.source_file for f in unmodelled) or "(none)",
                    "rows_kept": sum(f.rows_loaded for f in unmodelled if f.table == UNMODELLED),
                    "xml_elements_kept": sum(
                        f.rows_loaded for f in unmodelled if f.table == UNMODELLED_XML
                    ),
                }
            else:
                files = [f for load in loads for f in load.tables if f.table == name]
                metadata = {
                    "source_file": ", ".join(f.source_file for f in files)
                    or "(no file this period)",
                    "file_sha256": ", ".join(f.file_sha256 for f in files),
                    "rows_read": sum(f.rows_read for f in files),
                    "rows_loaded": sum(f.rows_loaded for f in files),
                    "rows_quarantined": sum(f.rows_rejected for f in files),
                    "values_flagged": sum(f.values_flagged for f in files),
                }
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "period": described,
                    "collection_year": years,
                    **metadata,
                    "dagster/row_count": metadata.get("rows_loaded", metadata.get("rows_kept")),
                },
            )
        for name, key in keys.items():
            tables = {UNMODELLED, UNMODELLED_XML} if name == UNMODELLED else {name}
            parts = [r for r in reconciliations if r.table in tables]
            balanced = all(part.balanced for part in parts)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=ROWS_RECONCILE,
                # A file that could not be read leaves its rows neither loaded nor quarantined.
                passed=balanced and not problems,
                metadata={
                    "period": described,
                    "rows_read": sum(part.rows_read for part in parts),
                    "rows_loaded": sum(part.rows_loaded for part in parts),
                    "rows_quarantined": sum(part.rows_quarantined for part in parts),
                    "rows_in_raw": sum(part.rows_in_raw for part in parts),
                    "failed_files": len(problems),
                    "seen": "; ".join(problems)
                    or ("every file read, rows reconcile" if balanced else "rows do not add up"),
                },
            )
        yield dg.AssetCheckResult(
            asset_key=keys[UNMODELLED],
            check_name=UNMODELLED_CONTENT,
            passed=not unmodelled,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "period": described,
                "seen": "; ".join(
                    f"{f.source_file}: {f.rows_loaded} "
                    + (
                        "rows of a table no schema models"
                        if f.table == UNMODELLED
                        else "XML elements no table models"
                    )
                    for f in unmodelled
                )
                or "nothing unmodelled",
            },
        )
        if problems:
            raise dg.Failure(
                description=f"{source} {described}: {len(problems)} file(s) could not be "
                f"loaded (everything else loaded): {'; '.join(problems)}",
                metadata={"failed_files": "; ".join(problems)},
            )

    return _load

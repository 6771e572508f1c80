"""Two dbt invocations per refresh: everything before linkage, then the marts after it."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from linkage_ops.ingest import load_schema
from linkage_ops.ingest.raw_store import ensure_raw_tables
from orchestration.dbt.project import dbt_project, ensure_manifest
from orchestration.dbt.translator import translator
from orchestration.resources import WarehouseResource
from orchestration.settings import LINKED_MODELS, SOURCES
from orchestration.sources.blocking import failed_blocking_checks

ensure_manifest()


class RefreshConfig(dg.Config):
    """A refresh refuses to build from a loaded period that failed a blocking check."""

    accept_failed_checks: bool = False
    """Build anyway: for a period the team has reviewed and judged usable. The failures are
    logged in the run."""


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # dbt's profile reads the DuckDB path from the environment (see dbt_project/profiles.yml).
    os.environ["WAREHOUSE_DUCKDB_PATH"] = str(warehouse.database_path)
    yield from dbt.cli(["build"], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select="path:seeds path:models/reference path:models/staging path:models/intermediate",
    # Models that read what linkage wrote (the person keys) build with the marts.
    exclude=LINKED_MODELS,
    name="dbt_staging_and_intermediate",
)
def dbt_staging_and_intermediate(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: RefreshConfig,
):
    with warehouse.connect() as con:
        # A source that has never delivered still has (empty) raw tables, so its staging
        # models build as empty views instead of failing the whole refresh.
        for source in SOURCES:
            ensure_raw_tables(con, load_schema(source))
        failures = failed_blocking_checks(context.instance, con)
    if failures and not config.accept_failed_checks:
        raise dg.Failure(
            description="Not refreshing: loaded periods failed a blocking check, so linkage, "
            "the marts and the publication keep their last good state. Fix the delivery and "
            "reload the period (or run with accept_failed_checks). " + "; ".join(failures),
            metadata={"failed_checks": "\n".join(failures)},
        )
    for failure in failures:
        context.log.warning(f"accepted despite a failed blocking check: {failure}")
    yield from _build(context, dbt, warehouse)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select=f"path:models/marts {LINKED_MODELS}",
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)

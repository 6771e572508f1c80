"""Two dbt invocations per refresh: everything before linkage, then the marts after it."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from linkage_ops.ingest import load_schema
from linkage_ops.ingest.raw_store import ensure_raw_tables
from orchestration.dbt.project import dbt_project, ensure_manifest
from orchestration.dbt.translator import translator
from orchestration.resources import WarehouseResource
from orchestration.settings import SOURCES

ensure_manifest()


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # A source that has never delivered still has (empty) raw tables, so its staging models
    # build as empty views instead of failing the whole refresh.
    with warehouse.connect() as con:
        for source in SOURCES:
            ensure_raw_tables(con, load_schema(source))
    # dbt's profile reads the DuckDB path from the environment (see dbt_project/profiles.yml).
    os.environ["WAREHOUSE_DUCKDB_PATH"] = str(warehouse.database_path)
    yield from dbt.cli(["build"], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select="path:seeds path:models/staging path:models/intermediate",
    name="dbt_staging_and_intermediate",
)
def dbt_staging_and_intermediate(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    yield from _build(context, dbt, warehouse)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    select="path:models/marts",
    name="dbt_marts",
)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)

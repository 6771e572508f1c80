"""Two dbt invocations per refresh: everything before linkage, then the marts after it."""

import json
import os
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from uuid import uuid4

import dagster as dg
import duckdb
import msgpack
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.core.dbt_cli_invocation import PARTIAL_PARSE_FILE_NAME as PARTIAL_PARSE

from linkage_ops.engines import dbt_target, warehouse_engine
from linkage_ops.ingest import load_schema
from linkage_ops.ingest.codelist_table import write_code_lists
from linkage_ops.ingest.raw_store import ensure_raw_tables
from linkage_ops.spark import lake
from linkage_ops.spark.session import spark_environment
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
    engine = warehouse_engine()
    # dbt's unit tests check the models' code on fixed inputs, not the data: CI runs them
    # (tests/test_pipeline.py), a refresh does not (as dbt advises), so a refresh spends its
    # time on the data tests. On Spark they were most of the build's time.
    args = ["build", "--target", dbt_target(engine), "--exclude-resource-type", "unit_test"]
    with warehouse.connect() as con:
        write_code_lists(con)  # they change with the code, not with loads
        if engine == "spark":
            # The raw and linkage tables as Parquet, registered by dbt's on-run-start.
            for schema in lake.LAKE_SCHEMAS:
                lake.export_schema(con, warehouse.spark_dir, schema)
            tables = lake.present_tables(warehouse.spark_dir)
            args += ["--vars", json.dumps({"lake_tables": tables})]
    # dbt's profile reads the DuckDB path and the Spark folder from the environment (see
    # dbt_project/profiles.yml).
    os.environ["WAREHOUSE_DUCKDB_PATH"] = str(warehouse.database_path)
    if engine == "spark":
        os.environ.update(spark_environment(warehouse.spark_dir))
    # Held until dbt has finished (it holds the DuckDB file while it builds), then each model's
    # materialisation carries Dagster's standard row count.
    target_path = _invocation_target_path(context, warehouse)
    parse_state = warehouse.dbt_dir / f"{dbt_target(engine)}.msgpack"
    _reuse_parse(parse_state, target_path)
    context.log.info(f"dbt's artefacts and log: {target_path}")
    events = list(dbt.cli(args, context=context, target_path=target_path).stream())
    _keep_parse(target_path, parse_state)
    _prune_invocations(target_path.parent, keep=KEEP_DBT_INVOCATIONS)
    if engine == "spark":
        with warehouse.connect() as con:
            lake.serve_built(con, warehouse.spark_dir, _built_tables(events))
    yield from _with_row_counts(events, warehouse)


# The latest dbt invocations whose artefacts and log a warehouse keeps (two per refresh): each
# is some 15 MB, mostly dbt's debug log.
KEEP_DBT_INVOCATIONS = 20


def _invocation_target_path(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Path:
    """A folder of its own for one dbt invocation's artefacts and log, in the warehouse's dbt
    folder (``runs/<step>-<run>-<id>``, named as dagster-dbt names them)."""
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{uuid4().hex[:7]}"
    return warehouse.dbt_dir / "runs" / name


def _prune_invocations(runs: Path, keep: int) -> None:
    """Remove all but the ``keep`` latest invocations' folders (one refresh of a warehouse runs
    at a time: the DuckDB file has one writer)."""
    if not runs.is_dir():
        return
    folders = sorted(
        (folder for folder in runs.iterdir() if folder.is_dir()),
        key=lambda folder: folder.stat().st_mtime,
    )
    for folder in folders[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)


# dbt parses the whole project (about 4 s) unless the partial parse it finds was made with the
# same profile, target and vars; the profile holds the warehouse's DuckDB path, so the parse
# `make` ships in dbt_project/target (made with the default path) never fits a warehouse. The
# latest invocation's parse is kept beside the warehouse and given to the next, so only a
# warehouse's first invocation (and the first after a change to the project) parses in full.
def _reuse_parse(parse_state: Path, target_path: Path) -> None:
    """Start the invocation in ``target_path`` from the warehouse's last parse, if any (dbt
    checks it against the project's files itself and reparses what changed)."""
    if parse_state.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parse_state, target_path / PARTIAL_PARSE)


def _keep_parse(target_path: Path, parse_state: Path) -> None:
    """Keep the parse dbt wrote in ``target_path`` for the warehouse's next invocation (replaced
    whole, so a reader never sees half a file). Seeds are marked for reparsing, as dagster-dbt
    does for the parse it ships: a seed's parse holds the project's absolute path."""
    written = target_path / PARTIAL_PARSE
    if not written.exists():
        return
    with written.open("rb") as file:
        state = msgpack.unpack(file, raw=False, strict_map_key=False)
    for entry in state.get("files", {}).values():
        if entry.get("parse_file_type") == "seed":
            entry["checksum"] = {"name": "sha256", "checksum": "0" * 64}
    parse_state.parent.mkdir(parents=True, exist_ok=True)
    partial = parse_state.with_name(f".{parse_state.name}.{uuid4().hex[:7]}")
    with partial.open("wb") as file:
        msgpack.pack(state, file)
    partial.replace(parse_state)


def _built_tables(events: list) -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    """The tables this build materialised, with their descriptions (see ``lake.serve_built``)."""
    nodes = _nodes()
    built = {}
    for event in events:
        unique_id = event.metadata.get("unique_id") if isinstance(event, dg.Output) else None
        node = nodes.get(str(getattr(unique_id, "value", unique_id)))
        if node is None or node["resource_type"] not in ("model", "seed"):
            continue
        columns = {name: column.get("description", "") for name, column in node["columns"].items()}
        built[(node["schema"], node["alias"])] = (node.get("description", ""), columns)
    return built


@cache
def _nodes() -> dict[str, dict]:
    """The manifest's nodes (read once per process; the manifest is fixed at load)."""
    return json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"]


@cache
def _relations() -> dict[str, str]:
    """Each dbt model's and seed's table, ``"schema"."alias"``, by unique id (views are not
    counted: a view may read a table a later step writes)."""
    return {
        unique_id: f'"{node["schema"]}"."{node["alias"]}"'
        for unique_id, node in _nodes().items()
        if node["resource_type"] in ("model", "seed")
        and node.get("config", {}).get("materialized") != "view"
    }


def _with_row_counts(events: list, warehouse: WarehouseResource) -> Iterator:
    """``events`` with ``dagster/row_count`` added to each model's and seed's output."""
    relations = _relations()
    with warehouse.read_only() as con:
        for event in events:
            unique_id = event.metadata.get("unique_id") if isinstance(event, dg.Output) else None
            relation = relations.get(str(getattr(unique_id, "value", unique_id)))
            if con is None or relation is None:
                yield event
                continue
            try:
                (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
            except duckdb.Error:  # not built after all (a failed model): no count to give
                yield event
                continue
            yield event.with_metadata({**event.metadata, "dagster/row_count": int(rows)})


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

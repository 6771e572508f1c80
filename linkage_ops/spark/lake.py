"""The lake: the tables Spark reads that the warehouse's Python steps write, as Parquet.

Loading stays one step for both engines: files are checked, quarantined and logged into the
raw store (``linkage_ops.ingest.raw_store``). With ``WAREHOUSE_ENGINE=spark`` each raw table
and each table linkage writes is then written here as Parquet, ``lake/<schema>/<table>/``, and
dbt's ``on-run-start`` (``dbt_project/macros/lake.sql``) registers them as the sources the
models read. Tables dbt builds are Parquet under ``warehouse/<schema>.db/<table>/`` and are read
back by path (``read_table``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

# The schemas the Python steps write and the models read as sources.
LAKE_SCHEMAS = ("raw", "linkage")


def lake_dir(spark_dir: Path) -> Path:
    return Path(spark_dir) / "lake"


def table_dir(spark_dir: Path, schema: str, table: str) -> Path:
    """Where a table is: in the lake for the schemas Python writes, else where dbt built it."""
    if schema in LAKE_SCHEMAS:
        return lake_dir(spark_dir) / schema / table
    return Path(spark_dir) / "warehouse" / f"{schema}.db" / table


def _replace_dir(target: Path, write) -> None:
    """Write a table into a new folder beside ``target`` and swap it in, so that a reader sees
    the old table or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    write(staging)
    old = target.with_name(f".{target.name}.old.{uuid.uuid4().hex}")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def export_schema(con: duckdb.DuckDBPyConnection, spark_dir: Path, schema: str) -> list[str]:
    """Write every table of DuckDB ``schema`` to the lake as Parquet; returns their names."""
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = ? and table_type = 'BASE TABLE' order by 1",
            [schema],
        ).fetchall()
    ]
    for table in tables:

        def write(folder: Path, table: str = table) -> None:
            folder.mkdir(parents=True)
            con.execute(
                f'copy (select * from "{schema}"."{table}") '
                f"to '{folder / 'part-0.parquet'}' (format parquet)"
            )

        _replace_dir(table_dir(spark_dir, schema, table), write)
    return tables


def write_frame(frame: pd.DataFrame, spark_dir: Path, schema: str, table: str) -> None:
    """Write a pandas frame to the lake as ``schema.table`` (replacing it)."""

    def write(folder: Path) -> None:
        folder.mkdir(parents=True)
        frame.to_parquet(folder / "part-0.parquet", index=False)

    _replace_dir(table_dir(spark_dir, schema, table), write)


def read_table(spark_dir: Path, schema: str, table: str) -> pd.DataFrame:
    """A lake table or a table dbt built on Spark, as pandas (small tables: marts, tests)."""
    folder = table_dir(spark_dir, schema, table)
    if not folder.exists():
        raise FileNotFoundError(f"{schema}.{table}: no table at {folder}")
    return pq.read_table(folder).to_pandas()


def present_tables(spark_dir: Path) -> list[str]:
    """``schema.table`` of every table in the lake (what dbt's on-run-start may register)."""
    root = lake_dir(spark_dir)
    return sorted(
        f"{schema}.{folder.name}"
        for schema in LAKE_SCHEMAS
        if (root / schema).is_dir()
        for folder in (root / schema).iterdir()
        if folder.is_dir() and not folder.name.startswith(".")
    )


def serve_built(
    con: duckdb.DuckDBPyConnection,
    spark_dir: Path,
    relations: dict[tuple[str, str], tuple[str, dict[str, str]]],
) -> list[str]:
    """Copy the tables dbt built on Spark into the warehouse DuckDB file, which stays the
    serving store: the checks, the publication, the web app and the notifications read it as
    they do with the DuckDB engine. ``relations`` maps (schema, table) to the model's
    description and its columns' descriptions, written as comments as dbt's ``persist_docs``
    writes them on DuckDB. A table dbt did not build (a failed model) keeps its last copy.
    Returns the tables copied."""
    copied = []
    for (schema, table), (description, columns) in relations.items():
        folder = table_dir(spark_dir, schema, table)
        # A partitioned table (dashboard_kpis_history on Spark) has a folder per partition
        # value, its partition column last.
        if not any(folder.rglob("*.parquet")):
            continue
        con.execute(f'create schema if not exists "{schema}"')
        con.execute(
            f'create or replace table "{schema}"."{table}" as '
            f"select * from read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
        )
        built = {
            name
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                [schema, table],
            ).fetchall()
        }
        if description:
            con.execute(f'comment on table "{schema}"."{table}" is {_literal(description)}')
        for column, text in columns.items():
            if text and column in built:
                con.execute(
                    f'comment on column "{schema}"."{table}"."{column}" is {_literal(text)}'
                )
        copied.append(f"{schema}.{table}")
    return copied


def _literal(text: str) -> str:
    return "'" + text.strip().replace("'", "''") + "'"


def text_frame(spark, frame: pd.DataFrame):
    """A pandas frame of text (a CSV read as text) as a Spark DataFrame: every column a string,
    missing values null (Spark cannot infer a type for a column with no value)."""
    schema = ", ".join(f"`{column}` string" for column in frame.columns)
    values = frame.astype(object).where(frame.notna(), None)
    return spark.createDataFrame(values, schema)


def names_from_full_names(frame):
    """``standardise.names_from_full_names`` on a Spark DataFrame, batch by batch: names from
    ``full_name`` where a record lacks them, the column read one way for the whole table
    (whole names, or one name each)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from linkage_ops.linkage.standardise import FULL_NAME, NAME_PARTS, holds_whole_names
    from linkage_ops.linkage.standardise import names_from_full_names as split

    added = [T.StructField(c, T.StringType()) for c in NAME_PARTS if c not in frame.columns]
    schema = T.StructType([*frame.schema.fields, *added])
    name = F.trim(F.col(FULL_NAME))
    given, words = frame.agg(
        F.count(F.when(name != "", 1)), F.count(F.when(name.rlike(r"\S\s"), 1))
    ).first()
    whole_names = holds_whole_names(given, words)

    def batches(frames):
        for batch in frames:
            yield split(batch, whole_names)[0][schema.fieldNames()]

    return frame.mapInPandas(batches, schema)

"""Does the dbt project build the same warehouse on Spark as on DuckDB?

Every table dbt built in the given schemas of a DuckDB warehouse is compared with the table
the Spark build of the same data wrote (read back by path, ``lake.read_table``): the same
column names and the same rows, order aside. Values are compared after the engines'
differences in types are taken out: a date and a timestamp at midnight are the same day,
integers, decimals and floats are numbers (floats to 10 significant digits), NaN and NaT are
null, and a partition column Spark reads back as text is its value written out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from linkage_ops.spark import lake

DEFAULT_SCHEMAS = ("intermediate", "marts", "restricted", "reference")


def compare_warehouses(
    duckdb_con: duckdb.DuckDBPyConnection,
    spark_dir: Path,
    schemas: Iterable[str] = DEFAULT_SCHEMAS,
    ignore: Iterable[str] = (),
) -> list[str]:
    """One line per difference between the DuckDB and the Spark builds (empty: identical).
    Columns named in ``ignore`` are left out (e.g. ``run_id``: two runs are two runs)."""
    ignore = set(ignore)
    differences = []
    for schema, table in _built_tables(duckdb_con, schemas):
        name = f"{schema}.{table}"
        try:
            spark_frame = lake.read_table(spark_dir, schema, table)
        except FileNotFoundError:
            differences.append(f"{name}: not built on Spark")
            continue
        duckdb_frame = duckdb_con.sql(f'select * from "{schema}"."{table}"').df()
        differences.extend(
            _compare_frames(
                name,
                duckdb_frame.drop(columns=[c for c in duckdb_frame if c in ignore]),
                spark_frame.drop(columns=[c for c in spark_frame if c in ignore]),
            )
        )
    return differences


def _built_tables(con: duckdb.DuckDBPyConnection, schemas: Iterable[str]) -> list[tuple[str, str]]:
    schemas = list(schemas)
    return con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and list_contains(?, table_schema) order by 1, 2",
        [schemas],
    ).fetchall()


def _compare_frames(name: str, duckdb_frame: pd.DataFrame, spark_frame: pd.DataFrame) -> list[str]:
    duckdb_columns, spark_columns = set(duckdb_frame.columns), set(spark_frame.columns)
    if duckdb_columns != spark_columns:
        return [
            f"{name}: columns only on DuckDB {sorted(duckdb_columns - spark_columns)}, "
            f"only on Spark {sorted(spark_columns - duckdb_columns)}"
        ]
    columns = sorted(duckdb_columns)
    duckdb_rows, spark_rows = _rows(duckdb_frame, columns), _rows(spark_frame, columns)
    only_duckdb, only_spark = duckdb_rows - spark_rows, spark_rows - duckdb_rows
    if not only_duckdb and not only_spark:
        return []
    example = dict(zip(columns, next(iter(only_duckdb or only_spark)), strict=True))
    return [
        f"{name}: {only_duckdb.total()} rows only on DuckDB, {only_spark.total()} only on "
        f"Spark (of {len(duckdb_frame)} and {len(spark_frame)}); e.g. {example}"
    ]


def _rows(frame: pd.DataFrame, columns: list[str]) -> Counter:
    return Counter(
        tuple(_normalise(value) for value in row)
        for row in frame[columns].itertuples(index=False, name=None)
    )


def _normalise(value: object) -> object:
    """A value as both engines' types agree on it (dates as ISO text, numbers rounded)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_normalise(item) for item in value)
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)) and abs(value) < 10**10:
        return int(value)
    if isinstance(value, (int, np.integer, float, np.floating, decimal.Decimal)):
        number = float(value)
        if math.isnan(number):
            return None
        number = float(f"{number:.10g}")
        return int(number) if number.is_integer() else number
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        value = value.replace(tzinfo=None)
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)

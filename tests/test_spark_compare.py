"""compare_warehouses tells the DuckDB and Spark builds apart only where the rows differ, not
where the engines merely type the same value differently."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from linkage_ops.spark import lake
from linkage_ops.spark.compare import compare_warehouses


def write_spark_table(spark_dir: Path, schema: str, table: str, frame: pd.DataFrame) -> None:
    folder = lake.table_dir(spark_dir, schema, table)
    folder.mkdir(parents=True)
    frame.to_parquet(folder / "part-00000.parquet", index=False)


def duckdb_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.kpis as select * from (values "
        "(date '2025-03-31', 'looked after', 12::bigint, 33.333333333333336, 1.5::decimal(4, 2)),"
        "(date '2025-03-31', 'in need', null, null, null)"
        ") as t(as_at_date, kpi, children, percent, score)"
    )
    return con


def test_the_same_rows_typed_differently_are_no_difference(tmp_path: Path) -> None:
    # Spark's rows in another order, the date as a timestamp at midnight, the count as a float,
    # the percentage a last digit apart and the decimal as a double.
    write_spark_table(
        tmp_path,
        "marts",
        "kpis",
        pd.DataFrame(
            {
                "kpi": ["in need", "looked after"],
                "as_at_date": [datetime(2025, 3, 31), datetime(2025, 3, 31)],
                "children": [float("nan"), 12.0],
                "percent": [None, 33.33333333333333],
                "score": [None, 1.5],
            }
        ),
    )
    assert compare_warehouses(duckdb_warehouse(), tmp_path) == []


def test_a_different_row_and_a_missing_table_are_reported(tmp_path: Path) -> None:
    con = duckdb_warehouse()
    con.execute("create table marts.empty (x integer)")
    write_spark_table(
        tmp_path,
        "marts",
        "kpis",
        pd.DataFrame(
            {
                "kpi": ["in need", "looked after"],
                "as_at_date": [date(2025, 3, 31), date(2025, 3, 31)],
                "children": [None, 13],
                "percent": [None, 33.333333333333336],
                "score": [None, Decimal("1.50")],
            }
        ),
    )
    assert compare_warehouses(con, tmp_path) == [
        "marts.empty: not built on Spark",
        "marts.kpis: 1 rows only on DuckDB, 1 only on Spark (of 2 and 2); e.g. "
        "{'as_at_date': '2025-03-31', 'children': 12, 'kpi': 'looked after', "
        "'percent': 33.33333333, 'score': 1.5}",
    ]

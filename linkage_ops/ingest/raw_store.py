"""Write a source period into the raw layer of the warehouse DuckDB file.

Raw tables keep every period (history) with values exactly as delivered, as text, plus lineage
columns. Loading a period replaces that period only, so loading the same file twice adds
nothing. Quarantined rows and flagged values go to ``raw.quarantine``; a ``raw.load_log`` row per
file records rows read, loaded and rejected so a check can prove nothing was lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pandas as pd

from linkage_ops.ingest.reader import SourceBatch, TableBatch
from linkage_ops.ingest.schema import SourceSchema

RAW_SCHEMA = "raw"
LINEAGE_COLUMNS = {
    "_extra_columns": "JSON",
    "_source_file": "VARCHAR",
    "_file_sha256": "VARCHAR",
    "_row_number": "INTEGER",
    "_period": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
    "_run_id": "VARCHAR",
}
QUARANTINE_DDL = f"""
create table if not exists {RAW_SCHEMA}.quarantine (
    source varchar, period varchar, table_name varchar, source_file varchar,
    row_number integer, field varchar, value varchar, reason varchar, action varchar,
    run_id varchar, loaded_at timestamp
)"""
LOAD_LOG_DDL = f"""
create table if not exists {RAW_SCHEMA}.load_log (
    source varchar, period varchar, table_name varchar, source_file varchar,
    file_sha256 varchar, rows_read integer, rows_loaded integer, rows_rejected integer,
    values_flagged integer, run_id varchar, loaded_at timestamp
)"""


QUARANTINE_COLUMNS = [
    "source",
    "period",
    "table_name",
    "source_file",
    "row_number",
    "field",
    "value",
    "reason",
    "action",
    "run_id",
    "loaded_at",
]
LOAD_LOG_COLUMNS = [
    "source",
    "period",
    "table_name",
    "source_file",
    "file_sha256",
    "rows_read",
    "rows_loaded",
    "rows_rejected",
    "values_flagged",
    "run_id",
    "loaded_at",
]


def _append(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame's rows by column name (nothing to do for an empty frame)."""
    if frame.empty:
        return
    con.register("incoming_rows", frame)
    column_list = ", ".join(f'"{column}"' for column in frame.columns)
    con.execute(f"insert into {table} ({column_list}) select {column_list} from incoming_rows")
    con.unregister("incoming_rows")


@dataclass(frozen=True)
class TableLoad:
    """What was written for one table of a source period."""

    table: str
    raw_table: str
    source_file: str
    file_sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    values_flagged: int


# The files of one delivery: (file name, SHA-256) pairs.
Delivery = frozenset[tuple[str, str]]


def loaded_files(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], Delivery]:
    """The files (name, SHA-256) each loaded period came from, by (source, period), from
    ``raw.load_log`` (which holds each period's latest load); empty before the first load."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        f"where table_schema = '{RAW_SCHEMA}' and table_name = 'load_log'"
    ).fetchone()[0]
    if not exists:
        return {}
    files: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for source, period, name, sha256 in con.execute(
        f"select distinct source, period, source_file, file_sha256 from {RAW_SCHEMA}.load_log"
    ).fetchall():
        files.setdefault((source, period), set()).add((name, sha256))
    return {key: frozenset(value) for key, value in files.items()}


def raw_table_name(source: str, table: str) -> str:
    """Qualified name of a raw table, e.g. ``raw.school_census__pupilonroll``."""
    return f"{RAW_SCHEMA}.{source}__{table}"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, schema: SourceSchema) -> None:
    """Create the raw tables of a source (and the shared quarantine and load log) if missing.

    A column that a later schema year adds is added to the existing table.
    """
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(QUARANTINE_DDL)
    con.execute(LOAD_LOG_DDL)
    for table in schema.tables.values():
        name = raw_table_name(schema.source, table.name)
        wanted = {column: "VARCHAR" for column in table.column_names} | LINEAGE_COLUMNS
        columns = ", ".join(f'"{column}" {kind}' for column, kind in wanted.items())
        con.execute(f"create table if not exists {name} ({columns})")
        existing = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [RAW_SCHEMA, f"{schema.source}__{table.name}"],
            ).fetchall()
        }
        for column, kind in wanted.items():
            if column not in existing:
                con.execute(f'alter table {name} add column "{column}" {kind}')


def _table_frame(batch: TableBatch, period: str, run_id: str, loaded_at: datetime) -> pd.DataFrame:
    schema_columns = batch.table.column_names
    extra = [column for column in batch.columns if column not in schema_columns]
    positions = {column: index for index, column in enumerate(batch.columns)}
    records = []
    for row_number, values in batch.loaded:
        record = {column: values[positions[column]] for column in schema_columns}
        record["_extra_columns"] = (
            json.dumps({column: values[positions[column]] for column in extra}) if extra else None
        )
        record["_row_number"] = row_number
        records.append(record)
    frame = pd.DataFrame.from_records(
        records, columns=[*schema_columns, "_extra_columns", "_row_number"]
    ).astype({column: "object" for column in schema_columns})
    frame["_source_file"] = batch.path.name
    frame["_file_sha256"] = batch.file_sha256
    frame["_period"] = period
    frame["_loaded_at"] = loaded_at
    frame["_run_id"] = run_id
    return frame


def write_source_batch(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    batch: SourceBatch,
    run_id: str,
    loaded_at: datetime,
) -> list[TableLoad]:
    """Replace ``batch.period`` of ``batch.source`` in the raw layer, in one transaction."""
    ensure_raw_tables(con, schema)
    loads: list[TableLoad] = []
    con.execute("begin transaction")
    try:
        for table in schema.tables.values():
            con.execute(
                f"delete from {raw_table_name(schema.source, table.name)} where _period = ?",
                [batch.period],
            )
        for log_table in ("quarantine", "load_log"):
            con.execute(
                f"delete from {RAW_SCHEMA}.{log_table} where source = ? and period = ?",
                [batch.source, batch.period],
            )
        for table_name, table_batch in batch.tables.items():
            name = raw_table_name(schema.source, table_name)
            frame = _table_frame(table_batch, batch.period, run_id, loaded_at)
            _append(con, name, frame)
            flagged = sum(
                1
                for finding in batch.findings
                if finding.table == table_name and finding.action == "flagged"
            )
            loads.append(
                TableLoad(
                    table=table_name,
                    raw_table=name,
                    source_file=table_batch.path.name,
                    file_sha256=table_batch.file_sha256,
                    rows_read=table_batch.rows_read,
                    rows_loaded=len(table_batch.loaded),
                    rows_rejected=table_batch.rows_rejected,
                    values_flagged=flagged,
                )
            )
        quarantine = pd.DataFrame(
            [
                (
                    batch.source,
                    batch.period,
                    f.table,
                    f.source_file,
                    f.row_number,
                    f.field,
                    f.value,
                    f.reason,
                    f.action,
                    run_id,
                    loaded_at,
                )
                for f in batch.findings
            ],
            columns=QUARANTINE_COLUMNS,
        )
        load_log = pd.DataFrame(
            [
                (
                    batch.source,
                    batch.period,
                    load.table,
                    load.source_file,
                    load.file_sha256,
                    load.rows_read,
                    load.rows_loaded,
                    load.rows_rejected,
                    load.values_flagged,
                    run_id,
                    loaded_at,
                )
                for load in loads
            ],
            columns=LOAD_LOG_COLUMNS,
        )
        _append(con, f"{RAW_SCHEMA}.quarantine", quarantine)
        _append(con, f"{RAW_SCHEMA}.load_log", load_log)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return loads


@dataclass(frozen=True)
class Reconciliation:
    """Rows read against rows loaded plus rows quarantined, for one table of a period."""

    table: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_in_raw: int

    @property
    def balanced(self) -> bool:
        return (
            self.rows_read == self.rows_loaded + self.rows_quarantined
            and self.rows_in_raw == self.rows_loaded
        )


def reconcile_period(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, period: str
) -> list[Reconciliation]:
    """Recount a loaded period from the database itself, for every table of the source: what
    the load log says was read, what the raw table holds and how many distinct rows the
    quarantine rejected. A table with no file this period reconciles at zero."""
    results = []
    for table_name in schema.tables:
        logged = con.execute(
            f"select coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0) "
            f"from {RAW_SCHEMA}.load_log where source = ? and period = ? and table_name = ?",
            [schema.source, period, table_name],
        ).fetchone()
        quarantined = con.execute(
            f"select count(distinct row_number) from {RAW_SCHEMA}.quarantine "
            "where source = ? and period = ? and table_name = ? and action = 'rejected'",
            [schema.source, period, table_name],
        ).fetchone()[0]
        in_raw = con.execute(
            f"select count(*) from {raw_table_name(schema.source, table_name)} where _period = ?",
            [period],
        ).fetchone()[0]
        results.append(
            Reconciliation(table_name, int(logged[0]), int(logged[1]), quarantined, in_raw)
        )
    return results

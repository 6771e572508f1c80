"""Write a source period into the raw layer of the warehouse DuckDB file.

Raw tables keep every period (history) with values exactly as delivered, as text, plus lineage
columns. Loading a period replaces that period only, so loading the same file twice adds
nothing. Quarantined rows and flagged values go to ``raw.quarantine``; a ``raw.load_log`` row per
file records rows read, loaded and rejected so a check can prove nothing was lost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from linkage_ops.ingest.codelist_table import write_code_lists
from linkage_ops.ingest.collection_year import parse_year_label
from linkage_ops.ingest.reader import Finding, SourceBatch, TableBatch, read_date
from linkage_ops.ingest.schema import SourceSchema
from linkage_ops.ingest.workbook import delivered_file_name

RAW_SCHEMA = "raw"
# _period_end is the period's end by the source's calendar rules (census day, year end, month
# end, an assessment's results day), so that dbt reads it rather than repeating the rules.
LINEAGE_COLUMNS = {
    "_extra_columns": "JSON",
    "_source_file": "VARCHAR",
    "_file_sha256": "VARCHAR",
    "_row_number": "INTEGER",
    "_period": "VARCHAR",
    "_period_end": "DATE",
    "_loaded_at": "TIMESTAMP",
    "_run_id": "VARCHAR",
}
# The warehouse's own raw tables, each declared once: columns and types.
QUARANTINE = {
    "source": "VARCHAR",
    "period": "VARCHAR",
    "table_name": "VARCHAR",
    "source_file": "VARCHAR",
    "row_number": "INTEGER",
    "field": "VARCHAR",
    "value": "VARCHAR",
    "reason": "VARCHAR",
    "action": "VARCHAR",
    "run_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}
# One row per file of a load (per table for an XML file holding several): what was read,
# loaded and quarantined; the collection year's schema it was read with; aliases applied,
# optional columns absent and extra columns kept; and the outcome: loaded, unmodelled (kept
# verbatim in raw.unmodelled_rows or raw.unmodelled_elements) or failed (with the problem).
LOAD_LOG = {
    "source": "VARCHAR",
    "period": "VARCHAR",
    "table_name": "VARCHAR",
    "source_file": "VARCHAR",
    "file_sha256": "VARCHAR",
    "rows_read": "INTEGER",
    "rows_loaded": "INTEGER",
    "rows_rejected": "INTEGER",
    "values_flagged": "INTEGER",
    "run_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
    "collection_year": "VARCHAR",
    "outcome": "VARCHAR",
    "problem": "VARCHAR",
    "aliases_applied": "JSON",
    "columns_absent": "JSON",
    "columns_extra": "JSON",
    "dates_in_other_form": "JSON",
    "codes_respelt": "JSON",
}
# Rows of files that match no modelled table, every column kept as text.
UNMODELLED_ROWS = {
    "source": "VARCHAR",
    "period": "VARCHAR",
    "source_file": "VARCHAR",
    "file_sha256": "VARCHAR",
    "row_number": "INTEGER",
    "fields": "JSON",
    "run_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}
# XML elements no table models: path from the root, text, attributes and the record they sit in.
UNMODELLED_ELEMENTS = {
    "source": "VARCHAR",
    "period": "VARCHAR",
    "source_file": "VARCHAR",
    "file_sha256": "VARCHAR",
    "line": "INTEGER",
    "path": "VARCHAR",
    "text": "VARCHAR",
    "attributes": "JSON",
    "record_table": "VARCHAR",
    "record_key": "VARCHAR",
    "run_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}
WAREHOUSE_TABLES = {
    "quarantine": QUARANTINE,
    "load_log": LOAD_LOG,
    "unmodelled_rows": UNMODELLED_ROWS,
    "unmodelled_elements": UNMODELLED_ELEMENTS,
}
# The load log's table_name for unmodelled content.
UNMODELLED = "unmodelled"
UNMODELLED_XML = "unmodelled_elements"


def _append(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame's rows by column name (nothing to do for an empty frame)."""
    if frame.empty:
        return
    con.register("incoming_rows", frame)
    column_list = ", ".join(f'"{column}"' for column in frame.columns)
    con.execute(f"insert into {table} ({column_list}) select {column_list} from incoming_rows")
    con.unregister("incoming_rows")


def _ensure_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, dict[str, str]]) -> None:
    """Create each ``raw.<name>`` of ``tables`` with its columns, or add the columns an older
    warehouse lacks (one look at the catalogue for all of them: loads call this often)."""
    existing: dict[str, set[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?",
        [RAW_SCHEMA],
    ).fetchall():
        existing.setdefault(table, set()).add(column)
    for name, columns in tables.items():
        if name not in existing:
            definition = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
            con.execute(f"create table if not exists {RAW_SCHEMA}.{name} ({definition})")
            continue
        for column, kind in columns.items():
            if column not in existing[name]:
                con.execute(f'alter table {RAW_SCHEMA}.{name} add column "{column}" {kind}')


def ensure_warehouse_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The quarantine, load log and unmodelled tables every source shares."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    _ensure_tables(con, WAREHOUSE_TABLES)


@dataclass(frozen=True)
class TableLoad:
    """What was written for one file (one table of it) of a source period."""

    table: str
    raw_table: str
    source_file: str
    file_sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    values_flagged: int
    outcome: str = "loaded"  # loaded, unmodelled or failed
    problem: str | None = None


@dataclass(frozen=True)
class PeriodLoad:
    """Everything one load of a source period wrote."""

    source: str
    period: str
    collection_year: str
    loads: list[TableLoad]
    findings: list[Finding]

    @property
    def tables(self) -> list[TableLoad]:
        return [load for load in self.loads if load.outcome == "loaded"]

    @property
    def unmodelled(self) -> list[TableLoad]:
        return [load for load in self.loads if load.outcome == "unmodelled"]

    @property
    def failed(self) -> list[TableLoad]:
        return [load for load in self.loads if load.outcome == "failed"]


# The files of one delivery: (file name, SHA-256) pairs.
Delivery = frozenset[tuple[str, str]]


def has_raw_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether ``raw.<name>`` exists yet (a new warehouse has none)."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [RAW_SCHEMA, name],
        ).fetchone()[0]
    )


def loaded_periods(con: duckdb.DuckDBPyConnection, source: str) -> set[str]:
    """The periods of ``source`` in the warehouse (by ``raw.load_log``; none before a load)."""
    if not has_raw_table(con, "load_log"):
        return set()
    return {
        period
        for (period,) in con.execute(
            f"select distinct period from {RAW_SCHEMA}.load_log where source = ?", [source]
        ).fetchall()
    }


def loaded_collection_year(con: duckdb.DuckDBPyConnection, source: str, period: str) -> int | None:
    """The collection year (the year it ends in) whose schema a loaded period was read with,
    from ``raw.load_log``; ``None`` when the period is not loaded."""
    if not has_raw_table(con, "load_log"):
        return None
    (label,) = con.execute(
        f"select max(collection_year) from {RAW_SCHEMA}.load_log where source = ? and period = ?",
        [source, period],
    ).fetchone()
    return parse_year_label(label) if label else None


def loaded_files(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], Delivery]:
    """The files (name, SHA-256) each loaded period came from, by (source, period), from
    ``raw.load_log`` (which holds each period's latest load); empty before the first load. A
    worksheet counts as its workbook, the file that was delivered."""
    if not has_raw_table(con, "load_log"):
        return {}
    files: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for source, period, name, sha256 in con.execute(
        f"select distinct source, period, source_file, file_sha256 from {RAW_SCHEMA}.load_log"
    ).fetchall():
        files.setdefault((source, period), set()).add((delivered_file_name(name), sha256))
    return {key: frozenset(value) for key, value in files.items()}


def raw_table_name(source: str, table: str) -> str:
    """Qualified name of a raw table, e.g. ``raw.school_census__pupilonroll``."""
    return f"{RAW_SCHEMA}.{source}__{table}"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, schema: SourceSchema) -> None:
    """Create the raw tables of a source (every table of every collection year) and the shared
    tables if missing. A column that a later schema year adds is added to the existing table."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    _ensure_tables(
        con,
        WAREHOUSE_TABLES
        | {
            f"{schema.source}__{table.name}": {column: "VARCHAR" for column in table.column_names}
            | LINEAGE_COLUMNS
            for table in schema.tables.values()
        },
    )


def _table_frame(
    batch: TableBatch,
    schema_columns: list[str],
    period: str,
    period_end: date | None,
    run_id: str,
    loaded_at: datetime,
) -> pd.DataFrame:
    """The loaded rows as the raw table's columns: schema columns a file lacked are blank, and
    columns beyond the schema are kept in ``_extra_columns``."""
    extra = [column for column in batch.columns if column not in schema_columns]
    positions = {column: index for index, column in enumerate(batch.columns)}
    records = []
    for row_number, values in batch.loaded:
        record = {
            column: values[positions[column]] if column in positions else None
            for column in schema_columns
        }
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
    frame["_period_end"] = period_end
    frame["_loaded_at"] = loaded_at
    frame["_run_id"] = run_id
    return frame


def _unmodelled_fields(columns: list[str], row: list[str]) -> str:
    """A delivered row as a JSON object of its columns, as text; fields beyond the header are
    kept as ``(field N)``."""
    names = list(columns) + [f"(field {i})" for i in range(len(columns) + 1, len(row) + 1)]
    seen: dict[str, int] = {}
    fields = {}
    for name, value in zip(names, row, strict=False):
        seen[name] = seen.get(name, 0) + 1
        fields[name if seen[name] == 1 else f"{name} ({seen[name]})"] = value
    return json.dumps(fields)


def _loads(batch: SourceBatch, schema: SourceSchema) -> list[TableLoad]:
    """One load log entry per file (and table), in the order the files were read."""
    loads = []
    for table_name, table_batch in batch.tables.items():
        loads.append(
            TableLoad(
                table=table_name,
                raw_table=raw_table_name(schema.source, table_name),
                source_file=table_batch.path.name,
                file_sha256=table_batch.file_sha256,
                rows_read=table_batch.rows_read,
                rows_loaded=len(table_batch.loaded),
                rows_rejected=table_batch.rows_rejected,
                values_flagged=sum(
                    1
                    for finding in batch.findings
                    if finding.table == table_name and finding.action == "flagged"
                ),
            )
        )
    kept = [
        (UNMODELLED, "unmodelled_rows", f.path.name, f.file_sha256, len(f.rows))
        for f in batch.unmodelled_files
    ] + [
        (UNMODELLED_XML, "unmodelled_elements", x.path.name, x.file_sha256, len(x.elements))
        for x in batch.unmodelled_xml
    ]
    for table, relation, name, sha256, count in kept:
        loads.append(
            TableLoad(
                table, f"{RAW_SCHEMA}.{relation}", name, sha256, count, count, 0, 0, "unmodelled"
            )
        )
    for failed in batch.failed:
        loads.append(
            TableLoad(
                failed.table or "",
                raw_table_name(schema.source, failed.table) if failed.table else "",
                failed.path.name,
                failed.file_sha256 or "",
                0,
                0,
                0,
                0,
                outcome="failed",
                problem=failed.problem,
            )
        )
    return loads


def _period_end(schema: SourceSchema, period: str) -> date | None:
    """The period's end by the source's calendar rules; None for a period the rules cannot
    read (the load never fails for want of it)."""
    # Imported here: the calendar reads schemas through this package.
    from linkage_ops.census_calendar import period_end

    try:
        return period_end(schema.cadence, period, schema.results_due)
    except (ValueError, KeyError):
        return None


# A reload that leaves a table with fewer than this share of the rows the period's previous
# load read is refused unless accepted (a corrected delivery is about the same size; a
# header-only, truncated or failed file is not).
MAX_RELOAD_LOSS = 0.5


def reload_losses(
    con: duckdb.DuckDBPyConnection, schema: SourceSchema, batch: SourceBatch
) -> list[str]:
    """What reloading ``batch`` over the period's previous load would lose without a word: one
    description per table whose rows read would fall by more than ``MAX_RELOAD_LOSS`` (a
    header-only or truncated file, or no file this time). Empty for a first load. A table whose
    file failed is not counted here: the failure already fails the period's checks and holds
    the refresh back."""
    ensure_warehouse_tables(con)
    previous = dict(
        con.execute(
            f"select table_name, sum(rows_read) from {RAW_SCHEMA}.load_log "
            "where source = ? and period = ? and outcome = 'loaded' group by table_name",
            [batch.source, batch.period],
        ).fetchall()
    )
    failed = {f.table for f in batch.failed if f.table}
    # A file that failed before its tables were known (malformed XML holds several) accounts
    # for every table that has no file this time.
    unattributed = any(f.table is None for f in batch.failed)
    losses = []
    for table, before in sorted(previous.items()):
        if table in failed or (unattributed and table not in batch.tables):
            continue
        now = batch.tables[table].rows_read if table in batch.tables else 0
        if before and now < (1 - MAX_RELOAD_LOSS) * before:
            missing = "" if table in batch.tables else ", no file this time"
            losses.append(f"{table} from {int(before):,} rows to {now:,}{missing}")
    return losses


def write_source_batch(
    con: duckdb.DuckDBPyConnection,
    schema: SourceSchema,
    batch: SourceBatch,
    run_id: str,
    loaded_at: datetime,
) -> PeriodLoad:
    """Replace ``batch.period`` of ``batch.source`` in the raw layer, in one transaction:
    every raw table of the source, its quarantine, load log and unmodelled content. The code
    lists the models read are written too (they change with the code, not with loads)."""
    ensure_raw_tables(con, schema)
    write_code_lists(con)
    loads = _loads(batch, schema)
    extras = {
        (table_batch.path.name, name): table_batch for name, table_batch in batch.tables.items()
    }
    con.execute("begin transaction")
    try:
        for table in schema.tables.values():
            con.execute(
                f"delete from {raw_table_name(schema.source, table.name)} where _period = ?",
                [batch.period],
            )
        for log_table in WAREHOUSE_TABLES:
            con.execute(
                f"delete from {RAW_SCHEMA}.{log_table} where source = ? and period = ?",
                [batch.source, batch.period],
            )
        period_end = _period_end(schema, batch.period)
        for table_name, table_batch in batch.tables.items():
            frame = _table_frame(
                table_batch,
                schema.tables[table_name].column_names,
                batch.period,
                period_end,
                run_id,
                loaded_at,
            )
            _append(con, raw_table_name(schema.source, table_name), frame)
        common = {"source": batch.source, "period": batch.period}
        stamp = {"run_id": run_id, "loaded_at": loaded_at}
        _append(
            con,
            f"{RAW_SCHEMA}.unmodelled_rows",
            pd.DataFrame(
                [
                    {
                        **common,
                        "source_file": unmodelled.path.name,
                        "file_sha256": unmodelled.file_sha256,
                        "row_number": row_number,
                        "fields": _unmodelled_fields(unmodelled.columns, row),
                        **stamp,
                    }
                    for unmodelled in batch.unmodelled_files
                    for row_number, row in unmodelled.rows
                ],
                columns=list(UNMODELLED_ROWS),
            ),
        )
        _append(
            con,
            f"{RAW_SCHEMA}.unmodelled_elements",
            pd.DataFrame(
                [
                    {
                        **common,
                        "source_file": xml.path.name,
                        "file_sha256": xml.file_sha256,
                        "line": element.line,
                        "path": element.path,
                        "text": element.text,
                        "attributes": json.dumps(element.attributes)
                        if element.attributes
                        else None,
                        "record_table": element.record_table,
                        "record_key": element.record_key,
                        **stamp,
                    }
                    for xml in batch.unmodelled_xml
                    for element in xml.elements
                ],
                columns=list(UNMODELLED_ELEMENTS),
            ),
        )
        _append(
            con,
            f"{RAW_SCHEMA}.quarantine",
            pd.DataFrame(
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
                columns=list(QUARANTINE),
            ),
        )
        log_rows = []
        for load in loads:
            table_batch = extras.get((load.source_file, load.table))
            log_rows.append(
                {
                    **common,
                    "table_name": load.table or None,
                    "source_file": load.source_file,
                    "file_sha256": load.file_sha256 or None,
                    "rows_read": load.rows_read,
                    "rows_loaded": load.rows_loaded,
                    "rows_rejected": load.rows_rejected,
                    "values_flagged": load.values_flagged,
                    **stamp,
                    "collection_year": batch.collection_year,
                    "outcome": load.outcome,
                    "problem": load.problem,
                    "aliases_applied": json.dumps(table_batch.aliases_applied)
                    if table_batch is not None and table_batch.aliases_applied
                    else None,
                    "columns_absent": json.dumps(table_batch.columns_absent)
                    if table_batch is not None and table_batch.columns_absent
                    else None,
                    "columns_extra": json.dumps(table_batch.columns_extra)
                    if table_batch is not None and table_batch.columns_extra
                    else None,
                    "dates_in_other_form": json.dumps(table_batch.dates_in_other_form)
                    if table_batch is not None and table_batch.dates_in_other_form
                    else None,
                    "codes_respelt": json.dumps(table_batch.codes_respelt)
                    if table_batch is not None and table_batch.codes_respelt
                    else None,
                }
            )
        _append(con, f"{RAW_SCHEMA}.load_log", pd.DataFrame(log_rows, columns=list(LOAD_LOG)))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return PeriodLoad(batch.source, batch.period, batch.collection_year, loads, batch.findings)


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
    """Recount a loaded period from the database itself, for every table of the source and
    its unmodelled content: what the load log says was read, what the raw table holds and how
    many distinct rows the quarantine rejected. A table with no file this period reconciles at
    zero."""
    ensure_warehouse_tables(con)
    counted = {
        table_name: (raw_table_name(schema.source, table_name), "_period = ?", [period])
        for table_name in schema.tables
    }
    counted[UNMODELLED] = (
        f"{RAW_SCHEMA}.unmodelled_rows",
        "source = ? and period = ?",
        [schema.source, period],
    )
    counted[UNMODELLED_XML] = (
        f"{RAW_SCHEMA}.unmodelled_elements",
        "source = ? and period = ?",
        [schema.source, period],
    )
    results = []
    for table_name, (relation, where, parameters) in counted.items():
        logged = con.execute(
            f"select coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0) "
            f"from {RAW_SCHEMA}.load_log where source = ? and period = ? and table_name = ?",
            [schema.source, period, table_name],
        ).fetchone()
        quarantined = con.execute(
            f"select count(distinct (source_file, row_number)) from {RAW_SCHEMA}.quarantine "
            "where source = ? and period = ? and table_name = ? and action = 'rejected'",
            [schema.source, period, table_name],
        ).fetchone()[0]
        in_raw = con.execute(f"select count(*) from {relation} where {where}", parameters)
        results.append(
            Reconciliation(
                table_name, int(logged[0]), int(logged[1]), quarantined, in_raw.fetchone()[0]
            )
        )
    return results


def failed_files(con: duckdb.DuckDBPyConnection, source: str, period: str) -> list[tuple[str, str]]:
    """(file, problem) of each file of a loaded period that could not be read."""
    ensure_warehouse_tables(con)
    return con.execute(
        f"select source_file, problem from {RAW_SCHEMA}.load_log "
        "where source = ? and period = ? and outcome = 'failed' order by source_file",
        [source, period],
    ).fetchall()


# A monthly file is in the wrong folder when fewer than this share of its dated rows fall in
# the folder's month and most fall in one other month.
MIN_PERIOD_SHARE = 0.5


def period_mismatches(schema: SourceSchema, batch: SourceBatch) -> list[str]:
    """Files whose dates (their table's ``period_date`` column) belong to another period than
    the one they were delivered for (another month; a School Census return whose reference
    date is another term's census day): one description each, naming the file, the column and
    the period the dates belong to."""
    from linkage_ops.census_calendar import period_of_day  # it reads the schemas: no cycle

    problems = []
    for table in batch.tables.values():
        column = table.table.period_date
        if column is None or column not in table.columns:
            continue
        rule = next(rule for rule in table.table.columns if rule.name == column)
        position = table.columns.index(column)
        periods: dict[str, int] = {}
        for _, values in table.loaded:
            value = values[position]
            try:
                day = read_date(value or "", rule.date_format or "")
            except ValueError:
                continue
            key = period_of_day(schema.cadence, day.date())
            if key is not None:
                periods[key] = periods.get(key, 0) + 1
        dated = sum(periods.values())
        if not dated or periods.get(batch.period, 0) >= MIN_PERIOD_SHARE * dated:
            continue
        other, count = max(periods.items(), key=lambda item: (item[1], item[0]))
        if count > dated / 2:
            problems.append(
                f"{table.path.name}: {count:,} of {dated:,} {column} dates are in {other}, "
                f"{periods.get(batch.period, 0):,} in {batch.period}"
            )
    return problems

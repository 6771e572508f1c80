"""Publish the marts for BI tools: a DuckDB copy and one Parquet file per mart, per audience, and
the aggregate marts as CSV files and one Excel workbook.

The pipeline keeps writing its own warehouse file; readers open the published copies instead.
In a published DuckDB file the tables are in its main schema (``select * from dim_child``).

    data/published/marts.duckdb                  pseudonymous marts (warehouse schema ``marts``)
    data/published/parquet/<mart>.parquet
    data/published/csv/<mart>.csv                aggregate (disclosure controlled) marts
    data/published/marts.xlsx                    the same, a sheet each, behind a contents sheet
    data/published/restricted/restricted.duckdb  identifiers, practitioners' lists
    data/published/restricted/parquet/<mart>.parquet
    data/published/publication.json              what was published, when, by which run

Every table and column carries the description dbt wrote into the warehouse (``persist_docs``):
as comments in the DuckDB files (``duckdb_tables().comment``, ``duckdb_columns().comment``), as
Parquet key-value metadata (``description`` on the schema and on each field), on the workbook's
contents sheet and as comments on each sheet's heading row.

Identifiable files stay in their own tree: the restricted audience's versions are under
``restricted/.versions``, and ``restricted/`` is the owner's only (folders 0700, files 0600).

Publishing is atomic for readers. Each audience is first written completely into a new version
folder; only then are the DuckDB file and the workbook renamed over the old ones (a reader that
has the old file open keeps reading the old, consistent copy) and the ``parquet`` and ``csv``
links switched to the new folder. If anything fails before that, the previous publication is
untouched and the partial version is removed.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from linkage_ops.spreadsheets import MartTable, write_csv, write_workbook


@dataclass(frozen=True)
class Audience:
    """One publication: the warehouse schema it copies and where it goes."""

    schema: str
    folder: str  # under the publication root; "" for the root itself
    database_name: str
    # The aggregate marts also as CSV files and one workbook of this name (None: not published).
    workbook_name: str | None = None
    # Identifiable: its folder (versions included) is the owner's only (0700, files 0600).
    private: bool = False


AUDIENCES = (
    Audience(schema="marts", folder="", database_name="marts.duckdb", workbook_name="marts.xlsx"),
    Audience(
        schema="restricted", folder="restricted", database_name="restricted.duckdb", private=True
    ),
)
PRIVATE_FOLDER_MODE, PRIVATE_FILE_MODE = 0o700, 0o600
VERSIONS = ".versions"
# A mart is an aggregate, published as a spreadsheet too, when it is disclosure controlled:
# dbt_project/macros/disclosure_control.sql gives it this column.
DISCLOSURE_CONTROL_COLUMN = "is_suppressed"


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: str
    tables: dict[str, dict[str, int]]  # audience schema -> table -> rows
    files: dict[str, list[str]] = field(default_factory=dict)  # audience -> paths under root


@dataclass(frozen=True)
class _Version:
    """One audience written into its version folder, ready to be switched in."""

    database: Path
    parquet_dir: Path
    csv_dir: Path | None
    workbook: Path | None
    rows: dict[str, int]


@dataclass(frozen=True)
class _Description:
    """What a table and each of its columns hold (blank where dbt has no description)."""

    table: str
    columns: dict[str, str]  # every column, in the table's order


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'warehouse' and table_schema = ? and table_type = 'BASE TABLE' "
            "order by table_name",
            [schema],
        ).fetchall()
    ]


def _description(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> _Description:
    """The comments dbt wrote on a warehouse table and its columns."""
    (comment,) = con.execute(
        "select comment from duckdb_tables() "
        "where database_name = 'warehouse' and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    columns = con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = 'warehouse' and schema_name = ? and table_name = ? "
        "order by column_index",
        [schema, table],
    ).fetchall()
    return _Description(
        table=(comment or "").strip(),
        columns={name: (text or "").strip() for name, text in columns},
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _comment(con: duckdb.DuckDBPyConnection, table: str, description: _Description) -> None:
    """Write the descriptions into the published DuckDB file as comments."""
    if description.table:
        con.execute(f"comment on table {table} is {_literal(description.table)}")
    for column, text in description.columns.items():
        if text:
            con.execute(f"comment on column {table}.{_identifier(column)} is {_literal(text)}")


def _write_parquet(
    con: duckdb.DuckDBPyConnection, table: str, target: Path, description: _Description
) -> None:
    """The table as Parquet, batch by batch, its descriptions as key-value metadata:
    ``description`` on the schema (the table) and on each field (the column)."""
    reader = con.sql(f"select * from {table}").to_arrow_reader()
    schema = pa.schema(
        [
            f.with_metadata({b"description": description.columns[f.name].encode()})
            if description.columns.get(f.name)
            else f
            for f in reader.schema
        ],
        metadata={b"description": description.table.encode()} if description.table else None,
    )
    with pq.ParquetWriter(target, schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _mart_table(
    con: duckdb.DuckDBPyConnection, name: str, table: str, description: _Description
) -> MartTable:
    result = con.execute(f"select * from {table} order by all")
    columns = [column for column, *_ in result.description]
    return MartTable(
        name=name,
        description=description.table,
        columns=columns,
        rows=result.fetchall(),
        column_descriptions=description.columns,
    )


def _write_version(
    warehouse: Path, audience: Audience, version_dir: Path, heading: str = ""
) -> _Version:
    """Write one audience's DuckDB file, Parquet files and, for an audience with a workbook,
    the CSV files and workbook of its aggregate marts into ``version_dir``."""
    version_dir.mkdir(parents=True)
    database = version_dir / audience.database_name
    parquet_dir = version_dir / "parquet"
    parquet_dir.mkdir()
    rows: dict[str, int] = {}
    aggregates: list[MartTable] = []
    with duckdb.connect(str(database)) as con:
        # The path as a parameter: a folder named with an apostrophe is still a path.
        con.execute("attach ? as warehouse (read_only)", [str(warehouse)])
        # Tables go in the published file's main schema (a BI tool sees ``dim_child``; the
        # file's catalog is named after it, so ``marts.marts`` would be ambiguous).
        (catalog,) = con.execute("select current_database()").fetchone()
        for table in _tables(con, audience.schema):
            published = f"{catalog}.main.{table}"
            con.execute(
                f"create table {published} as select * from warehouse.{audience.schema}.{table}"
            )
            description = _description(con, audience.schema, table)
            _comment(con, published, description)
            _write_parquet(con, published, parquet_dir / f"{table}.parquet", description)
            rows[table] = con.execute(f"select count(*) from {published}").fetchone()[0]
            if audience.workbook_name and DISCLOSURE_CONTROL_COLUMN in description.columns:
                aggregates.append(_mart_table(con, table, published, description))
        con.execute("detach warehouse")
        con.execute("checkpoint")
    if not audience.workbook_name:
        return _Version(database, parquet_dir, None, None, rows)
    csv_dir = version_dir / "csv"
    csv_dir.mkdir()
    for table in aggregates:
        write_csv(csv_dir / f"{table.name}.csv", table)
    workbook = version_dir / audience.workbook_name
    write_workbook(workbook, aggregates, heading)
    return _Version(database, parquet_dir, csv_dir, workbook, rows)


def _switch_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` in one rename (a reader sees the old or the new folder)."""
    staging = link.with_name(f".{link.name}.switching")
    staging.unlink(missing_ok=True)
    staging.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a folder left by an older layout
    os.replace(staging, link)


def _files(audience: Audience, version: _Version) -> list[str]:
    """What a reader finds for the audience, as paths under the publication root."""
    folder = Path(audience.folder)
    files = [folder / audience.database_name]
    files += [folder / "parquet" / f"{table}.parquet" for table in version.rows]
    if version.csv_dir is not None and version.workbook is not None:
        files += [folder / "csv" / p.name for p in sorted(version.csv_dir.iterdir())]
        files.append(folder / version.workbook.name)
    return [p.as_posix() for p in files]


def _make_private(folder: Path) -> None:
    """``folder`` and everything in it readable by its owner only."""
    folder.chmod(PRIVATE_FOLDER_MODE)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(PRIVATE_FOLDER_MODE if path.is_dir() else PRIVATE_FILE_MODE)


def publish(warehouse: Path, root: Path, run_id: str) -> Publication:
    """Copy every audience's tables from the ``warehouse`` DuckDB file into ``root``.

    Each audience's versions live in its own folder (``<folder>/.versions``), so identifiable
    files never sit outside ``restricted/``, which is the owner's only."""
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    heading = f"Aggregate marts, published {now:%Y-%m-%d %H:%M} UTC by run {run_id}"
    version_dirs = {
        audience.schema: root / audience.folder / VERSIONS / f"{stamp}-{run_id[:8]}"
        for audience in AUDIENCES
    }
    written = []
    try:
        for audience in AUDIENCES:
            folder = root / audience.folder
            folder.mkdir(parents=True, exist_ok=True)
            if audience.private:
                folder.chmod(PRIVATE_FOLDER_MODE)
            version_dir = version_dirs[audience.schema]
            version_dir.parent.mkdir(parents=True, exist_ok=True)
            version = _write_version(warehouse, audience, version_dir, heading)
            if audience.private:
                _make_private(version_dir.parent)
            written.append((audience, version))
    except Exception:
        for version_dir in version_dirs.values():
            shutil.rmtree(version_dir, ignore_errors=True)
        raise
    # Everything is written: now switch readers over, audience by audience.
    tables, files = {}, {}
    for audience, version in written:
        folder = root / audience.folder
        folder.mkdir(parents=True, exist_ok=True)
        files[audience.schema] = _files(audience, version)
        os.replace(version.database, folder / audience.database_name)
        _switch_link(folder / "parquet", version.parquet_dir)
        if version.csv_dir is not None and version.workbook is not None:
            _switch_link(folder / "csv", version.csv_dir)
            os.replace(version.workbook, folder / version.workbook.name)
        tables[audience.schema] = version.rows
    publication = Publication(
        run_id=run_id,
        published_at=datetime.now(timezone.utc).isoformat(),
        tables=tables,
        files=files,
    )
    manifest = root / "publication.json"
    manifest.with_suffix(".json.tmp").write_text(
        json.dumps(publication.__dict__, indent=2), encoding="utf-8"
    )
    os.replace(manifest.with_suffix(".json.tmp"), manifest)
    for audience in AUDIENCES:
        _remove_old_versions(root / audience.folder / VERSIONS, keep=2)
    return publication


def _remove_old_versions(versions: Path, keep: int) -> None:
    """Keep the newest ``keep`` versions: the current one, and the one before it for readers
    still reading its Parquet and CSV files. (A version's DuckDB file and workbook moved out
    when it was published; open readers keep their file handles.)"""
    for old in sorted(versions.iterdir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)

"""Publish the marts for BI tools and analysts: per audience a DuckDB copy and one Parquet file
per mart, and the aggregate marts also as CSV files and one Excel workbook.

The pipeline keeps writing its own warehouse file; readers open the published copies instead.
In a published DuckDB file the tables are in its main schema (``select * from dim_child``).

    data/published/marts.duckdb                  the ``marts`` tables about no one child:
    data/published/parquet/<mart>.parquet        aggregates, reference and quality tables
    data/published/csv/<mart>.csv                the aggregates (``is_suppressed``) as CSV
    data/published/marts.xlsx                    and a sheet each, behind a contents sheet
    data/published/person_level/person_level.duckdb    pseudonymous person-level marts (the
    data/published/person_level/parquet/<mart>.parquet ``marts`` tables with ``person_key``),
                                                       owner only
    data/published/restricted/restricted.duckdb  identifiers, practitioners' lists, owner only
    data/published/restricted/parquet/<mart>.parquet
    data/published/publication.json              what was published, when, by which run

Every table and column carries the description dbt wrote into the warehouse (``persist_docs``):
as comments in the DuckDB files (``duckdb_tables().comment``, ``duckdb_columns().comment``), as
Parquet key-value metadata (``description`` on the schema and on each field), on the workbook's
contents sheet and as comments on each sheet's heading row.

Which audience a ``marts`` table goes to is decided by its columns, never by a list: with a
``person_key`` it has a row per child (or per child's episode or event), however pseudonymous,
and goes to the person-level audience, which is the owner's only like the restricted one;
without one it is about no one child (disclosure-controlled aggregates, code lists, the as-at
date, linkage-quality summaries) and goes to the BI files.

Identifiable and person-level files stay in their own trees: an owner-only audience's versions
are under ``<folder>/.versions`` (folders 0700, files 0600), and nothing of theirs is ever
written outside their folder.

Publishing is atomic for readers, for the whole publication at once. Each audience is written
completely into a new version folder (``<folder>/.versions/<id>``), with ``publication.json``
in the aggregates' version, and every file and folder is fsynced. A publication folder
(``.publications/<id>``) then links each audience's version, and one rename switches the link
``current`` to it. The paths readers open are fixed links through ``current``
(``marts.duckdb -> current/marts/marts.duckdb``, ``restricted/parquet ->
../current/restricted/parquet``), so every audience, the workbook, the CSV files and
``publication.json`` change together. A reader that has a file open keeps reading its old,
consistent copy. If anything fails before the switch, the previous publication is untouched
and the partial versions are removed; the current version and the one before it are kept.

Publications into one folder take turns: each holds an exclusive lock on
``.publishing.lock`` from its first write to its last pruning, so a second one waits instead
of removing the first one's versions (to it, folders neither current nor previous) before
they are switched in.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from linkage_ops.spreadsheets import MartTable, write_csv, write_workbook


@dataclass(frozen=True)
class Audience:
    """One audience's files: which tables of a warehouse schema it copies and where they go."""

    name: str  # its link in a publication folder, and its key in publication.json
    schema: str
    folder: str  # under the publication root; "" for the root itself
    database_name: str
    # Which of the schema's tables: True, the person-level ones (a row per child or per
    # child's event: they have PERSON_KEY_COLUMN); False, every other (aggregates, reference
    # and quality tables); None, all of them.
    person_level: bool | None = None
    # The aggregate marts also as CSV files and one workbook of this name (None: not published).
    workbook_name: str | None = None
    # The owner's only: its folder (versions included) is 0700, its files 0600.
    private: bool = False
    # Who it is for, in words (the demo's summary says so).
    description: str = ""


AUDIENCES = (
    Audience(
        name="marts",
        schema="marts",
        folder="",
        database_name="marts.duckdb",
        person_level=False,
        workbook_name="marts.xlsx",
        description="about no one child: disclosure-controlled aggregates, code lists, "
        "quality, for BI",
    ),
    Audience(
        name="person_level",
        schema="marts",
        folder="person_level",
        database_name="person_level.duckdb",
        person_level=True,
        private=True,
        description="pseudonymous, a row per child or event, owner only",
    ),
    Audience(
        name="restricted",
        schema="restricted",
        folder="restricted",
        database_name="restricted.duckdb",
        private=True,
        description="identifiable, practitioners only",
    ),
)
PRIVATE_FOLDER_MODE, PRIVATE_FILE_MODE = 0o700, 0o600
VERSIONS = ".versions"
# One folder per publication, of links only (one per audience, to its version), and the link
# to the current one: switching it in one rename switches every audience at once.
PUBLICATIONS = ".publications"
CURRENT = "current"
# Held by the one publication writing into a folder at a time.
LOCK = ".publishing.lock"
# What was published: written into the version of this audience (the aggregates).
MANIFEST, MANIFEST_AUDIENCE = "publication.json", "marts"
# A mart is an aggregate, published as a spreadsheet too, when it is disclosure controlled:
# dbt_project/macros/disclosure_control.sql gives it this column.
DISCLOSURE_CONTROL_COLUMN = "is_suppressed"
# A table with this column has a row per child (or per child's record or event), however
# pseudonymous: it goes to an audience of its own, never into the BI file of aggregates.
PERSON_KEY_COLUMN = "person_key"


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: str
    tables: dict[str, dict[str, int]]  # audience name -> table -> rows
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


def _tables(con: duckdb.DuckDBPyConnection, audience: Audience) -> list[str]:
    """The audience's tables of its warehouse schema, by whether they are person level (have
    PERSON_KEY_COLUMN): a table of the schema is in exactly one audience."""
    return [
        name
        for name, person_level in con.execute(
            "select t.table_name, count(c.column_name) > 0 "
            "from information_schema.tables t left join information_schema.columns c "
            "on c.table_catalog = t.table_catalog and c.table_schema = t.table_schema "
            "and c.table_name = t.table_name and c.column_name = ? "
            "where t.table_catalog = 'warehouse' and t.table_schema = ? "
            "and t.table_type = 'BASE TABLE' "
            "group by t.table_name order by t.table_name",
            [PERSON_KEY_COLUMN, audience.schema],
        ).fetchall()
        if audience.person_level in (None, person_level)
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
        for table in _tables(con, audience):
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


def _files(audience: Audience, version: _Version) -> list[str]:
    """What a reader finds for the audience, as paths under the publication root."""
    folder = Path(audience.folder)
    files = [folder / audience.database_name]
    files += [folder / "parquet" / f"{table}.parquet" for table in version.rows]
    if version.csv_dir is not None and version.workbook is not None:
        files += [folder / "csv" / p.name for p in sorted(version.csv_dir.iterdir())]
        files.append(folder / version.workbook.name)
    return [p.as_posix() for p in files]


def _reader_paths(audience: Audience) -> list[str]:
    """The names a reader opens in the audience's folder: each a fixed link through CURRENT."""
    names = [audience.database_name, "parquet"]
    if audience.workbook_name:
        names += ["csv", audience.workbook_name]
    if audience.name == MANIFEST_AUDIENCE:
        names.append(MANIFEST)
    return names


def _make_private(folder: Path) -> None:
    """``folder`` and everything in it readable by its owner only."""
    folder.chmod(PRIVATE_FOLDER_MODE)
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(PRIVATE_FOLDER_MODE if path.is_dir() else PRIVATE_FILE_MODE)


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries, to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` (not following links), then ``folder``."""
    for parent, _, names in os.walk(folder, topdown=False):
        for name in names:
            path = Path(parent) / name
            if not path.is_symlink():
                _fsync(path)
        _fsync(Path(parent))


def _link(link: Path, target: Path) -> bool:
    """Point ``link`` at ``target`` (relative) in one rename: a reader sees the old or the new
    target, never nothing. A real file or folder left there by an older layout is replaced;
    False when the link was right already."""
    relative = os.path.relpath(target, link.parent)
    if link.is_symlink() and os.readlink(link) == relative:
        return False
    staging = link.with_name(f".{link.name}.switching")
    staging.unlink(missing_ok=True)
    os.symlink(relative, staging)
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # a folder left by an older layout (a rename cannot replace it)
    os.replace(staging, link)
    return True


def _current(root: Path) -> str | None:
    """The id of the publication readers see now (None before the first, or in the older
    layout of one link or file per path)."""
    pointer = root / CURRENT
    return Path(os.readlink(pointer)).name if pointer.is_symlink() else None


def _prepare_folder(root: Path, audience: Audience) -> Path:
    """The audience's folder and its versions' folder, the owner's only if it is private
    (before anything is written into them)."""
    folder = root / audience.folder
    folder.mkdir(parents=True, exist_ok=True)
    if audience.private:
        folder.chmod(PRIVATE_FOLDER_MODE)
    versions = folder / VERSIONS
    versions.mkdir(exist_ok=True)
    if audience.private:
        versions.chmod(PRIVATE_FOLDER_MODE)
    return versions


@contextmanager
def _taking_turns(root: Path) -> Iterator[None]:
    """Wait for, then hold, the folder's publishing lock (released when the process ends,
    however it ends)."""
    handle = os.open(root / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def publish(warehouse: Path, root: Path, run_id: str) -> Publication:
    """Copy every audience's tables from the ``warehouse`` DuckDB file into ``root`` and switch
    readers over to them, every audience at once; a publication already writing into ``root``
    is waited for.

    Each audience's versions live in its own folder (``<folder>/.versions``), so identifiable
    and person-level files never sit outside ``restricted/`` and ``person_level/``, which are
    the owner's only; the publication folder outside them holds links only."""
    root.mkdir(parents=True, exist_ok=True)
    with _taking_turns(root):
        return _publish(warehouse, root, run_id)


def _publish(warehouse: Path, root: Path, run_id: str) -> Publication:
    now = datetime.now(timezone.utc)
    publication_id = f"{now:%Y%m%dT%H%M%S%fZ}-{run_id[:8]}"
    heading = f"Aggregate marts, published {now:%Y-%m-%d %H:%M} UTC by run {run_id}"
    previous = _current(root)
    version_dirs = {
        audience.name: _prepare_folder(root, audience) / publication_id for audience in AUDIENCES
    }
    links = root / PUBLICATIONS / publication_id
    pointer = root / CURRENT
    try:
        tables, files = {}, {}
        for audience in AUDIENCES:
            version_dir = version_dirs[audience.name]
            version = _write_version(warehouse, audience, version_dir, heading)
            if audience.private:
                _make_private(version_dir)
            tables[audience.name] = version.rows
            files[audience.name] = _files(audience, version)
        publication = Publication(
            run_id=run_id,
            published_at=datetime.now(timezone.utc).isoformat(),
            tables=tables,
            files=files,
        )
        (version_dirs[MANIFEST_AUDIENCE] / MANIFEST).write_text(
            json.dumps(publication.__dict__, indent=2), encoding="utf-8"
        )
        for audience in AUDIENCES:
            version_dir = version_dirs[audience.name]
            _fsync_tree(version_dir)
            _fsync(version_dir.parent)
            _fsync(version_dir.parent.parent)
        # The publication: a link to each audience's version (links only: no data here).
        links.mkdir(parents=True)
        for audience in AUDIENCES:
            os.symlink(os.path.relpath(version_dirs[audience.name], links), links / audience.name)
        _fsync(links)
        _fsync(links.parent)
        _fsync(root)
        # The one switch: every audience, the spreadsheets and publication.json at once.
        _link(pointer, links)
    except Exception:
        pointer.with_name(f".{CURRENT}.switching").unlink(missing_ok=True)
        shutil.rmtree(links, ignore_errors=True)
        for version_dir in version_dirs.values():
            shutil.rmtree(version_dir, ignore_errors=True)
        raise
    _fsync(root)
    # The paths readers open: fixed links through CURRENT. Already there but for the first
    # publication (or the first over the older layout, whose files each become a link here).
    for audience in AUDIENCES:
        folder = root / audience.folder
        changed = [
            _link(folder / name, pointer / audience.name / name) for name in _reader_paths(audience)
        ]
        if any(changed):
            _fsync(folder)
    for folder in [root / a.folder / VERSIONS for a in AUDIENCES] + [root / PUBLICATIONS]:
        _remove_old_versions(folder, publication_id, previous)
    return publication


def _remove_old_versions(versions: Path, current: str, previous: str | None) -> None:
    """Keep the current version and the previous one (for readers still reading its Parquet
    and CSV files; readers with a file open keep their handles anyway), never by name alone:
    a folder left by a crashed publication goes, whatever it is called. Before the first
    publication through CURRENT, the newest older version is the previous one."""
    names = sorted(path.name for path in versions.iterdir())
    if previous not in names:
        previous = next((name for name in reversed(names) if name != current), None)
    for name in names:
        if name not in (current, previous):
            shutil.rmtree(versions / name, ignore_errors=True)

"""Publish the marts for BI tools: a DuckDB copy and one Parquet file per mart, per audience.

The pipeline keeps writing its own warehouse file; readers open the published copies instead.
In a published DuckDB file the tables are in its main schema (``select * from dim_child``).

    data/published/marts.duckdb                  pseudonymous marts (warehouse schema ``marts``)
    data/published/parquet/<mart>.parquet
    data/published/restricted/restricted.duckdb  identifiers, practitioners' lists
    data/published/restricted/parquet/<mart>.parquet
    data/published/publication.json              what was published, when, by which run

Publishing is atomic for readers. Each audience is first written completely into a new version
folder; only then is the DuckDB file renamed over the old one (a reader that has the old file
open keeps reading the old, consistent copy) and the ``parquet`` link switched to the new
folder. If anything fails before that, the previous publication is untouched and the partial
version is removed.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Audience:
    """One publication: the warehouse schema it copies and where it goes."""

    schema: str
    folder: str  # under the publication root; "" for the root itself
    database_name: str


AUDIENCES = (
    Audience(schema="marts", folder="", database_name="marts.duckdb"),
    Audience(schema="restricted", folder="restricted", database_name="restricted.duckdb"),
)
VERSIONS = ".versions"


@dataclass(frozen=True)
class Publication:
    run_id: str
    published_at: str
    tables: dict[str, dict[str, int]]  # audience schema -> table -> rows


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


def _write_version(
    warehouse: Path, audience: Audience, version_dir: Path
) -> tuple[Path, Path, dict[str, int]]:
    """Write one audience's DuckDB file and Parquet files into ``version_dir``."""
    version_dir.mkdir(parents=True)
    database = version_dir / audience.database_name
    parquet_dir = version_dir / "parquet"
    parquet_dir.mkdir()
    rows: dict[str, int] = {}
    con = duckdb.connect(str(database))
    try:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        # Tables go in the published file's main schema (a BI tool sees ``dim_child``; the
        # file's catalog is named after it, so ``marts.marts`` would be ambiguous).
        (catalog,) = con.execute("select current_database()").fetchone()
        for table in _tables(con, audience.schema):
            published = f"{catalog}.main.{table}"
            con.execute(
                f"create table {published} as select * from warehouse.{audience.schema}.{table}"
            )
            target = parquet_dir / f"{table}.parquet"
            con.execute(f"copy {published} to '{target}' (format parquet)")
            rows[table] = con.execute(f"select count(*) from {published}").fetchone()[0]
        con.execute("detach warehouse")
        con.execute("checkpoint")
    finally:
        con.close()
    return database, parquet_dir, rows


def _switch_link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` in one rename (a reader sees the old or the new folder)."""
    staging = link.with_name(f".{link.name}.switching")
    staging.unlink(missing_ok=True)
    staging.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a folder left by an older layout
    os.replace(staging, link)


def publish(warehouse: Path, root: Path, run_id: str) -> Publication:
    """Copy every audience's tables from the ``warehouse`` DuckDB file into ``root``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    version_root = root / VERSIONS / f"{stamp}-{run_id[:8]}"
    written = []
    try:
        for audience in AUDIENCES:
            written.append(
                (audience, *_write_version(warehouse, audience, version_root / audience.schema))
            )
    except Exception:
        shutil.rmtree(version_root, ignore_errors=True)
        raise
    # Everything is written: now switch readers over, audience by audience.
    tables = {}
    for audience, database, parquet_dir, rows in written:
        folder = root / audience.folder
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(database, folder / audience.database_name)
        _switch_link(folder / "parquet", parquet_dir)
        tables[audience.schema] = rows
    publication = Publication(
        run_id=run_id, published_at=datetime.now(timezone.utc).isoformat(), tables=tables
    )
    manifest = root / "publication.json"
    manifest.with_suffix(".json.tmp").write_text(
        json.dumps(publication.__dict__, indent=2), encoding="utf-8"
    )
    os.replace(manifest.with_suffix(".json.tmp"), manifest)
    _remove_old_versions(root / VERSIONS, keep=2)
    return publication


def _remove_old_versions(versions: Path, keep: int) -> None:
    """Keep the newest ``keep`` versions: the current one, and the one before it for readers
    still reading its Parquet files. (A version's DuckDB file moved out when it was published;
    open readers keep their file handles.)"""
    for old in sorted(versions.iterdir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)

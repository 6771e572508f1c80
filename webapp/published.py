"""Reading the published marts (``<data dir>/published``), read-only, a connection per call.

The app never opens the warehouse file the pipeline writes: DuckDB allows one writer, and the
publication step switches these copies atomically, so a request reads one consistent version.
The analyst's pages read only ``marts.duckdb`` (marts about no one child: disclosure-controlled
aggregates, quality summaries); only the reviewer's pages read ``restricted/restricted.duckdb``;
no page reads the person-level marts.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
from django.conf import settings

from linkage_ops.publish import AUDIENCES

_AUDIENCES = {audience.name: audience for audience in AUDIENCES}


def _database(audience: str) -> Path:
    """An audience's published DuckDB file, under the data folder."""
    return Path("published") / _AUDIENCES[audience].folder / _AUDIENCES[audience].database_name


PSEUDONYMOUS = _database("marts")
RESTRICTED = _database("restricted")


class NotPublished(Exception):
    """The publication (or the table asked for) does not exist yet: run a refresh first."""


def _path(publication: Path) -> Path:
    return Path(settings.DATA_DIR) / publication


def query(publication: Path, sql: str, parameters: Sequence[object] = ()) -> pd.DataFrame:
    """Run ``sql`` on a published file, opened read-only for this call only."""
    path = _path(publication)
    if not path.exists():
        raise NotPublished(f"{path} does not exist yet: run a refresh (make demo, or the UI)")
    with duckdb.connect(str(path), read_only=True) as con:
        try:
            return con.execute(sql, list(parameters)).df()
        except duckdb.CatalogException as error:
            raise NotPublished(str(error).splitlines()[0]) from error


def tables(publication: Path) -> list[str]:
    """The tables a published file holds (empty before the first publication)."""
    if not _path(publication).exists():
        return []
    return query(
        publication, "select table_name from information_schema.tables"
    ).table_name.tolist()

"""Ingestion: landing folder -> checked rows -> raw DuckDB tables with lineage and quarantine.

The landing folder is laid out ``<landing>/<source>/<period>/<files>``, as an authority's
secure file transfer drops the returns and feeds it receives.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from linkage_ops.ingest.errors import OtherPeriodRefused, ReloadRefused, UnreadableFileError
from linkage_ops.ingest.raw_store import (
    UNMODELLED,
    UNMODELLED_XML,
    PeriodLoad,
    Reconciliation,
    TableLoad,
    failed_files,
    period_mismatches,
    raw_table_name,
    reconcile_period,
    reload_losses,
    write_source_batch,
)
from linkage_ops.ingest.reader import Finding, read_source_period
from linkage_ops.ingest.schema import SchemaError, SourceSchema, available_sources, load_schema

__all__ = [
    "UNMODELLED",
    "UNMODELLED_XML",
    "Finding",
    "OtherPeriodRefused",
    "PeriodLoad",
    "Reconciliation",
    "ReloadRefused",
    "SchemaError",
    "SourceSchema",
    "TableLoad",
    "UnreadableFileError",
    "available_sources",
    "failed_files",
    "landing_periods",
    "load_period",
    "load_schema",
    "raw_table_name",
    "reconcile_period",
]


def landing_periods(landing_dir: Path, source: str) -> list[str]:
    """The periods waiting in the landing folder for ``source`` (folder names that match the
    source's period pattern), oldest first."""
    schema = load_schema(source)
    source_dir = landing_dir / source
    if not source_dir.is_dir():
        return []
    return sorted(
        path.name for path in source_dir.iterdir() if path.is_dir() and schema.is_period(path.name)
    )


def load_period(
    con: duckdb.DuckDBPyConnection,
    landing_dir: Path,
    source: str,
    period: str,
    run_id: str,
    loaded_at: datetime | None = None,
    accept_loss: bool = False,
    accept_other_period: bool = False,
) -> PeriodLoad:
    """Read ``<landing_dir>/<source>/<period>`` and replace that period in the raw tables.

    A file that cannot be read fails alone: it is in ``PeriodLoad.failed`` (and the load log)
    with its problem, and the period's other files load. Raises ``UnreadableFileError``
    (before writing anything) only when the period folder is missing or holds no files, and
    ``ReloadRefused`` when a reload would leave a table with far fewer rows than the period's
    previous load (``raw_store.MAX_RELOAD_LOSS``) unless ``accept_loss``, and
    ``OtherPeriodRefused`` when a file's dates belong to another period
    (``raw_store.period_mismatches``) unless ``accept_other_period``.
    """
    schema = load_schema(source)
    batch = read_source_period(schema, landing_dir / source / period, period)
    losses = reload_losses(con, schema, batch)
    if losses and not accept_loss:
        raise ReloadRefused(
            landing_dir / source / period,
            f"reloading {source} {period} would lose most of what it held ({'; '.join(losses)}): "
            "not loaded, the period keeps its previous load. If the smaller delivery is right, "
            "load it again accepting the loss (linkage-ops load --accept-loss; in Dagster, the "
            "run tag accept_reload_loss=true)",
        )
    mismatches = period_mismatches(schema, batch)
    if mismatches and not accept_other_period:
        raise OtherPeriodRefused(
            landing_dir / source / period,
            f"the dates of {source} {period} belong to another period "
            f"({'; '.join(mismatches)}): not loaded. Move the file to its period's folder, or, "
            "if it is right here, load "
            "it accepting that (linkage-ops load --accept-other-period; in Dagster, the run "
            "tag accept_other_period=true)",
        )
    return write_source_batch(
        con, schema, batch, run_id=run_id, loaded_at=loaded_at or datetime.now()
    )

"""Opening the warehouse DuckDB file for writing while other processes may hold it.

DuckDB allows one writer per file, and a reader in another process locks it too: a writer that
arrives while a Dagster run, the web app's publication reader or a BI tool has the file open
waits a little and tries again, then gives up with DuckDB's own error (which names the
holder's PID).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

# How often to try again while another process holds the file's lock.
LOCK_RETRY_SECONDS = 0.1


def is_locked(error: duckdb.IOException) -> bool:
    """The file is held by another process (rather than missing, unreadable or corrupt)."""
    return "lock" in str(error).lower()


def connect_for_writing(database_path: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open ``database_path``, waiting up to ``wait_seconds`` while another process holds its
    lock; raises ``duckdb.IOException`` if it stays locked, or at once for any other error."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(database_path))
        except duckdb.IOException as error:
            if not is_locked(error) or time.monotonic() >= deadline:
                raise
            time.sleep(LOCK_RETRY_SECONDS)

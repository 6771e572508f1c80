"""Opening the warehouse DuckDB file for writing while other processes may hold it, and the
permissions of what the warehouse writes.

DuckDB allows one writer per file, and a reader in another process locks it too: a writer that
arrives while a Dagster run, the web app's publication reader or a BI tool has the file open
waits a little and tries again, then gives up with DuckDB's own error (which names the
holder's PID).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

# Files the warehouse writes (the DuckDB file and its WAL, logs, reports, the web app's database)
# hold children's identifiable data: readable by their owner only unless the authority says
# otherwise (``WAREHOUSE_UMASK``, an octal umask such as 027 to let a group read them).
DEFAULT_UMASK = "077"


def apply_umask() -> int:
    """Set this process's umask from ``WAREHOUSE_UMASK`` (default 077: new files 0600, new
    folders 0700); returns the umask now in force. Raises ``ValueError`` naming the variable
    for a value that is not an octal umask."""
    text = os.environ.get("WAREHOUSE_UMASK", "").strip() or DEFAULT_UMASK
    try:
        mask = int(text, 8)
    except ValueError:
        mask = -1
    if not 0 <= mask <= 0o777:
        raise ValueError(f"WAREHOUSE_UMASK must be an octal umask such as 077, not {text!r}")
    os.umask(mask)
    return mask


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

"""Writing the CSV files: one format for every file the synthetic authority produces."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """UTF-8, comma separated, header row, ``\\n`` line endings, minimal quoting.

    Returns the number of data rows written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def remove_csv_files(folder: Path, pattern: str = "*.csv") -> None:
    """Delete earlier output so that a rerun does not leave stale files behind."""
    if folder.is_dir():
        for path in sorted(folder.glob(pattern)):
            path.unlink()

"""Excel workbooks as tables of text: each worksheet's cells as a CSV export of it would hold
them, numbered by their sheet row, and where a sheet's header is below a title or a note.

The source loader reads every non-empty worksheet of a delivered ``.xlsx`` or ``.xlsm`` as one
file of its period; ``linkage-ops link`` reads the first sheet of a workbook it is given.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from linkage_ops.ingest.errors import UnreadableFileError

# Workbooks read through openpyxl.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
# An .xlsx is a ZIP package; an Excel 97-2003 .xls, and an .xlsx Excel has encrypted with a
# password, are OLE compound files.
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"
# A sheet's name in a workbook: ``sen2_2025.xlsx[Module 1 Person]``. Excel forbids square
# brackets in sheet names, so the last bracketed part is the sheet.
_SHEET_NAME = re.compile(r"^(.+\.(?:xlsx|xlsm))\[[^\[\]]*\]$", re.IGNORECASE)


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name and its rows that hold any value, each as (sheet row number,
    the text of each cell up to the row's last filled one)."""

    name: str
    rows: list[tuple[int, list[str]]]


def is_workbook(path: Path, raw: bytes) -> bool:
    """Whether a file's bytes are an Excel workbook: a ZIP package named ``.xlsx`` or ``.xlsm``
    (another ZIP is no workbook), or an OLE compound file (an ``.xls``, or a workbook locked
    with a password), which ``read_workbook`` refuses with the reason."""
    return raw.startswith(_OLE) or (
        raw.startswith(_ZIP) and path.suffix.lower() in WORKBOOK_SUFFIXES
    )


def sheet_path(workbook: Path, sheet: str) -> Path:
    """The path a worksheet is known by: its name names the workbook and the sheet."""
    return workbook.with_name(f"{workbook.name}[{sheet}]")


def delivered_file_name(name: str | None) -> str | None:
    """The name of the file a loaded table came from: a worksheet's workbook, else ``name``
    (``None`` for a load log row of no file)."""
    match = _SHEET_NAME.match(name) if name is not None else None
    return match.group(1) if match else name


def cell_text(value: object) -> str:
    """A cell's value as the text a CSV export of the sheet holds: whole numbers without a
    decimal point (an NHS number or a code typed into a number cell), a date as ISO
    ``2011-10-13`` (with ``T10:42:17`` when it has a time of day), a time as ``10:42:17``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: a bool is an int
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):  # before date: a datetime is a date
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    return str(value)


def header_index(rows: Iterable[Sequence[object]], look: int = 10) -> int | None:
    """Which of a sheet's rows is its header (``None`` for a sheet with no value): the first of
    the first ``look`` rows filled in more than half as many cells as the fullest of them. A
    list kept by hand often has a title, a date or a note above the header, filling a cell or
    two; the header names every column; and a data row may fill more cells than the header (a
    column it leaves unnamed), so the fullest row is not always the header."""
    filled = []
    for row in rows:
        if len(filled) == look:
            break
        filled.append(sum(1 for value in row if value is not None and str(value).strip()))
    most = max(filled, default=0)
    if most == 0:
        return None
    return next(index for index, count in enumerate(filled) if count > most / 2)


def _sheet_rows(values: Iterable[Sequence[object]]) -> list[tuple[int, list[str]]]:
    """The rows holding a value, numbered from 1 as in the sheet, each up to its last filled
    cell (a cell formatted but empty ends no row)."""
    rows = []
    for number, row in enumerate(values, start=1):
        texts = [cell_text(value) for value in row]
        while texts and not texts[-1].strip():
            texts.pop()
        if texts:
            rows.append((number, texts))
    return rows


def read_workbook(path: Path, raw: bytes) -> list[Sheet]:
    """Every worksheet of a workbook (``is_workbook``), cells as text (``cell_text``), formulas
    as the value Excel last calculated. ``UnreadableFileError`` naming the problem when it
    cannot be opened: an Excel 97-2003 workbook, a password, a damaged file."""
    if raw.startswith(_OLE):
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            raise UnreadableFileError(
                path, "a workbook locked with a password: remove the password or save it as CSV"
            )
        raise UnreadableFileError(path, "an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV")
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            sheets = []
            for worksheet in book.worksheets:
                # The size a workbook records can be wrong (some exporters write none, or a
                # stale one); read every row the sheet holds rather than trust it.
                worksheet.reset_dimensions()
                sheets.append(
                    Sheet(worksheet.title, _sheet_rows(worksheet.iter_rows(values_only=True)))
                )
        finally:
            book.close()
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        SyntaxError,  # XML that does not parse (ElementTree's and lxml's errors)
        KeyError,
        ValueError,
        TypeError,
        OSError,
    ) as error:  # what openpyxl raises for a damaged package or sheet
        raise UnreadableFileError(
            path, f"not a readable Excel workbook ({type(error).__name__}: {error})"
        ) from error
    return sheets

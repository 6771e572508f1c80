"""Aggregate marts as spreadsheets: one CSV file per mart and one Excel workbook holding them
all, its first sheet a contents page (each mart's sheet, linked, its rows and what it holds).

``linkage_ops.publish`` writes them into a publication's version folder beside the DuckDB and
Parquet copies, so they are switched over with the rest. A CSV is UTF-8 with a byte-order
mark, so that Excel reads labels with accents correctly; booleans are ``true``/``false``,
dates ISO (2025-03-31), a blank is empty.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

CONTENTS = "Contents"
SHEET_NAME_LIMIT = 31  # Excel's limit on a sheet name
EXCEL_ROW_LIMIT = 1_048_576  # rows in a sheet, the heading included
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_CELL_TYPES = (bool, int, float, Decimal, str, date, datetime, time, timedelta)


@dataclass(frozen=True)
class MartTable:
    """One mart's rows, with what it and each column hold (the descriptions dbt wrote)."""

    name: str
    description: str
    columns: Sequence[str]
    rows: Sequence[tuple]
    column_descriptions: dict[str, str] = field(default_factory=dict)


def sheet_names(marts: Iterable[str]) -> dict[str, str]:
    """Each mart's sheet name: its own name where Excel allows it (at most 31 characters, none of
    ``[]:*?/\\``, unique ignoring case, never "Contents"); a longer name is cut, and numbered
    (``~2``) if the cut name is taken."""
    taken = {CONTENTS.lower()}
    names = {}
    for mart in marts:
        base = _NOT_IN_SHEET_NAMES.sub("_", mart)[:SHEET_NAME_LIMIT]
        name, number = base, 1
        while name.lower() in taken:
            number += 1
            suffix = f"~{number}"
            name = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
        taken.add(name.lower())
        names[mart] = name
    return names


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    return value


def write_csv(path: Path, table: MartTable) -> None:
    """The mart as a CSV file with a heading row."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        writer.writerows([_csv_value(v) for v in row] for row in table.rows)


def _cell_value(value: object) -> object:
    """A value as openpyxl writes it: text without the control characters a workbook cannot
    hold, datetimes without a time zone (Excel has none), anything else as text."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if value is None or isinstance(value, _CELL_TYPES):
        return value
    return str(value)


def _fits_a_sheet(table: MartTable) -> bool:
    return len(table.rows) + 1 <= EXCEL_ROW_LIMIT


def _write_sheet(sheet, table: MartTable) -> None:
    sheet.append(list(table.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        description = table.column_descriptions.get(cell.value)
        if description:
            cell.comment = Comment(description, "warehouse", width=320, height=140)
    for number, row in enumerate(table.rows, start=2):
        values = [_cell_value(v) for v in row]
        sheet.append(values)
        for column, value in enumerate(values, start=1):
            # openpyxl takes text starting with "=" for a formula: keep it text.
            if isinstance(value, str) and value.startswith("="):
                sheet.cell(row=number, column=column).data_type = "s"
    sheet.freeze_panes = "A2"
    if table.columns:
        last = get_column_letter(len(table.columns))
        sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    for column, name in enumerate(table.columns, start=1):
        widest = max(
            [len(str(name))] + [len(str(row[column - 1])) for row in table.rows[:200]], default=0
        )
        sheet.column_dimensions[get_column_letter(column)].width = min(max(widest + 2, 8), 60)


def write_workbook(path: Path, tables: Sequence[MartTable], heading: str) -> dict[str, str]:
    """One workbook: a contents sheet (``heading``, then per mart its sheet linked, its name,
    rows and description), then a sheet per mart with a bold, frozen heading row whose cells
    carry the columns' descriptions as comments. A mart too long for a sheet is listed, without
    a sheet, pointing at its CSV file. Returns each mart's sheet name."""
    workbook = Workbook()
    contents = workbook.active
    contents.title = CONTENTS
    contents.append([heading])
    contents["A1"].font = Font(bold=True, size=13)
    contents.append(
        [
            "Counts are disclosure controlled: where is_suppressed is true, a count was "
            "withheld. Each column's description is a comment on its sheet's heading row."
        ]
    )
    contents.append([])
    contents.append(["Sheet", "Mart", "Rows", "Description"])
    for cell in contents[4]:
        cell.font = Font(bold=True)
    names = sheet_names(table.name for table in tables if _fits_a_sheet(table))
    for table in tables:
        if table.name not in names:
            contents.append(
                [
                    "",
                    table.name,
                    len(table.rows),
                    f"Too many rows for a sheet: see csv/{table.name}.csv. {table.description}",
                ]
            )
            continue
        name = names[table.name]
        _write_sheet(workbook.create_sheet(name), table)
        contents.append([name, table.name, len(table.rows), table.description])
        link = contents.cell(row=contents.max_row, column=1)
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1", display=name)
        link.style = "Hyperlink"
    for column, width in zip("ABCD", (34, 38, 10, 120), strict=True):
        contents.column_dimensions[column].width = width
    workbook.save(path)
    return names

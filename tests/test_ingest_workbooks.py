"""Returns and extracts delivered as Excel workbooks: each worksheet is read as a CSV file of its
period would be. The workbooks are built here with openpyxl from the published layouts (the
School Census Blade pupilonroll table, the SSDA903 Header and Episodes tables), not by our
generator."""

from __future__ import annotations

import csv
import hashlib
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from linkage_ops.ingest import load_period, load_schema
from linkage_ops.ingest.raw_store import loaded_files
from linkage_ops.ingest.reader import read_source_period
from linkage_ops.ingest.workbook import cell_text, header_index

CENSUS = load_schema("school_census")
LOOKED_AFTER = load_schema("looked_after")

# Blade's pupilonroll columns (a spring export's, in its order), and two pupils: dates, the
# booleans and the session counts as Excel holds them once the export is opened and saved.
PUPIL_COLUMNS = [
    "pupilonrolltableid",
    "NativeId",
    "pupilonrollorderseqcolumn",
    "sourceid",
    "schoolcensustableid",
    "upn",
    "surname",
    "forename",
    "uniquelearnernumber",
    "middlenames",
    "dob",
    "entrydate",
    "parttime",
    "termlysessionspossible",
    "termlysessionsauthorised",
    "sex",
    "ethnicity",
    "enrolstatus",
    "ncyearactual",
    "senprovision",
    "youngcarer",
]
PUPIL_CELLS = [
    [5100231, 5100231, 1, 300118, 300118, "E884210416012", "Ashworth", "Maisie", 1234567890,
     "Rose", datetime(2016, 3, 14), datetime(2020, 9, 3), False, 150, 6.0, "F", "WBRI", "C",
     3, "N", "P"],
    [5100232, 5100232, 2, 300118, 300118, "R884210417003", "Kowalczyk", "Tomasz", None,
     None, datetime(2014, 7, 2), date(2019, 9, 4), True, 150, 9, "M", "WEEU", "C", 5, "N", "S"],
]  # fmt: skip
# The same table as a CSV export of the workbook holds it.
PUPIL_CSV = [
    ["5100231", "5100231", "1", "300118", "300118", "E884210416012", "Ashworth", "Maisie",
     "1234567890", "Rose", "2016-03-14", "2020-09-03", "False", "150", "6", "F", "WBRI", "C",
     "3", "N", "P"],
    ["5100232", "5100232", "2", "300118", "300118", "R884210417003", "Kowalczyk", "Tomasz", "",
     "", "2014-07-02", "2019-09-04", "True", "150", "9", "M", "WEEU", "C", "5", "N", "S"],
]  # fmt: skip

# SSDA903 Header and Episodes, dates as date cells.
HEADER_ROWS = [
    ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    ["LA000101", "F", datetime(2012, 3, 14), "WBRI", "N884203116417", 0, None],
    ["LA000102", "M", datetime(2007, 11, 7), "BAFR", "UN2", None, None],
]
EPISODE_ROWS = [
    ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
     "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    ["LA000101", datetime(2023, 5, 2), "S", "C2", "N1", "U4", "PR1", datetime(2024, 9, 10),
     "X1", "CARPL", "HR4 9QR", "HR2 7AL", "XXXXXXX"],
    ["LA000101", datetime(2024, 9, 10), "P", "C2", "N1", "K3", "PR4", None, None, None,
     "HR4 9QR", "WR1 3BS", 2745118],
    ["LA000102", datetime(2024, 6, 19), "S", "V2", "N8", "U4", "PR4", None, None, None, None,
     "HR1 1BB", "XXXXXXX"],
]  # fmt: skip


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook of one sheet per entry, each row appended as it is (``[]`` an empty row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_a_one_sheet_workbook_loads_as_the_same_table_as_csv(tmp_path: Path) -> None:
    """Saved as a workbook, a Blade pupilonroll table loads the rows and values its CSV does:
    date cells as ISO dates, whole numbers without a decimal point, booleans as True/False.
    The sheet (Sheet1) is named for nothing: the workbook's name says which table it is."""
    # Landing folders: <landing>/<source>/<period>.
    in_book, in_csv = (
        tmp_path / form / "school_census" / "2025-spring" for form in ("xlsx", "csv")
    )
    book = write_workbook(
        in_book / "2025_spring_pupilonroll.xlsx", {"Sheet1": [PUPIL_COLUMNS, *PUPIL_CELLS]}
    )
    write_csv(in_csv / "2025_spring_pupilonroll.csv", [PUPIL_COLUMNS, *PUPIL_CSV])
    from_book = read_source_period(CENSUS, in_book, "2025-spring")
    from_csv = read_source_period(CENSUS, in_csv, "2025-spring")
    pupils, pupils_csv = from_book.tables["pupilonroll"], from_csv.tables["pupilonroll"]
    assert pupils.path.name == "2025_spring_pupilonroll.xlsx[Sheet1]"
    assert (pupils.columns, pupils.loaded) == (pupils_csv.columns, pupils_csv.loaded)
    assert pupils.rows_read == 2 and pupils.rows_rejected == 0
    assert from_book.findings == from_csv.findings == []
    # Both read ISO dates, the other form than Blade's 2016-Mar-14 00:00:00, and say so.
    assert pupils.dates_in_other_form == {"dob": 2, "entrydate": 2}

    # Lineage: each raw row names the workbook and sheet, with the workbook's SHA-256; the
    # delivery counts as the workbook the authority received.
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        load = load_period(con, tmp_path / "xlsx", "school_census", "2025-spring", run_id="t")
        assert [(t.table, t.rows_loaded) for t in load.tables] == [("pupilonroll", 2)]
        lineage = con.execute(
            "select distinct _source_file, _file_sha256 from raw.school_census__pupilonroll"
        ).fetchall()
        sha256 = hashlib.sha256(book.read_bytes()).hexdigest()
        assert lineage == [("2025_spring_pupilonroll.xlsx[Sheet1]", sha256)]
        assert loaded_files(con)[("school_census", "2025-spring")] == {
            ("2025_spring_pupilonroll.xlsx", sha256)
        }


def test_each_sheet_of_a_workbook_is_its_own_table(tmp_path: Path) -> None:
    """One sheet per SSDA903 table: each is recognised by its columns and named by workbook
    and sheet; a notes sheet beside them is kept as unmodelled rows, not refused."""
    folder = tmp_path / "2024-25"
    write_workbook(
        folder / "SSDA903_2025.xlsx",
        {
            "Header": HEADER_ROWS,
            "Episodes": EPISODE_ROWS,
            "Empty": [],
            "Notes": [["Note", "By"], ["Exported from the case system", "Data team"]],
        },
    )
    batch = read_source_period(LOOKED_AFTER, folder, "2024-25")
    assert batch.failed == []
    assert {name: t.path.name for name, t in batch.tables.items()} == {
        "header": "SSDA903_2025.xlsx[Header]",
        "episodes": "SSDA903_2025.xlsx[Episodes]",
    }
    header, episodes = batch.tables["header"], batch.tables["episodes"]
    assert [values[:3] for _, values in header.loaded] == [
        ["LA000101", "F", "2012-03-14"],
        ["LA000102", "M", "2007-11-07"],
    ]
    # Sheet row numbers; a URN typed as a number reads as its digits.
    assert [(row, values[0], values[-1]) for row, values in episodes.loaded] == [
        (2, "LA000101", "XXXXXXX"),
        (3, "LA000101", "2745118"),
        (4, "LA000102", "XXXXXXX"),
    ]
    # The empty sheet is no file at all; the notes are kept as they are.
    (notes,) = batch.unmodelled_files
    assert (notes.path.name, notes.columns, notes.rows) == (
        "SSDA903_2025.xlsx[Notes]",
        ["Note", "By"],
        [(2, ["Exported from the case system", "Data team"])],
    )


def test_a_sen2_workbook_of_one_sheet_per_module_loads_each_module(tmp_path: Path) -> None:
    """SEN2 modules as sheets of a workbook named for the source: each module loads into its
    table (the header's date-time cells too), the header's year picks the schema, and a
    module the schema does not model is kept, not refused as the sen2 table."""
    folder = tmp_path / "2025"
    write_workbook(
        folder / "sen2_2025.xlsx",
        {
            "Module 0 Header": [
                ["sen2tableid", "collection", "year", "referencedate", "lea", "datetime"],
                [1, "SEN2", 2025, datetime(2025, 1, 16), 884, datetime(2025, 1, 24, 10, 42, 17)],
            ],
            "Module 1 Person": [
                ["persontableid", "sen2tableid", "upn", "surname", "forename", "sex",
                 "personbirthdate", "ethnicity", "postcode", "uniquelearnernumber", "upnunknown"],
                [101, 1, "Z884200113101", "Fenwick", "Amara", "F", datetime(2014, 3, 9), "WBRI",
                 "HR4 9QX", None, None],
            ],
            "Module 9 Mystery": [
                ["mysterytableid", "persontableid", "mysteryitem"],
                [901, 101, "Example value"],
            ],
        },
    )  # fmt: skip
    batch = read_source_period(load_schema("sen2"), folder, "2025")
    assert batch.failed == [] and batch.collection_year == "2025"
    assert {name: t.path.name for name, t in batch.tables.items()} == {
        "sen2": "sen2_2025.xlsx[Module 0 Header]",
        "person": "sen2_2025.xlsx[Module 1 Person]",
    }
    assert [f for f in batch.findings if f.action == "rejected"] == []
    header = batch.tables["sen2"]
    ((_, values),) = header.loaded
    assert dict(zip(header.columns, values, strict=True))["datetime"] == "2025-01-24T10:42:17"
    assert [f.path.name for f in batch.unmodelled_files] == ["sen2_2025.xlsx[Module 9 Mystery]"]


def test_a_bad_value_is_quarantined_with_its_sheet_and_sheet_row(tmp_path: Path) -> None:
    folder = tmp_path / "2024-25"
    episodes = [list(row) for row in EPISODE_ROWS]
    episodes[2][2] = "Q"  # sheet row 3: no reason for a new episode is Q
    write_workbook(folder / "SSDA903_2025.xlsx", {"Header": HEADER_ROWS, "Episodes": episodes})
    batch = read_source_period(LOOKED_AFTER, folder, "2024-25")
    # (The Header's UPN unknown code UN2, row 3, is flagged as its CSV's is.)
    (finding,) = [finding for finding in batch.findings if finding.action == "rejected"]
    assert (finding.table, finding.source_file, finding.row_number) == (
        "episodes",
        "SSDA903_2025.xlsx[Episodes]",
        3,
    )
    assert (finding.field, finding.value, finding.action) == ("RNE", "Q", "rejected")
    loaded = batch.tables["episodes"]
    assert (loaded.rows_read, loaded.rows_rejected, [row for row, _ in loaded.loaded]) == (
        3,
        1,
        [2, 4],
    )


def test_title_rows_above_the_header_are_skipped_and_rows_keep_their_numbers(
    tmp_path: Path,
) -> None:
    """A title, a blank row and a note above the header, a blank row and an empty column
    among the rows: the header is found, blank rows skipped, rows numbered as in Excel."""
    folder = tmp_path / "2024-25"
    header_rows = [
        ["SSDA903 children looked after 2024-25 - all children"],
        [],
        [None, "Run on 2025-04-02"],
        HEADER_ROWS[0],
        HEADER_ROWS[1],
        [],
        HEADER_ROWS[2],
    ]
    write_workbook(folder / "looked_after_children.xlsx", {"Children": header_rows})
    batch = read_source_period(LOOKED_AFTER, folder, "2024-25")
    assert batch.failed == batch.unmodelled_files == []
    header = batch.tables["header"]
    assert header.columns == HEADER_ROWS[0]
    assert [(row, values[0]) for row, values in header.loaded] == [
        (5, "LA000101"),
        (7, "LA000102"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "SSDA903_2025_Episodes.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV",
        ),
        (
            "SSDA903_2025_Episodes.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "a workbook locked with a password: remove the password or save it as CSV",
        ),
        (
            "SSDA903_2025_Episodes.xlsx",
            b"PK\x03\x04" + bytes(100),
            "not a readable Excel workbook (BadZipFile",
        ),
    ],
)
def test_a_workbook_that_cannot_be_opened_fails_alone(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    folder = tmp_path / "2024-25"
    write_csv(
        folder / "SSDA903_2025_Header.csv", [[cell_text(v) for v in row] for row in HEADER_ROWS]
    )
    (folder / name).write_bytes(content)
    batch = read_source_period(LOOKED_AFTER, folder, "2024-25")
    assert list(batch.tables) == ["header"] and len(batch.tables["header"].loaded) == 2
    (failed,) = batch.failed
    assert failed.path.name == name and failed.problem.startswith(problem), failed.problem
    assert failed.file_sha256 == hashlib.sha256(content).hexdigest()


def test_a_sheet_lacking_its_tables_columns_fails_named_for_it(tmp_path: Path) -> None:
    """A workbook of one sheet named for its table, lacking a required column, fails as that
    table, like a CSV of that name; in a workbook of several sheets only a sheet's own name
    says which table it is."""
    folder = tmp_path / "2024-25"
    no_ethnic = [[row[0], row[1], row[2], row[4]] for row in HEADER_ROWS]  # no ETHNIC
    write_workbook(folder / "SSDA903_2025_Header.xlsx", {"Sheet1": no_ethnic})
    batch = read_source_period(LOOKED_AFTER, folder, "2024-25")
    (failed,) = batch.failed
    assert failed.path.name == "SSDA903_2025_Header.xlsx[Sheet1]"
    assert failed.table == "header" and "ETHNIC" in failed.problem


def test_cells_read_as_a_csv_export_writes_them() -> None:
    assert [
        cell_text(value)
        for value in (
            None,
            " text ",
            True,
            False,
            9434765919,
            9434765919.0,
            0.1,
            2.5,
            datetime(2025, 1, 16),
            datetime(2025, 1, 24, 10, 42, 17),
            date(2025, 1, 16),
            time(10, 42, 17),
        )
    ] == [
        "",
        " text ",
        "True",
        "False",
        "9434765919",
        "9434765919",
        "0.1",
        "2.5",
        "2025-01-16",
        "2025-01-24T10:42:17",
        "2025-01-16",
        "10:42:17",
    ]


def test_the_header_is_below_a_title_and_a_note() -> None:
    rows = [["Title"], [], ["Prepared by", "Team"], ["a", "b", "c", "d"], ["1", "2", "3", "4"]]
    assert header_index(rows) == 3
    # A data row filling a column the header leaves unnamed is not the header.
    assert header_index([["a", "b", "c", None], ["1", "2", "3", "4"]]) == 0
    assert header_index([[], [None]]) is None

"""Reading and loading landing files: lineage, quarantine, replacement and unreadable files."""

import csv
import json
from pathlib import Path

import duckdb
import pytest

from linkage_ops.ingest import (
    SchemaError,
    UnreadableFileError,
    landing_periods,
    load_period,
    load_schema,
    reconcile_period,
)

GP_COLUMNS = load_schema("gp").tables["registrations"].column_names
GOOD = [
    "1",
    "943 476 5919",
    "Zoë",
    "Smith",
    "2015-03-02",
    "2",
    "HR1 2AB",
    "M81001",
    "2015-04-01",
    "",
]
BAD_DATE = [
    "2",
    "9434765919",
    "Tom",
    "Jones",
    "2015-02-30",
    "1",
    "HR4 9XY",
    "M81001",
    "2016-01-01",
    "",
]
BAD_NHS = [
    "3",
    "9434765918",
    "Amy",
    "Price",
    "2012-11-11",
    "2",
    "HR2 7QT",
    "M81002",
    "2013-01-01",
    "",
]
NO_NAME = ["4", "", "", "Lloyd", "2010-06-15", "1", "HR9 5AA", "M81002", "2010-07-01", ""]


def write_gp(landing: Path, period: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    folder = landing / "gp" / period
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"gp_registrations_{period}.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(GP_COLUMNS)
        writer.writerows(rows)
    return path


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def test_good_rows_load_with_lineage_and_bad_rows_are_quarantined(tmp_path: Path, con) -> None:
    landing = tmp_path / "landing"
    path = write_gp(landing, "2024-10", [GOOD, BAD_DATE, BAD_NHS, NO_NAME])

    load = load_period(con, landing, "gp", "2024-10", run_id="run-1")
    loads, findings = load.tables, load.findings

    assert load.collection_year == "2024-25"
    assert [(load.rows_read, load.rows_loaded, load.rows_rejected) for load in loads] == [(4, 2, 2)]
    rows = con.execute(
        "select REGISTRATION_ID, FORENAME, _source_file, _row_number, _period, _run_id, "
        "_file_sha256 from raw.gp__registrations order by _row_number"
    ).fetchall()
    assert [row[:6] for row in rows] == [
        ("1", "Zoë", path.name, 2, "2024-10", "run-1"),
        ("3", "Amy", path.name, 4, "2024-10", "run-1"),
    ]
    assert len(rows[0][6]) == 64
    quarantine = con.execute(
        "select source_file, row_number, field, value, action, reason from raw.quarantine "
        "order by row_number"
    ).fetchall()
    assert [row[:5] for row in quarantine] == [
        (path.name, 3, "DATE_OF_BIRTH", "2015-02-30", "rejected"),
        (path.name, 4, "NHS_NUMBER", "9434765918", "flagged"),
        (path.name, 5, "FORENAME", None, "rejected"),
    ]
    assert "Modulus 11" in quarantine[1][5]
    assert all(r.balanced for r in reconcile_period(con, load_schema("gp"), "2024-10"))
    assert {f.action for f in findings} == {"rejected", "flagged"}


def test_reloading_a_period_replaces_it_and_keeps_other_periods(tmp_path: Path, con) -> None:
    landing = tmp_path / "landing"
    write_gp(landing, "2024-09", [GOOD])
    write_gp(landing, "2024-10", [GOOD, BAD_NHS])
    load_period(con, landing, "gp", "2024-09", run_id="a")
    load_period(con, landing, "gp", "2024-10", run_id="b")
    load_period(con, landing, "gp", "2024-10", run_id="c")

    counts = con.execute(
        "select _period, count(*), max(_run_id) from raw.gp__registrations group by 1 order by 1"
    ).fetchall()
    assert counts == [("2024-09", 1, "a"), ("2024-10", 2, "c")]
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 1
    assert con.execute("select count(*) from raw.load_log").fetchone()[0] == 2
    assert landing_periods(landing, "gp") == ["2024-09", "2024-10"]


def test_windows_1252_and_bom_exports_are_read(tmp_path: Path, con) -> None:
    landing = tmp_path / "landing"
    write_gp(landing, "2024-10", [GOOD], encoding="cp1252")
    write_gp(landing, "2024-11", [GOOD], encoding="utf-8-sig")
    load_period(con, landing, "gp", "2024-10", run_id="r")
    load_period(con, landing, "gp", "2024-11", run_id="r")
    names = con.execute("select FORENAME from raw.gp__registrations").fetchall()
    assert names == [("Zoë",), ("Zoë",)]


def test_reconciliation_notices_rows_that_went_missing(tmp_path: Path, con) -> None:
    landing = tmp_path / "landing"
    write_gp(landing, "2024-10", [GOOD, BAD_NHS])
    load_period(con, landing, "gp", "2024-10", run_id="r")
    con.execute("delete from raw.gp__registrations where REGISTRATION_ID = '3'")
    result, *unmodelled = reconcile_period(con, load_schema("gp"), "2024-10")
    assert [r.table for r in unmodelled] == ["unmodelled", "unmodelled_elements"]
    assert not result.balanced
    assert (result.rows_read, result.rows_loaded, result.rows_in_raw) == (2, 2, 1)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "file is empty"),
        (
            b"REGISTRATION_ID,NHS_NUMBER\n1,9434765919\n",
            "missing required columns for table registrations (gp 2024-25 schema): FORENAME",
        ),
        ((",".join(GP_COLUMNS) + '\n1,"9434765919\n').encode(), "malformed CSV"),
        (b"\x00\x01PK\x03\x04binary", "binary content"),
    ],
)
def test_an_unreadable_file_fails_alone_naming_the_file_and_problem(
    tmp_path: Path, con, content: bytes, problem: str
) -> None:
    landing = tmp_path / "landing"
    write_gp(landing, "2024-10", [GOOD])
    (landing / "gp" / "2024-10" / "gp_registrations_2024-10_resend.csv").write_bytes(content)
    load = load_period(con, landing, "gp", "2024-10", run_id="r")
    # The readable file still loads; the broken one is named with its problem.
    assert [(t.source_file, t.rows_loaded) for t in load.tables] == [
        ("gp_registrations_2024-10.csv", 1)
    ]
    (failed,) = load.failed
    assert failed.source_file == "gp_registrations_2024-10_resend.csv"
    assert problem in failed.problem
    logged = con.execute(
        "select source_file, outcome, problem from raw.load_log where outcome = 'failed'"
    ).fetchall()
    assert logged == [(failed.source_file, "failed", failed.problem)]


def test_a_missing_or_empty_period_folder_is_unreadable(tmp_path: Path, con) -> None:
    with pytest.raises(UnreadableFileError, match="period folder does not exist"):
        load_period(con, tmp_path / "landing", "gp", "2024-10", run_id="r")
    (tmp_path / "landing" / "gp" / "2024-10").mkdir(parents=True)
    with pytest.raises(UnreadableFileError, match="period folder holds no files"):
        load_period(con, tmp_path / "landing", "gp", "2024-10", run_id="r")


def test_a_file_of_no_modelled_table_is_kept_verbatim_and_the_rest_loads(
    tmp_path: Path, con
) -> None:
    landing = tmp_path / "landing"
    write_gp(landing, "2024-10", [GOOD])
    (landing / "gp" / "2024-10" / "practice_list.csv").write_text(
        "PRACTICE_CODE,PRACTICE_NAME,EXTRA\nM81001,Castle Surgery,\nM81002,Bridge,x,y\n"
    )
    load = load_period(con, landing, "gp", "2024-10", run_id="r")
    assert [t.table for t in load.tables] == ["registrations"]
    (kept,) = load.unmodelled
    assert (kept.source_file, kept.rows_read, kept.rows_loaded) == ("practice_list.csv", 2, 2)
    rows = con.execute(
        "select source_file, row_number, fields from raw.unmodelled_rows order by row_number"
    ).fetchall()
    assert [(name, row) for name, row, _ in rows] == [
        ("practice_list.csv", 2),
        ("practice_list.csv", 3),
    ]
    assert json.loads(rows[0][2]) == {
        "PRACTICE_CODE": "M81001",
        "PRACTICE_NAME": "Castle Surgery",
        "EXTRA": "",
    }
    # A row longer than its header keeps the surplus field too.
    assert json.loads(rows[1][2])["(field 4)"] == "y"
    assert all(r.balanced for r in reconcile_period(con, load_schema("gp"), "2024-10"))


def test_headers_named_differently_are_mapped_and_the_mapping_logged(
    tmp_path: Path, con, monkeypatch
) -> None:
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("gp:\n  Patient NHS No: NHS_NUMBER\n  Practice: PRACTICE_CODE\n")
    monkeypatch.setenv("WAREHOUSE_HEADER_ALIASES", str(aliases))
    delivered = {
        "REGISTRATION_ID": "Registration Id",
        "NHS_NUMBER": "Patient NHS No",
        "FORENAME": "forename",
        "DATE_OF_BIRTH": "Date of Birth",
        "PRACTICE_CODE": "Practice",
    }
    folder = tmp_path / "landing" / "gp" / "2024-10"
    folder.mkdir(parents=True)
    # A tab-separated extract in another column order.
    header = [delivered.get(column, column) for column in reversed(GP_COLUMNS)]
    (folder / "extract.txt").write_text(
        "\t".join(header) + "\n" + "\t".join(reversed(GOOD)) + "\n", encoding="utf-8"
    )
    load = load_period(con, tmp_path / "landing", "gp", "2024-10", run_id="r")
    assert [(t.table, t.rows_loaded) for t in load.tables] == [("registrations", 1)]
    row = con.execute(
        "select NHS_NUMBER, FORENAME, DATE_OF_BIRTH, PRACTICE_CODE from raw.gp__registrations"
    ).fetchone()
    assert row == ("943 476 5919", "Zoë", "2015-03-02", "M81001")
    applied = con.execute("select aliases_applied from raw.load_log").fetchone()[0]
    assert json.loads(applied) == {value: key for key, value in delivered.items()}


def test_an_alias_to_a_column_the_schema_lacks_is_an_error(tmp_path: Path, con, monkeypatch):
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("gp:\n  NHS: NHS_NUMBR\n")
    monkeypatch.setenv("WAREHOUSE_HEADER_ALIASES", str(aliases))
    write_gp(tmp_path / "landing", "2024-10", [GOOD])
    with pytest.raises(SchemaError, match="no such column 'NHS_NUMBR'"):
        load_period(con, tmp_path / "landing", "gp", "2024-10", run_id="r")


def test_extra_columns_are_kept_not_dropped(tmp_path: Path, con) -> None:
    folder = tmp_path / "landing" / "gp" / "2024-10"
    folder.mkdir(parents=True)
    with (folder / "gp_registrations_2024-10.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*GP_COLUMNS, "ETHNIC_CATEGORY"])
        writer.writerow([*GOOD, "A"])
    load_period(con, tmp_path / "landing", "gp", "2024-10", run_id="r")
    extra = con.execute("select _extra_columns from raw.gp__registrations").fetchone()[0]
    assert '"ETHNIC_CATEGORY": "A"' in extra


def test_a_row_with_the_wrong_number_of_fields_is_quarantined(tmp_path: Path, con) -> None:
    landing = tmp_path / "landing"
    write_gp(landing, "2024-10", [GOOD, ["5", "9434765919", "Short"]])
    loads = load_period(con, landing, "gp", "2024-10", run_id="r").tables
    assert (loads[0].rows_loaded, loads[0].rows_rejected) == (1, 1)
    reason = con.execute("select reason from raw.quarantine").fetchone()[0]
    assert reason == "expected 10 fields, found 3"

"""A landing folder with deliberately broken deliveries: nothing is lost, every error names its
file, a broken file fails alone and everything else (other files of its period, other sources)
still loads."""

import csv
from pathlib import Path

import duckdb
import pytest

from linkage_ops.ingest import (
    available_sources,
    landing_periods,
    load_period,
    load_schema,
    reconcile_period,
)
from linkage_ops.synthetic import generate_authority


def rewrite_rows(path: Path, change) -> None:
    """Apply ``change(rows)`` to a CSV's data rows (header kept)."""
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    change(header, rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def data_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for row in list(csv.reader(handle))[1:] if row)


@pytest.fixture(scope="module")
def broken_landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("broken")
    generate_authority(children=400, seed=5, out_dir=root, months=1)
    landing = root / "landing"

    def break_pupils(header: list[str], rows: list[list[str]]) -> None:
        rows[0][header.index("dob")] = "2019-Feb-30 00:00:00"  # no such day
        rows[1][header.index("sex")] = "Q"  # not in the code list
        rows[2][header.index("upn")] = "R247962919251"  # wrong check letter: flagged, loaded
        rows.append(rows[3][:5])  # a truncated line

    rewrite_rows(landing / "school_census/2024-autumn/2024_autumn_pupilonroll.csv", break_pupils)

    def break_gp(header: list[str], rows: list[list[str]]) -> None:
        rows[0][header.index("DATE_OF_BIRTH")] = "12/31/2015"  # month first: never guessed
        rows[1][header.index("NHS_NUMBER")] = "9434765918"  # fails Modulus 11: flagged

    (gp_file,) = (landing / "gp").glob("*/*.csv")
    rewrite_rows(gp_file, break_gp)

    (cin_file,) = (landing / "children_in_need").glob("*/*.xml")
    cin_file.write_bytes(cin_file.read_bytes()[:2000])  # cut off mid-element
    (landing / "looked_after/2024-25/notes.csv").write_text("COLOUR,SHAPE\nred,round\n")
    (sen2_person,) = (landing / "sen2").glob("*/*_person.csv")
    sen2_person.write_text("")
    return landing


@pytest.fixture(scope="module")
def outcome(broken_landing: Path, tmp_path_factory):
    database = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    con = duckdb.connect(str(database))
    failures: dict[str, list[str]] = {}
    loaded: list[tuple[str, str]] = []
    for source in available_sources():
        for period in landing_periods(broken_landing, source):
            load = load_period(con, broken_landing, source, period, run_id="broken")
            loaded.append((source, period))
            failures.update(
                {source: [f"{f.source_file}: {f.problem}" for f in load.failed]}
                if load.failed
                else {}
            )
    yield con, failures, loaded
    con.close()


def test_unreadable_files_fail_alone_and_name_their_file(outcome) -> None:
    con, failures, loaded = outcome
    assert set(failures) == {"children_in_need", "sen2"}
    (cin,) = failures["children_in_need"]
    assert cin.startswith("CIN_2024-25.xml: malformed XML")
    assert [f for f in failures["sen2"] if "_person.csv: file is empty" in f]
    # Every source loaded what it could: the other SEN2 modules did.
    assert {source for source, _ in loaded} == set(available_sources())
    sen2_tables = {
        table
        for (table,) in con.execute(
            "select table_name from raw.load_log where source = 'sen2' and outcome = 'loaded'"
        ).fetchall()
    }
    assert "requests" in sen2_tables and "person" not in sen2_tables
    failed = con.execute(
        "select source, source_file from raw.load_log where outcome = 'failed' order by 1"
    ).fetchall()
    assert [source for source, _ in failed] == ["children_in_need", "sen2"]


def test_a_file_of_no_known_table_is_kept_not_refused(outcome) -> None:
    con, failures, _ = outcome
    assert "looked_after" not in failures
    rows = con.execute(
        "select source_file, fields from raw.unmodelled_rows where source = 'looked_after'"
    ).fetchall()
    assert rows == [("notes.csv", '{"COLOUR": "red", "SHAPE": "round"}')]


def test_nothing_is_lost_rows_read_equal_rows_in_the_files(broken_landing, outcome) -> None:
    con, _, loaded = outcome
    for source, period in loaded:
        assert all(r.balanced for r in reconcile_period(con, load_schema(source), period))
        for file_name, rows_read in con.execute(
            "select source_file, rows_read from raw.load_log where source = ? and period = ?",
            [source, period],
        ).fetchall():
            path = broken_landing / source / period / file_name
            if path.suffix == ".csv":
                assert rows_read == data_rows(path), path


def test_broken_rows_are_quarantined_with_file_row_field_and_reason(outcome) -> None:
    con, _, _ = outcome
    rows = con.execute(
        "select source, source_file, row_number, field, value, action from raw.quarantine "
        "where source in ('school_census', 'gp') order by source, row_number, field"
    ).fetchall()
    census = [r for r in rows if r[0] == "school_census" and r[1].endswith("pupilonroll.csv")]
    assert census[0][:4] == ("school_census", "2024_autumn_pupilonroll.csv", 2, "dob")
    assert census[0][5] == "rejected"
    assert census[1][2:4] == (3, "sex") and census[1][5] == "rejected"
    assert census[2][2:4] == (4, "upn") and census[2][5] == "flagged"
    assert census[-1][3] == "(row)" and census[-1][5] == "rejected"
    gp = [r for r in rows if r[0] == "gp"]
    assert (gp[0][2], gp[0][3], gp[0][5]) == (2, "DATE_OF_BIRTH", "rejected")
    assert (gp[1][2], gp[1][3], gp[1][5]) == (3, "NHS_NUMBER", "flagged")
    assert (
        con.execute(
            "select count(*) from raw.quarantine where reason is null or source_file is null"
        ).fetchone()[0]
        == 0
    )

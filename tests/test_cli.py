"""The linkage-ops command line: link CSV and Parquet, keep keys with --state, evaluate."""

import csv
import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from linkage_ops.cli import main

RECORDS = pd.DataFrame(
    [
        {
            "record_id": "a",
            "source": "gp",
            "first_name": "Ava",
            "last_name": "Cole",
            "middle_names": "",
            "date_of_birth": "2016-01-02",
            "sex": "F",
            "postcode": "HR1 2AB",
            "upn": "",
            "nhs_number": "9434765919",
        },
        {
            "record_id": "b",
            "source": "school_census",
            "first_name": "Ava",
            "last_name": "Cole",
            "middle_names": "Rose",
            "date_of_birth": "2016-01-02",
            "sex": "F",
            "postcode": "HR1 2AB",
            "upn": "A950000178301",
            "nhs_number": "",
        },
        {
            "record_id": "c",
            "source": "gp",
            "first_name": "Leo",
            "last_name": "Ward",
            "middle_names": "",
            "date_of_birth": "2012-07-08",
            "sex": "M",
            "postcode": "HR9 5AA",
            "upn": "",
            "nhs_number": "",
        },
    ]
)


@pytest.mark.parametrize(
    ("input_name", "output_name"), [("in.csv", "out.parquet"), ("in.parquet", "out.csv")]
)
def test_link_round_trips_csv_and_parquet(tmp_path: Path, input_name: str, output_name: str):
    source = tmp_path / input_name
    if source.suffix == ".csv":
        RECORDS.to_csv(source, index=False)
    else:
        RECORDS.to_parquet(source)
    output = tmp_path / output_name
    assert main(["link", str(source), "--out", str(output)]) == 0
    keys = pd.read_parquet(output) if output.suffix == ".parquet" else pd.read_csv(output)
    keys = keys.set_index("record_id").person_key
    assert keys["a"] == keys["b"] != keys["c"]

    truth = tmp_path / "truth.csv"
    pd.DataFrame({"record_id": ["a", "b", "c"], "child_id": ["1", "1", "2"]}).to_csv(
        truth, index=False
    )
    assert main(["evaluate", "--pred", str(output), "--truth", str(truth)]) == 0


def test_state_keeps_keys_between_runs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first_input, second_input = tmp_path / "first.csv", tmp_path / "second.csv"
    RECORDS.iloc[[2]].to_csv(first_input, index=False)  # only Leo at first: P000000001
    RECORDS.to_csv(second_input, index=False)
    main(["link", str(first_input), "--out", str(tmp_path / "k1.csv"), "--state", str(state)])
    main(["link", str(second_input), "--out", str(tmp_path / "k2.csv"), "--state", str(state)])
    first = pd.read_csv(tmp_path / "k1.csv").set_index("record_id").person_key
    second = pd.read_csv(tmp_path / "k2.csv").set_index("record_id").person_key
    assert second["c"] == first["c"] == "P000000001"
    assert second["a"] == second["b"] == "P000000002"
    assert (state / "key_registry.parquet").exists()
    # Without the state, the same second input numbers keys afresh.
    main(["link", str(second_input), "--out", str(tmp_path / "k3.csv")])
    fresh = pd.read_csv(tmp_path / "k3.csv").set_index("record_id").person_key
    assert fresh["a"] == "P000000001"


def test_a_saved_model_is_reported_and_reused(tmp_path: Path, capsys) -> None:
    source, saved = tmp_path / "in.csv", tmp_path / "model.json"
    RECORDS.to_csv(source, index=False)
    assert (
        main(["link", str(source), "--out", str(tmp_path / "k1.csv"), "--save-model", str(saved)])
        == 0
    )
    assert "model (default)" in capsys.readouterr().out
    model = json.loads(saved.read_text())
    assert model["model"] == "fellegi_sunter"
    assert model["comparisons"]["date_of_birth"]["exact"]["weight"] > 0
    # A model whose names carry no weight at all: Ava's records still link (identifiers),
    # and the run reports the given model.
    for level in model["comparisons"]["first_name"].values():
        level["m"] = level["u"] = 0.5
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(model))
    out = tmp_path / "k2.csv"
    args = ["link", str(source), "--out", str(out), "--model", str(altered), "--save-model"]
    assert main([*args, str(tmp_path / "used.json")]) == 0
    assert "model (given)" in capsys.readouterr().out
    used = json.loads((tmp_path / "used.json").read_text())
    assert used["comparisons"]["first_name"]["exact"]["weight"] == 0
    keys = pd.read_csv(out).set_index("record_id").person_key
    assert keys["a"] == keys["b"] != keys["c"]


def test_sources_lists_each_source_and_a_years_columns(capsys) -> None:
    assert main(["sources"]) == 0
    listing = capsys.readouterr().out
    assert "school_census (school_census;" in listing
    assert "children_in_need (annual;" in listing
    assert main(["sources", "gp", "--period", "2025-03"]) == 0
    gp = capsys.readouterr().out
    assert gp.startswith("gp: 2024-25")
    assert "    SEX: code; mandatory; nhs_sex: 0, 1, 2, 9, X" in gp
    assert main(["sources", "gp", "--period", "March"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def one_gp_registration(tmp_path: Path) -> Path:
    """A GP extract for March 2025 with one registration; returns its period folder."""
    folder = tmp_path / "landing" / "gp" / "2025-03"
    folder.mkdir(parents=True)
    (folder / "gp_registrations_2025-03.csv").write_text(
        "REGISTRATION_ID,NHS_NUMBER,FORENAME,SURNAME,DATE_OF_BIRTH,SEX,POSTCODE,PRACTICE_CODE,"
        "REGISTRATION_START_DATE,REGISTRATION_END_DATE\n"
        "1,9434765919,Ava,Cole,2016-01-02,2,HR1 2AB,M85001,2016-02-01,\n"
    )
    return folder


def test_load_reports_unmodelled_and_failed_files_in_one_line_each(tmp_path, capsys) -> None:
    folder = one_gp_registration(tmp_path)
    (folder / "notes.csv").write_text("NOTE\nsent late\n")
    (folder / "gp_registrations_2025-03_part2.csv").write_text("REGISTRATION_ID,FORENAME\n2,Leo\n")
    code = main(
        [
            "load",
            "--landing",
            str(tmp_path / "landing"),
            "--database",
            str(tmp_path / "w.duckdb"),
            "--source",
            "gp",
            "--period",
            "2025-03",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "raw.gp__registrations (gp_registrations_2025-03.csv): 1 read, 1 loaded" in out
    assert "notes.csv: not modelled, 1 rows kept in raw.unmodelled_rows" in out
    (line,) = err.splitlines()
    assert line.startswith("error: gp 2025-03: gp_registrations_2025-03_part2.csv: missing")


def _load_gp(tmp_path: Path, period: str, rows: str) -> int:
    folder = tmp_path / "landing" / "gp" / period
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gp_registrations.csv").write_text(
        "REGISTRATION_ID,NHS_NUMBER,FORENAME,SURNAME,DATE_OF_BIRTH,SEX,POSTCODE,PRACTICE_CODE,"
        "REGISTRATION_START_DATE,REGISTRATION_END_DATE\n" + rows
    )
    return main(
        [
            "load",
            "--landing",
            str(tmp_path / "landing"),
            "--database",
            str(tmp_path / "w.duckdb"),
            "--source",
            "gp",
            "--period",
            period,
        ]
    )


def test_load_names_a_findings_field_and_reason_but_shows_only_code_values(
    tmp_path, capsys
) -> None:
    code = _load_gp(
        tmp_path,
        "2025-03",
        "1,9434765918,Ava,Cole,2016-01-02,2,HR1 2AB,M85001,2016-02-01,\n"
        "2,9434765919,Leo,Ward,01/13/2016,2,HR1 2AB,M85001,2016-02-01,\n"
        "3,9434765919,Mia,Hart,2016-01-02,7,HR1 2AB,M85001,2016-02-01,\n",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "gp_registrations.csv row 2 NHS_NUMBER: NHS number fails Modulus 11" in out
    assert "gp_registrations.csv row 3 DATE_OF_BIRTH: expected a date like" in out
    # A code is not identifying, and seeing it is how the sender's mistake is found.
    assert "gp_registrations.csv row 4 SEX='7': not in" in out
    assert "9434765918" not in out and "01/13/2016" not in out


def test_a_period_name_with_a_trailing_newline_is_not_that_period(tmp_path, capsys) -> None:
    """``^...$`` matches before a final newline: a folder "2025-03\\n" would load as a second
    copy of March."""
    from linkage_ops.ingest import landing_periods

    row = "1,9434765919,Ava,Cole,2016-01-02,2,HR1 2AB,M85001,2016-02-01,\n"
    assert _load_gp(tmp_path, "2025-03", row) == 0
    capsys.readouterr()
    assert _load_gp(tmp_path, "2025-03\n", row) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "is not" in line or "does not match" in line
    assert landing_periods(tmp_path / "landing", "gp") == ["2025-03"]
    assert main(["sources", "gp", "--period", "2025-03\n"]) == 2


def test_load_waits_for_a_warehouse_another_process_holds_then_says_so_in_one_line(
    tmp_path, capsys
) -> None:
    import subprocess
    import sys

    database = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ready', flush=True); time.sleep(60)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        folder = tmp_path / "landing" / "gp" / "2025-03"
        folder.mkdir(parents=True)
        (folder / "gp.csv").write_text("REGISTRATION_ID\n1\n")
        arguments = ["load", "--landing", str(tmp_path / "landing"), "--database"]
        code = main(
            [*arguments, str(database), "--source", "gp", "--period", "2025-03", "--wait", "1"]
        )
    finally:
        holder.kill()
        holder.wait()
    (line,) = capsys.readouterr().err.splitlines()
    assert code == 2
    assert line.startswith(f"error: {database} is in use by another process (PID ")
    assert "stayed locked for 1 s" in line


def test_what_load_writes_is_the_owners_only_unless_the_authority_says_otherwise(
    tmp_path, capsys, monkeypatch
) -> None:
    """The warehouse file, with every child's identifiers, was world-readable."""
    import os
    import stat

    one_gp_registration(tmp_path)

    def load(database: str) -> int:
        arguments = ["load", "--landing", str(tmp_path / "landing"), "--database"]
        return main([*arguments, str(tmp_path / database), "--source", "gp", "--period", "2025-03"])

    before = os.umask(0o022)  # a typical login's umask: new files 0644
    try:
        assert load("private.duckdb") == 0
        assert stat.S_IMODE((tmp_path / "private.duckdb").stat().st_mode) == 0o600
        monkeypatch.setenv("WAREHOUSE_UMASK", "027")
        assert load("shared.duckdb") == 0
        assert stat.S_IMODE((tmp_path / "shared.duckdb").stat().st_mode) == 0o640
        monkeypatch.setenv("WAREHOUSE_UMASK", "rw-r-----")
        capsys.readouterr()
        assert load("refused.duckdb") == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert "WAREHOUSE_UMASK must be an octal umask" in line
    finally:
        os.umask(before)


def test_link_reads_a_file_as_a_uk_supplier_writes_it(tmp_path, capsys) -> None:
    """Day-first dates and NHS sex codes in one file, ISO dates and M/F in another's rows:
    one child each (pandas once read 13/10/2011 as blank and 04/10/2011 as the 10th of April)."""
    rows = [
        ("gp:1", "Aisha", "Patel", "2011-10-13", "F", "HR6 8QQ"),
        ("emergency_care:1", "Aisha", "Patel", "13/10/2011", "2", "HR6 8QQ"),
        ("gp:2", "Tom", "Reid", "2012-10-04", "M", "HR1 4ZZ"),
        ("emergency_care:2", "Tom", "Reid", "04/10/2012", "1", "HR1 4ZZ"),
    ]
    columns = ["record_id", "first_name", "last_name", "date_of_birth", "sex", "postcode"]
    records = pd.DataFrame(rows, columns=columns)
    records["source"] = records.record_id.str.split(":").str[0]
    records.to_csv(tmp_path / "records.csv", index=False)
    assert main(["link", str(tmp_path / "records.csv"), "--out", str(tmp_path / "keys.csv")]) == 0
    keys = pd.read_csv(tmp_path / "keys.csv").set_index("record_id").person_key
    assert keys["gp:1"] == keys["emergency_care:1"] != keys["gp:2"] == keys["emergency_care:2"]


def test_link_reads_a_workbook_with_whole_names_as_a_team_keeps_one(tmp_path, capsys) -> None:
    """An Excel list kept by hand: a title above the header, one Name column (SURNAME
    Forename, as NHS systems show a patient, or Forename Surname), birth dates as date cells
    or as numbers (a cell formatted General shows Excel's serial day: 40829 is 13 October
    2011), NHS numbers as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    # A title and a note above the header, as a list kept by hand has them.
    sheet.append(["Children missing education: December 2026"])
    sheet.append(["Prepared by", "Inclusion team"])
    sheet.append([])
    sheet.append(["ID", "Name", "Date of Birth", "Gender", "NHS Number", "Postcode"])
    sheet.append(["1", "PATEL Aisha", datetime(2011, 10, 13), "F", 9434765919, "HR6 8QQ"])
    sheet.append(["2", "Aisha Patel", 40829, "Female", None, "HR6 8QQ"])
    sheet.append(["3", "Reid, Tom", datetime(2012, 10, 4), "M", None, "HR1 4ZZ"])
    sheet.append(["4", "Tom Reid", "04/10/2012", "Male", None, "HR1 4ZZ"])
    sheet.append([])
    book.save(tmp_path / "children.xlsx")
    out = tmp_path / "keys.csv"
    assert main(["link", str(tmp_path / "children.xlsx"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        "Name -> full_name" in printed and "from full_name" in printed and ": 4 records" in printed
    )
    keys = pd.read_csv(out, dtype=str).set_index("record_id").person_key
    assert keys["1"] == keys["2"] != keys["3"] == keys["4"]
    # An old binary workbook, or a file that is not one: one line each.
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "broken.xlsx").write_text("not a workbook", encoding="utf-8")
    for name, problem in (("old.xls", "save it as .xlsx or CSV"), ("broken.xlsx", "not a")):
        assert main(["link", str(tmp_path / name), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert problem in err and err.count("\n") == 1, err


def test_link_reads_a_csv_saved_by_excel_in_windows_1252(tmp_path) -> None:
    """Excel's "CSV (Comma delimited)" writes Windows-1252: one accented name made the whole
    file "not a readable table". Read as the loaders read a supplier's export."""
    text = (
        "record_id,source,first_name,last_name,date_of_birth,postcode\n"
        "1,gp,Zoë,Brontë,2011-10-13,HR6 8QQ\n"
        "2,school,Zoe,Bronte,13/10/2011,HR6 8QQ\n"
        "3,school,Chloé,Lefèvre,2012-10-04,HR1 4ZZ\n"
    )
    (tmp_path / "records.csv").write_bytes(text.encode("cp1252"))
    out = tmp_path / "keys.csv"
    assert main(["link", str(tmp_path / "records.csv"), "--out", str(out)]) == 0
    keys = pd.read_csv(out, dtype=str).set_index("record_id").person_key
    assert keys["1"] == keys["2"] != keys["3"]


def test_link_reads_tables_separated_by_tabs_semicolons_or_bars(tmp_path) -> None:
    """Exports other than comma-separated: a case-management system's tab-separated .txt,
    Excel's CSV where a comma is the decimal mark (semicolons), a bar-delimited extract.
    Quoted fields may hold the other delimiters (a name with a comma)."""
    rows = [
        ["ID", "Forename", "Surname", "DOB", "Post Code", "Note"],
        ["1", "Zoe", "Bronte", "13/10/2011", "HR6 8QQ", "moved; see file, p.2"],
        ["2", "Zoë", "Brontë", "2011-10-13", "HR6 8QQ", ""],
        ["3", "Chloe", "Lefevre", "04/10/2012", "HR1 4ZZ", "a|b"],
    ]
    for delimiter, name in (("\t", "records.txt"), (";", "records.csv"), ("|", "records.dat")):
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=delimiter).writerows(rows)
        out = tmp_path / f"keys-{name}.csv"
        assert main(["link", str(path), "--out", str(out)]) == 0, name
        keys = pd.read_csv(out, dtype=str).set_index("record_id").person_key
        assert keys["1"] == keys["2"] != keys["3"], name


def test_a_table_that_cannot_be_read_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "keys.csv").write_text("record_id,child_id\na,1\n", encoding="utf-8")
    (tmp_path / "twice.csv").write_text(
        "record_id,first_name\na,Amy\na,Amy\na,Zoe\n", encoding="utf-8"
    )
    for argv, problem in (
        (["evaluate", "--pred", str(tmp_path / "nope.csv"), "--truth", "x"], "nope.csv: No such"),
        (["evaluate", "--pred", str(tmp_path / "keys.csv"), "--truth", "x"], "no person_key"),
        (["link", str(tmp_path), "--out", str(tmp_path / "out.csv")], "Is a directory"),
        (["link", str(tmp_path / "keys.csv"), "--out", str(tmp_path / "o.csv")], "who a record"),
        (["link", str(tmp_path / "twice.csv"), "--out", str(tmp_path / "o.csv")], "first: a"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and problem in err and err.count("\n") == 1, err


def test_link_reads_columns_a_supplier_names_its_own_way(tmp_path, capsys) -> None:
    """Forename, Surname, DOB, Gender, NHS No: the person-record fields under the names other
    systems give them; a column linkage does not use is named, not silently dropped, and a
    truth column (child_id) is never taken for an identifier."""
    rows = [
        ("1", "Aisha", "Patel", "13/10/2011", "F", "943 476 5919", "HR6 8QQ", "c1", "x"),
        ("2", "Aisha", "Patel", "2011-10-13", "2", "9434765919", "HR6 8QQ", "c1", "y"),
        ("3", "Tom", "Reid", "04/10/2012", "1", None, "HR1 4ZZ", "c2", "z"),
    ]
    header = ["ID", "Forename", "Surname", "Date of Birth", "Gender", "NHS No", "Post Code"]
    pd.DataFrame(rows, columns=[*header, "child_id", "Notes"]).to_csv(
        tmp_path / "records.csv", index=False
    )
    assert main(["link", str(tmp_path / "records.csv"), "--out", str(tmp_path / "k.csv")]) == 0
    out = capsys.readouterr().out
    assert "Forename -> first_name" in out and "NHS No -> nhs_number" in out
    assert "not used for linkage: child_id, Notes" in out
    bridge = pd.read_csv(tmp_path / "k.csv", dtype=str).set_index("record_id")
    assert bridge.person_key["1"] == bridge.person_key["2"] != bridge.person_key["3"]
    assert bridge.match_method["2"] == "nhs_number"

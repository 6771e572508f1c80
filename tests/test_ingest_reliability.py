"""Deliveries that used to load wrongly without a word: rows merged by a stray quote, a header
naming a column twice. Each test here failed on the loader before its fix."""

import csv
import io
from pathlib import Path

import duckdb
import pytest

from linkage_ops.ingest import ReloadRefused, load_period, load_schema, reconcile_period

GP_COLUMNS = load_schema("gp").tables["registrations"].column_names


def gp_row(number: int, forename: str = "Ava", surname: str = "Cole") -> list[str]:
    return [
        str(number),
        "943 476 5919",
        forename,
        surname,
        "2015-03-02",
        "2",
        "HR1 2AB",
        "M81001",
        "2015-04-01",
        "",
    ]


def write_text(landing: Path, period: str, header: list[str], lines: list[str]) -> Path:
    folder = landing / "gp" / period
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "gp_registrations.csv"
    path.write_text(",".join(header) + "\n" + "".join(f"{line}\n" for line in lines))
    return path


def as_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def test_two_stray_quotes_ten_rows_apart_quarantine_every_row_they_swallow(tmp_path, con):
    """A quote opening a field on row 4 and one closing a field on row 13 make one CSV record
    of ten lines. Counted as one row, nine rows vanished and the reconciliation still passed."""
    lines = [as_line(gp_row(number)) for number in range(1, 15)]  # rows 2..15 of the file
    lines[2] = lines[2].replace(",Ava,", ',"Ava,')  # row 4
    lines[11] = lines[11].replace(",Cole,", ',Cole",')  # row 13
    write_text(tmp_path / "landing", "2025-03", GP_COLUMNS, lines)

    load = load_period(con, tmp_path / "landing", "gp", "2025-03", run_id="t")

    (table,) = load.tables
    assert (table.rows_read, table.rows_loaded, table.rows_rejected) == (14, 4, 10)
    quarantined = con.execute(
        "select row_number, reason from raw.quarantine order by row_number"
    ).fetchall()
    assert [row for row, _ in quarantined] == list(range(4, 14))
    assert all("from row 4 to row 13" in reason for _, reason in quarantined)
    loaded = [n for (n,) in con.execute("select _row_number from raw.gp__registrations").fetchall()]
    assert sorted(loaded) == [2, 3, 14, 15]
    reconciled = {r.table: r for r in reconcile_period(con, load_schema("gp"), "2025-03")}
    assert reconciled["registrations"].balanced
    assert reconciled["registrations"].rows_read == 14


def test_a_header_naming_a_column_twice_fails_its_file(tmp_path, con):
    header = [*GP_COLUMNS, "FORENAME"]
    write_text(tmp_path / "landing", "2025-03", header, [as_line([*gp_row(1), "Bea"])])

    load = load_period(con, tmp_path / "landing", "gp", "2025-03", run_id="t")

    (failed,) = load.failed
    assert "FORENAME more than once" in failed.problem
    assert not con.execute("select count(*) from raw.gp__registrations").fetchone()[0]


def test_one_windows_1252_line_leaves_the_utf_8_lines_as_they_are(tmp_path, con):
    folder = tmp_path / "landing" / "gp" / "2025-03"
    folder.mkdir(parents=True)
    header = ",".join(GP_COLUMNS) + "\n"
    body = (
        header.encode()
        + (as_line(gp_row(1, "Zoë")) + "\n").encode("utf-8")
        + (as_line(gp_row(2, "Renée")) + "\n").encode("cp1252")
        + (as_line(gp_row(3, "José")) + "\n").encode("utf-8")
    )
    (folder / "gp_registrations.csv").write_bytes(body)

    load_period(con, tmp_path / "landing", "gp", "2025-03", run_id="t")

    names = con.execute("select FORENAME from raw.gp__registrations order by _row_number")
    assert [name for (name,) in names.fetchall()] == ["Zoë", "Renée", "José"]


def test_a_header_only_reload_is_refused_until_the_loss_is_accepted(tmp_path, con):
    """6,243 pupils became 0 when a header-only file replaced a good period, exit 0."""
    landing = tmp_path / "landing"
    good = [as_line(gp_row(number)) for number in range(1, 11)]
    write_text(landing, "2025-03", GP_COLUMNS, good)
    load_period(con, landing, "gp", "2025-03", run_id="first")

    write_text(landing, "2025-03", GP_COLUMNS, [])
    with pytest.raises(ReloadRefused) as refused:
        load_period(con, landing, "gp", "2025-03", run_id="second")
    assert "registrations from 10 rows to 0" in refused.value.problem
    assert "--accept-loss" in refused.value.problem
    count = "select count(*) from raw.gp__registrations where _period = '2025-03'"
    assert con.execute(count).fetchone()[0] == 10

    # A corrected delivery about the same size reloads; an accepted loss is loaded.
    write_text(landing, "2025-03", GP_COLUMNS, good[:8])
    load_period(con, landing, "gp", "2025-03", run_id="third")
    assert con.execute(count).fetchone()[0] == 8
    write_text(landing, "2025-03", GP_COLUMNS, good[:1])
    load_period(con, landing, "gp", "2025-03", run_id="fourth", accept_loss=True)
    assert con.execute(count).fetchone()[0] == 1


def test_the_cli_refuses_a_losing_reload_in_one_line_and_loads_it_when_accepted(tmp_path, capsys):
    from linkage_ops.cli import main

    landing = tmp_path / "landing"
    arguments = ["load", "--landing", str(landing), "--database", str(tmp_path / "w.duckdb")]
    arguments += ["--source", "gp", "--period", "2025-03"]
    write_text(landing, "2025-03", GP_COLUMNS, [as_line(gp_row(n)) for n in range(1, 5)])
    assert main(arguments) == 0
    write_text(landing, "2025-03", GP_COLUMNS, [])
    capsys.readouterr()
    assert main(arguments) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "would lose most of what it held (registrations from 4 rows to 0)" in line
    assert main([*arguments, "--accept-loss"]) == 0


def test_a_whole_number_beyond_the_integer_range_is_quarantined_not_left_to_stop_a_refresh():
    """Staging casts whole numbers to INTEGER: 2,147,483,648 loaded and stopped every refresh,
    with an error naming neither file nor row."""
    from linkage_ops.ingest.reader import check_value

    sessions = load_schema("school_census").tables["termlysessiondetailsonroll"].columns
    (rule,) = [r for r in sessions if r.name == "sessions"]
    assert check_value(rule, "2147483647") is None
    assert "out of range" in check_value(rule, "2147483648")
    assert "out of range" in check_value(rule, "-2147483649")
    # The episode key staging reads as BIGINT is a pattern of at most 18 digits.
    epikey = next(
        r for r in load_schema("admitted_care").tables["episodes"].columns if r.name == "EPIKEY"
    )
    assert check_value(epikey, "300000000001") is None


ECDS_COLUMNS = load_schema("emergency_care").tables["attendances"].column_names


def write_ecds(landing: Path, folder_period: str, arrivals: list[str]) -> None:
    folder = landing / "emergency_care" / folder_period
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        [str(n), "RWP", "", "2015-03-02", "2", "A", "HR1 2AB", day, "10:15:00", "", "", "N"]
        for n, day in enumerate(arrivals, start=1)
    ]
    (folder / "ecds.csv").write_text(
        ",".join(ECDS_COLUMNS) + "\n" + "".join(as_line(row) + "\n" for row in rows)
    )


def test_a_months_file_in_another_months_folder_is_refused_until_accepted(tmp_path, con):
    """February's A&E file put in the March folder was published as March."""
    from linkage_ops.ingest import OtherPeriodRefused

    landing = tmp_path / "landing"
    february = [f"2025-02-{day:02d}" for day in range(1, 21)]
    write_ecds(landing, "2025-03", february)
    with pytest.raises(OtherPeriodRefused) as refused:
        load_period(con, landing, "emergency_care", "2025-03", run_id="t")
    problem = refused.value.problem
    assert "ecds.csv: 20 of 20 ARRIVAL_DATE dates are in 2025-02, 0 in 2025-03" in problem
    assert "--accept-other-period" in problem
    tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert "emergency_care__attendances" not in tables  # nothing written

    # A March file with a few late February arrivals loads; so does the refused one, accepted.
    write_ecds(landing, "2025-03", [*february[:3], *[f"2025-03-{d:02d}" for d in range(1, 18)]])
    assert load_period(con, landing, "emergency_care", "2025-03", run_id="t").tables
    write_ecds(landing, "2025-03", february)
    load_period(con, landing, "emergency_care", "2025-03", run_id="u", accept_other_period=True)
    count = "select count(*) from raw.emergency_care__attendances where _period = '2025-03'"
    assert con.execute(count).fetchone()[0] == 20


def test_the_cli_refuses_a_file_of_another_month_in_one_line(tmp_path, capsys):
    from linkage_ops.cli import main

    landing = tmp_path / "landing"
    write_ecds(landing, "2025-03", [f"2025-02-{day:02d}" for day in range(1, 6)])
    arguments = ["load", "--landing", str(landing), "--database", str(tmp_path / "w.duckdb")]
    arguments += ["--source", "emergency_care", "--period", "2025-03"]
    assert main(arguments) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "belong to another period" in line and "ecds.csv" in line
    assert main([*arguments, "--accept-other-period"]) == 0

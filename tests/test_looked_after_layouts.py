"""SSDA903 per collection year, read from hand-written fixtures built from the specification
(SOURCES.md, DfE's guide and validation rules), not from our generator.

``tests/fixtures/looked_after/<year>/`` holds each year's return as a supplier exports it: files
named by the supplier (the names are hints only), one file in another column order, a Header
file with a byte-order mark and CRLF line ends, an empty table, and in 2024-25 a CSV that is no
903 table at all. ``tests/fixtures/looked_after_xml/2024-25/`` holds the same 2024-25 children
in the XML form (root EXPSSDA903).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from linkage_ops.ingest import load_period, load_schema, reconcile_period
from linkage_ops.ingest.raw_store import PeriodLoad, raw_table_name

FIXTURES = Path(__file__).parent / "fixtures"
SOURCE = "looked_after"
SCHEMA = load_schema(SOURCE)
YEARS = ["2023-24", "2024-25", "2026-27"]
NOT_903 = "placement_costs_2025.csv"


@pytest.fixture
def con(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def landing_copy(tmp_path: Path, period: str, form: str = SOURCE) -> Path:
    """A landing folder holding a copy of one fixture period (``form``: the CSV or XML one)."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / form / period, landing / SOURCE / period)
    return landing


def fixture_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def raw_rows(con: duckdb.DuckDBPyConnection, table: str, period: str) -> list[tuple]:
    """The period's rows of a raw table, its schema columns only (not lineage), sorted."""
    columns = ", ".join(f'"{c}"' for c in SCHEMA.tables[table].column_names)
    rows = con.execute(
        f"select {columns} from {raw_table_name(SOURCE, table)} where _period = ?", [period]
    ).fetchall()
    return sorted(rows, key=lambda row: tuple(value or "" for value in row))


def rejected(load: PeriodLoad) -> list:
    return [f for f in load.findings if f.action == "rejected"]


def assert_reconciles(con: duckdb.DuckDBPyConnection, period: str) -> None:
    """Rows read = rows loaded + rows quarantined, and the raw table holds the loaded rows, for
    every table of the source and its unmodelled content."""
    for reconciliation in reconcile_period(con, SCHEMA, period):
        assert reconciliation.balanced, reconciliation


# --- each year's layout -----------------------------------------------------------------------


@pytest.mark.parametrize("period", YEARS)
def test_every_row_of_a_correctly_coded_return_loads(tmp_path, con, period) -> None:
    landing = landing_copy(tmp_path, period)
    load = load_period(con, landing, SOURCE, period, run_id="t")
    assert load.collection_year == period
    assert load.failed == []
    assert rejected(load) == []
    assert_reconciles(con, period)
    # Each file was read whole and recognised as the table whose columns it has.
    year = SCHEMA.for_period(period)
    for table_load in load.tables:
        path = landing / SOURCE / period / table_load.source_file
        rows = fixture_rows(path)
        assert table_load.rows_read == table_load.rows_loaded == len(rows)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            delivered = next(csv.reader(handle))
        assert set(delivered) == set(year.tables[table_load.table].column_names)
    # The only values flagged are UPN fields holding an UN "not known" code: loaded, flagged.
    assert {(f.field, f.value[:2]) for f in load.findings} <= {("UPN", "UN")}


def test_files_no_table_models_are_kept_verbatim_and_named(tmp_path, con) -> None:
    landing = landing_copy(tmp_path, "2024-25")
    load = load_period(con, landing, SOURCE, "2024-25", run_id="t")
    assert [u.source_file for u in load.unmodelled] == [NOT_903]
    assert NOT_903 not in {t.source_file for t in load.tables}
    kept = con.execute(
        "select fields->>'CHILD', fields->>'WEEKLY_COST' from raw.unmodelled_rows "
        "where source = ? and period = '2024-25' and source_file = ? order by row_number",
        [SOURCE, NOT_903],
    ).fetchall()
    delivered = fixture_rows(landing / SOURCE / "2024-25" / NOT_903)
    assert kept == [(row["CHILD"], row["WEEKLY_COST"]) for row in delivered]
    assert_reconciles(con, "2024-25")


def test_correctly_coded_values_of_each_year_are_loaded(tmp_path, con) -> None:
    for period in YEARS:
        load_period(con, landing_copy(tmp_path / period, period), SOURCE, period, run_id="t")

    def values(table: str, column: str, period: str) -> set[str]:
        return {
            row[0]
            for row in con.execute(
                f'select "{column}" from {raw_table_name(SOURCE, table)} where _period = ?',
                [period],
            ).fetchall()
        }

    # Care leavers who died or returned home: ACTIV and ACCOM 0, the correct code.
    leavers = con.execute(
        f"select IN_TOUCH, ACTIV, ACCOM from {raw_table_name(SOURCE, 'oc3')} "
        "where IN_TOUCH in ('DIED', 'RHOM')"
    ).fetchall()
    assert {row[0] for row in leavers} == {"DIED", "RHOM"}
    assert all(row[1:] == ("0", "0") for row in leavers)
    # SEX 1/2 in 2023-24, M/F (and U) from 2024-25.
    assert values("header", "SEX", "2023-24") == {"1", "2"}
    assert values("header", "SEX", "2024-25") == {"M", "F"}
    assert "U" in values("header", "SEX", "2026-27")
    assert values("uasc", "SEX", "2023-24") == {"1"} and values("uasc", "SEX", "2024-25") == {"M"}
    # Placements valid in their year only: H5, P2, Z1 up to 2024-25; K3 from 2024-25; Z1x from
    # 2025-26.
    assert {"H5", "P2", "Z1"} <= values("episodes", "PLACE", "2023-24")
    assert {"K3", "H5"} <= values("episodes", "PLACE", "2024-25")
    assert {"K3", "Z12"} <= values("episodes", "PLACE", "2026-27")
    assert (
        con.execute("select count(*) from raw.quarantine where action = 'rejected'").fetchone()[0]
        == 0
    )


def test_each_years_code_lists() -> None:
    def codes(period: str, table: str, column: str) -> frozenset[str]:
        rules = SCHEMA.for_period(period).tables[table].columns
        return next(rule.codes for rule in rules if rule.name == column)

    place = {period: codes(period, "episodes", "PLACE") for period in [*YEARS, "2025-26"]}
    assert "K3" not in place["2023-24"] and "K3" in place["2024-25"]
    assert {"H5", "P2", "Z1"} <= place["2024-25"]
    assert not {"H5", "P2", "Z1"} & place["2025-26"]
    assert {"Z11", "Z12", "Z13", "Z14"} <= place["2025-26"] and "Z11" not in place["2024-25"]
    assert codes("2023-24", "header", "SEX") == {"1", "2"}
    assert codes("2024-25", "header", "SEX") == {"1", "2", "M", "F", "U"}
    assert codes("2024-25", "uasc", "SEX") == codes("2024-25", "header", "SEX")
    assert "0" in codes("2024-25", "oc3", "ACTIV") and "0" in codes("2024-25", "oc3", "ACCOM")
    assert "dolo" not in SCHEMA.for_period("2025-26").tables
    assert "dolo" in SCHEMA.for_period("2026-27").tables


@pytest.mark.parametrize(
    ("period", "file_name", "row", "field", "value"),
    [
        # A supplier already using the 2025-26 codes in the 2024-25 return.
        (
            "2024-25",
            "SSDA903_2025_Episodes.csv",
            "LA000199,01/03/2025,S,V2,N1,Z11,PR4,,,,HR1 2AB,HR1 2AB,XXXXXXX",
            "PLACE",
            "Z11",
        ),
        # A code retired in 2025-26 still sent in 2026-27.
        (
            "2026-27",
            "SSDA903 2027 Episodes.csv",
            "LA000299,01/03/2027,S,V2,N1,H5,PR4,,,,HR1 2AB,HR1 2AB,XXXXXXX",
            "PLACE",
            "H5",
        ),
        # The 2024-25 SEX coding in a 2023-24 return, and a 2024-25 placement before it existed.
        ("2023-24", "header.csv", "LA000399,M,01/02/2012,WBRI,UN4,,", "SEX", "M"),
        (
            "2023-24",
            "episodes.csv",
            "LA000301,02/02/2024,P,C2,N1,K3,PR4,,,,HR4 7HU,HR1 2AB,2745118",
            "PLACE",
            "K3",
        ),
    ],
)
def test_a_code_outside_its_year_is_quarantined_with_file_row_field_and_reason(
    tmp_path, con, period, file_name, row, field, value
) -> None:
    landing = landing_copy(tmp_path, period)
    path = landing / SOURCE / period / file_name
    text = path.read_text(encoding="utf-8-sig")
    path.write_text(text + row + "\n", encoding="utf-8")
    row_number = len(text.splitlines()) + 1
    load = load_period(con, landing, SOURCE, period, run_id="t")
    (finding,) = rejected(load)
    assert (finding.source_file, finding.row_number, finding.field, finding.value) == (
        file_name,
        row_number,
        field,
        value,
    )
    (table_load,) = [t for t in load.tables if t.source_file == file_name]
    columns = SCHEMA.for_period(period).tables[table_load.table].columns
    (rule,) = [r for r in columns if r.name == field]
    assert finding.reason.startswith(f"not in the {rule.codelist} list (")
    assert value not in rule.codes
    assert con.execute(
        "select source_file, row_number, field, value, reason from raw.quarantine "
        "where period = ? and action = 'rejected'",
        [period],
    ).fetchall() == [(file_name, row_number, field, value, finding.reason)]
    assert table_load.rows_rejected == 1
    assert table_load.rows_loaded == table_load.rows_read - 1 == len(text.splitlines()) - 1
    assert_reconciles(con, period)


# --- recognition --------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["2023-24", "2024-25", "2025-26", "2026-27"])
def test_every_table_is_recognised_by_its_columns_alone(period) -> None:
    year = SCHEMA.for_period(period)
    for name, table in year.tables.items():
        for header in (table.column_names, list(reversed(table.column_names))):
            recognised = year.recognise(header, "export.csv")
            assert (recognised.table.name, recognised.problem) == (name, None)


def test_header_and_uasc_overlap_is_resolved_by_their_own_columns() -> None:
    year = SCHEMA.for_period("2024-25")
    header = year.tables["header"].column_names
    # A Header export that also carries the UASC fields is still the Header (extras kept).
    assert year.recognise([*header, "UASC", "DUC"], "children.csv").table.name == "header"
    # The UASC table's columns (all in the Header but DUC) are the UASC table.
    assert year.recognise(["CHILD", "SEX", "DOB", "DUC"], "header.csv").table.name == "uasc"
    # A Header that lost ETHNIC is a Header lacking a column, not a UASC table.
    lacking = year.recognise([c for c in header if c != "ETHNIC"], "export.csv")
    assert lacking.table.name == "header" and lacking.problem.endswith(": ETHNIC")


# --- the XML form -----------------------------------------------------------------------------


def test_the_xml_form_loads_the_same_rows_as_the_csv_form(tmp_path) -> None:
    period = "2024-25"
    with (
        duckdb.connect(str(tmp_path / "csv.duckdb")) as from_csv,
        duckdb.connect(str(tmp_path / "xml.duckdb")) as from_xml,
    ):
        csv_load = load_period(from_csv, landing_copy(tmp_path / "c", period), SOURCE, period, "t")
        xml_landing = landing_copy(tmp_path / "x", period, form="looked_after_xml")
        xml_load = load_period(from_xml, xml_landing, SOURCE, period, "t")
        assert {t.source_file for t in xml_load.tables} == {"SSDA903_2025.xml"}
        tables = set(SCHEMA.for_period(period).tables)
        assert {t.table for t in xml_load.tables} == tables
        for table in tables:
            assert raw_rows(from_xml, table, period) == raw_rows(from_csv, table, period), table
            assert raw_rows(from_xml, table, period), table
        # The same values flagged, and nothing quarantined or left over in either form.
        assert sorted((f.table, f.field, f.value) for f in xml_load.findings) == sorted(
            (f.table, f.field, f.value) for f in csv_load.findings
        )
        assert rejected(xml_load) == [] and xml_load.unmodelled == []
        assert from_xml.execute("select count(*) from raw.unmodelled_elements").fetchone()[0] == 0
        assert_reconciles(from_xml, period)
        # Lineage: each XML row points at the line its record starts on.
        lines = (xml_landing / SOURCE / period / "SSDA903_2025.xml").read_text().splitlines()
        for number, child in from_xml.execute(
            f"select _row_number, CHILD from {raw_table_name(SOURCE, 'header')}"
        ).fetchall():
            assert lines[number - 1].strip() == "<HEADER>"
            assert f"<CHILDID>{child}</CHILDID>" in lines[number]


def test_xml_elements_no_table_models_are_kept_with_their_path(tmp_path, con) -> None:
    """A 2024-25 XML export carrying a DoLo block (a table only from 2026-27), a UASC flag of
    0 and a supplier's own element: all kept in raw.unmodelled_elements, the rows still load."""
    period = "2024-25"
    landing = landing_copy(tmp_path, period, form="looked_after_xml")
    path = landing / SOURCE / period / "SSDA903_2025.xml"
    text = path.read_text()
    marker = "<CHILDID>LA000106</CHILDID>"
    assert text.count(marker) == 1 and text.count("<UASC />") == 6
    text = text.replace(
        marker,
        marker + "\n      <DOLO><DOLO_START>01/02/2025</DOLO_START></DOLO>"
        "\n      <LA_CASE_REF>CR-88412</LA_CASE_REF>",
    ).replace("<UASC />", "<UASC>0</UASC>", 1)
    path.write_text(text)
    load = load_period(con, landing, SOURCE, period, run_id="t")
    assert rejected(load) == []
    assert [u.table for u in load.unmodelled] == ["unmodelled_elements"]
    kept = con.execute(
        "select path, text, record_table from raw.unmodelled_elements order by line"
    ).fetchall()
    assert kept == [
        ("EXPSSDA903/CHILD/HEADER/UASC", "0", "header"),
        ("EXPSSDA903/CHILD/HEADER/DOLO/DOLO_START", "01/02/2025", "header"),
        ("EXPSSDA903/CHILD/HEADER/LA_CASE_REF", "CR-88412", "header"),
    ]
    assert [r[0] for r in raw_rows(con, "uasc", period)] == ["LA000102"]
    assert len(raw_rows(con, "header", period)) == 7
    assert_reconciles(con, period)


# --- DoLo -------------------------------------------------------------------------------------


def test_dolo_loads_in_2026_27_from_csv_in_any_column_order(tmp_path, con) -> None:
    period = "2026-27"
    landing = landing_copy(tmp_path, period)
    load = load_period(con, landing, SOURCE, period, run_id="t")
    (dolo,) = [t for t in load.tables if t.table == "dolo"]
    delivered = fixture_rows(landing / SOURCE / period / dolo.source_file)
    assert list(delivered[0]) != SCHEMA.for_period(period).tables["dolo"].column_names
    assert raw_rows(con, "dolo", period) == sorted(
        (row["CHILD"], row["DOB"], row["DOLO_START"], row["DOLO_END"] or None) for row in delivered
    )


def test_dolo_loads_in_2026_27_from_xml(tmp_path, con) -> None:
    period = "2026-27"
    folder = tmp_path / "landing" / SOURCE / period
    folder.mkdir(parents=True)
    (folder / "SSDA903_2027.xml").write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<EXPSSDA903>
  <CHILD>
    <HEADER>
      <CHILDID>LA000201</CHILDID><UPN>R884540013145</UPN><SEX>M</SEX><DOB>03/03/2011</DOB>
      <ETHNIC>WBRI</ETHNIC>
      <DOLO><DOLO_START>20/05/2026</DOLO_START><DOLO_END /></DOLO>
    </HEADER>
    <EPISODE><DECOM>18/05/2026</DECOM><RNE>T</RNE><LS>C2</LS><CIN>N1</CIN><PL>Z12</PL>
      <PLACE_PROVIDER>PR4</PLACE_PROVIDER><URN>XXXXXXX</URN></EPISODE>
  </CHILD>
</EXPSSDA903>
"""
    )
    load = load_period(con, tmp_path / "landing", SOURCE, period, run_id="t")
    assert rejected(load) == [] and load.unmodelled == []
    assert raw_rows(con, "dolo", period) == [("LA000201", "03/03/2011", "20/05/2026", None)]
    assert [r[5] for r in raw_rows(con, "episodes", period)] == ["Z12"]


def test_a_dolo_file_before_2026_27_is_kept_as_unmodelled_rows(tmp_path, con) -> None:
    """The 2024-25 return has no DoLo table. A supplier that exports one early is not refused
    and its rows are not lost: the file matches no table of the year, so it is kept verbatim in
    raw.unmodelled_rows and reported (the unmodelled check warns). It is not loaded into
    raw.looked_after__dolo, which holds what the 2026-27 and later returns state, and it does
    not fail: the rest of the return loads."""
    period = "2024-25"
    landing = landing_copy(tmp_path, period)
    dolo = landing / SOURCE / period / "SSDA903_2025_DoLo.csv"
    dolo.write_text("CHILD,DOB,DOLO_START,DOLO_END\nLA000102,07/11/2007,10/02/2025,\n")
    load = load_period(con, landing, SOURCE, period, run_id="t")
    assert load.failed == [] and rejected(load) == []
    assert sorted(u.source_file for u in load.unmodelled) == [dolo.name, NOT_903]
    assert raw_rows(con, "dolo", period) == []
    assert con.execute(
        "select fields->>'DOLO_START' from raw.unmodelled_rows where source_file = ?",
        [dolo.name],
    ).fetchall() == [("10/02/2025",)]
    assert len(load.tables) == len(SCHEMA.for_period(period).tables)
    assert_reconciles(con, period)


def test_a_return_saved_through_a_spreadsheet_with_times_after_its_dates_loads(
    tmp_path, con
) -> None:
    """A team that opens the 903 in a spreadsheet and saves it again gets "01/09/2022 00:00"
    where a date was: every row still loads (the time kept in the raw table), none is
    rejected, and the raw suite reads the dates (unread, its date-range checks skip them)."""
    from linkage_ops.ingest.reader import read_date
    from linkage_ops.quality import raw_suite, validate

    period = "2023-24"
    landing = landing_copy(tmp_path, period)
    timed = 0
    for path in (landing / SOURCE / period).glob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        with_times = re.sub(r"\b(\d{2}/\d{2}/\d{4})\b", r"\1 00:00", text)
        timed += with_times != text
        path.write_text(with_times, encoding="utf-8")
    assert timed >= 3
    load = load_period(con, landing, SOURCE, period, run_id="t")
    assert load.failed == [] and rejected(load) == []
    assert {(f.field, f.value[:2]) for f in load.findings} <= {("UPN", "UN")}
    assert_reconciles(con, period)
    decom = con.execute(
        f"select DECOM from {raw_table_name(SOURCE, 'episodes')} where _period = ?", [period]
    ).fetchall()
    assert decom and all(value.endswith(" 00:00") for (value,) in decom)
    # An episode starting after the return's year, time and all, is seen by the raw suite.
    episodes = con.execute(
        f"select * from {raw_table_name(SOURCE, 'episodes')} where _period = ?", [period]
    ).df()
    suite = raw_suite(SOURCE, SCHEMA.for_period(period).tables["episodes"])
    assert not [f for f in validate(episodes, suite).findings if f.column == "DECOM"]
    episodes.loc[0, "DECOM"] = "01/09/2031 00:00"
    assert [f for f in validate(episodes, suite).findings if f.column == "DECOM"]
    assert read_date("01/09/2022 00:00", "%d/%m/%Y").date().isoformat() == "2022-09-01"
    assert read_date("2022-09-01T13:05:59.123", "%Y-%m-%d").day == 1
    # The month in letters, as Blade writes it without its time and Oracle exports write it;
    # an XML date with its time zone.
    assert read_date("2022-Sep-01", "%Y-%b-%d %H:%M:%S").date().isoformat() == "2022-09-01"
    assert read_date("01-SEP-2022", "%d/%m/%Y").date().isoformat() == "2022-09-01"
    assert read_date("2022-09-01+01:00", "%Y-%m-%d").date().isoformat() == "2022-09-01"
    assert read_date("2022-09-01T00:00:00.000Z", "%Y-%m-%d").date().isoformat() == "2022-09-01"
    for value, layout in (("01/09/2022 0000", "%d/%m/%Y"), ("2022-09-01 +01", "%Y-%m-%d")):
        with pytest.raises(ValueError):
            read_date(value, layout)


def test_a_return_whose_dates_were_rewritten_in_the_other_uk_form_loads_and_says_so(
    tmp_path, con
) -> None:
    """The 903 is laid out day first (01/09/2022); a spreadsheet set to ISO dates, or a
    database export, writes 2022-09-01. Every row was rejected to quarantine. The dates are
    read (a month-first date is not guessed), the raw table keeps them as delivered, and the
    load log counts per column the values written in the other form."""
    from linkage_ops.ingest.reader import read_date
    from linkage_ops.quality import raw_suite, validate

    period = "2023-24"
    landing = landing_copy(tmp_path, period)
    rewritten = 0
    for path in (landing / SOURCE / period).glob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        iso, count = re.subn(r"\b(\d{2})/(\d{2})/(\d{4})\b", r"\3-\2-\1", text)
        rewritten += count
        path.write_text(iso, encoding="utf-8")
    assert rewritten >= 10
    load = load_period(con, landing, SOURCE, period, run_id="t")
    assert load.failed == [] and rejected(load) == []
    assert_reconciles(con, period)
    logged = con.execute(
        "select table_name, dates_in_other_form from raw.load_log "
        "where source = ? and period = ? and dates_in_other_form is not null",
        [SOURCE, period],
    ).fetchall()
    counted = {table: json.loads(counts) for table, counts in logged}
    assert sum(sum(counts.values()) for counts in counted.values()) == rewritten
    assert counted["episodes"]["DECOM"] >= 1
    episodes = con.execute(
        f"select * from {raw_table_name(SOURCE, 'episodes')} where _period = ?", [period]
    ).df()
    assert episodes.DECOM.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()  # as delivered
    suite = raw_suite(SOURCE, SCHEMA.for_period(period).tables["episodes"])
    assert not [f for f in validate(episodes, suite).findings if f.column == "DECOM"]
    episodes.loc[0, "DECOM"] = "2031-09-01"
    assert [f for f in validate(episodes, suite).findings if f.column == "DECOM"]
    # Either form in either layout (and a time after it); never a month-first date.
    assert read_date("2022-09-01", "%d/%m/%Y") == read_date("01/09/2022", "%Y-%m-%d")
    assert read_date("16/10/2014", "%Y-%b-%d %H:%M:%S").month == 10
    assert read_date("2014-10-16T00:00:00", "%Y-%b-%d %H:%M:%S").day == 16
    for value in ("09/13/2022", "2022/09/01", "1 Sep 2022"):
        with pytest.raises(ValueError):
            read_date(value, "%d/%m/%Y")


def test_staging_reads_dates_in_the_forms_and_with_the_times_the_loader_reads() -> None:
    """The loader's date forms and time pattern are mirrored in staging's parse_date macro
    (SQL cannot import them): a change to one side fails here until the other follows."""
    from linkage_ops.ingest.reader import DATE_FORMS, TIME_AFTER_DATE

    macro = (Path(__file__).parents[1] / "dbt_project/macros/parsing.sql").read_text()
    body = macro[macro.index("macro parse_date(") : macro.index("endmacro")]
    assert f"'{TIME_AFTER_DATE}'" in body
    assert "[" + ", ".join(f"'{form}'" for form in DATE_FORMS) + "]" in body


def test_a_return_with_a_spreadsheet_s_empty_columns_and_rows_loads_whole(tmp_path, con) -> None:
    """A spreadsheet saved as CSV ends every line with the commas of columns it thinks in use
    and writes lines of commas for empty rows: each file of the return was refused ("the header
    names  more than once"). Empty unnamed columns and rows are nothing delivered; an unnamed
    column that holds a value is kept, named by its position."""
    period = "2023-24"
    landing = landing_copy(tmp_path, period)
    folder = landing / SOURCE / period
    for path in folder.glob("*.csv"):
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        width = len(next(csv.reader(lines[:1])))
        padded = [line + ",," for line in lines] + ["," * (width + 1)]
        path.write_text("\r\n".join(padded) + "\r\n", encoding="utf-8")
    episodes = folder / "episodes.csv"
    lines = episodes.read_text(encoding="utf-8").splitlines()
    width = len(next(csv.reader(lines[:1]))) - 2  # the named columns
    lines[1] += "see case note"  # a note in the last unnamed column
    episodes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load = load_period(con, landing, SOURCE, period, run_id="t")
    assert load.failed == [] and rejected(load) == []
    assert_reconciles(con, period)
    for table_load in load.tables:
        delivered = fixture_rows(FIXTURES / SOURCE / period / table_load.source_file)
        assert table_load.rows_loaded == len(delivered), table_load.source_file
    extra = con.execute(
        f"select _extra_columns from {raw_table_name(SOURCE, 'episodes')} order by _row_number"
    ).fetchall()
    note = f"column_{width + 2}"  # named by position; the empty one before it is gone
    assert json.loads(extra[0][0]) == {note: "see case note"}
    assert all(json.loads(value) == {note: None} for (value,) in extra[1:])

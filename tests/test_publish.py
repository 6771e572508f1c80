"""Publishing the marts: separate audiences, Parquet per mart, atomic switch-over; the
descriptions travel with the tables; aggregate marts also as CSV files and one workbook."""

import csv
import json
from pathlib import Path

import duckdb
import openpyxl
import pyarrow.parquet as pq
import pytest

from linkage_ops import publish as publishing
from linkage_ops import spreadsheets
from linkage_ops.publish import publish
from linkage_ops.spreadsheets import SHEET_NAME_LIMIT, MartTable, sheet_names, write_workbook

# An aggregate mart (disclosure controlled: it has is_suppressed) with a name longer than an
# Excel sheet name may be.
LONG_AGGREGATE = "outcomes_attendance_and_exclusions_by_district"


def make_warehouse(path: Path, children: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists restricted")
    con.execute(
        "create or replace table marts.dim_child as "
        "select 'P' || lpad(i::varchar, 9, '0') as person_key from range(?) t(i)",
        [children],
    )
    con.execute(
        "create or replace table marts.kpis as select 1 as period, ? as children", [children]
    )
    con.execute(
        "create or replace table restricted.targeted_interventions as "
        "select person_key, 'Ava' as first_name from marts.dim_child limit 2"
    )
    con.execute(
        f"create or replace table marts.{LONG_AGGREGATE} as "
        "select * from (values (date '2025-03-31', 'HR1', 'White British', 12, false), "
        "(date '2025-03-31', 'HR2', '=1+1', null, true), "
        "(date '2025-03-31', 'all', 'Zoë''s list', ?, false)) "
        "as cells (as_at_date, postcode_district, label, children, is_suppressed)",
        [children],
    )
    con.execute("comment on table marts.dim_child is 'One row per child.'")
    con.execute("comment on column marts.dim_child.person_key is 'The child''s key.'")
    con.execute(f"comment on table marts.{LONG_AGGREGATE} is 'Children by district.'")
    con.execute(f"comment on column marts.{LONG_AGGREGATE}.children is 'Children counted.'")
    con.close()
    return path


def read_all(database: Path) -> dict[str, list]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [name for (name,) in con.execute("show tables").fetchall()]
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in tables}
    finally:
        con.close()


def test_each_audience_goes_to_its_own_files(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publication = publish(warehouse, root, "run-1")
    assert publication.tables == {
        "marts": {"dim_child": 5, "kpis": 1, LONG_AGGREGATE: 3},
        "restricted": {"targeted_interventions": 2},
    }
    assert set(read_all(root / "marts.duckdb")) == {"dim_child", "kpis", LONG_AGGREGATE}
    assert set(read_all(root / "restricted" / "restricted.duckdb")) == {"targeted_interventions"}
    assert sorted(p.name for p in (root / "parquet").iterdir()) == [
        "dim_child.parquet",
        "kpis.parquet",
        f"{LONG_AGGREGATE}.parquet",
    ]
    assert (root / "restricted" / "parquet" / "targeted_interventions.parquet").exists()
    # Spreadsheets are for the aggregate marts of the pseudonymous audience only.
    assert not (root / "restricted" / "csv").exists()
    assert not list((root / "restricted").glob("*.xlsx"))
    manifest = json.loads((root / "publication.json").read_text())
    assert manifest["files"]["marts"] == [
        "marts.duckdb",
        "parquet/dim_child.parquet",
        "parquet/kpis.parquet",
        f"parquet/{LONG_AGGREGATE}.parquet",
        f"csv/{LONG_AGGREGATE}.csv",
        "marts.xlsx",
    ]
    assert manifest["files"]["restricted"] == [
        "restricted/restricted.duckdb",
        "restricted/parquet/targeted_interventions.parquet",
    ]
    for files in manifest["files"].values():
        assert all((root / f).exists() for f in files)


def test_descriptions_travel_with_the_tables(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    with duckdb.connect(str(root / "marts.duckdb"), read_only=True) as con:
        tables = dict(con.execute("select table_name, comment from duckdb_tables()").fetchall())
        columns = {
            (table, column): comment
            for table, column, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns()"
            ).fetchall()
        }
    assert tables["dim_child"] == "One row per child."
    assert columns["dim_child", "person_key"] == "The child's key."
    assert tables[LONG_AGGREGATE] == "Children by district."
    assert columns[LONG_AGGREGATE, "children"] == "Children counted."
    # Parquet: the table's description on the schema, a column's on its field.
    schema = pq.read_schema(root / "parquet" / "dim_child.parquet")
    assert schema.metadata[b"description"] == b"One row per child."
    assert schema.field("person_key").metadata == {b"description": b"The child's key."}
    # No description, no key (not an empty one).
    kpis = pq.read_schema(root / "parquet" / "kpis.parquet")
    assert b"description" not in (kpis.metadata or {})
    assert kpis.field("children").metadata is None


def test_aggregate_marts_become_csv_files_and_one_workbook(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    assert [p.name for p in (root / "csv").iterdir()] == [f"{LONG_AGGREGATE}.csv"]
    with (root / "csv" / f"{LONG_AGGREGATE}.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["as_at_date", "postcode_district", "label", "children", "is_suppressed"],
        ["2025-03-31", "HR1", "White British", "12", "false"],
        ["2025-03-31", "HR2", "=1+1", "", "true"],
        ["2025-03-31", "all", "Zoë's list", "5", "false"],
    ]

    workbook = openpyxl.load_workbook(root / "marts.xlsx")
    sheet = sheet_names([LONG_AGGREGATE])[LONG_AGGREGATE]
    assert workbook.sheetnames == ["Contents", sheet]
    assert len(sheet) == SHEET_NAME_LIMIT
    contents = [row for row in workbook["Contents"].iter_rows(values_only=True) if any(row)]
    assert "run-1" in contents[0][0]
    listed = {row[1]: row for row in contents if row[1] == LONG_AGGREGATE}
    assert listed[LONG_AGGREGATE][0] == sheet
    assert listed[LONG_AGGREGATE][2] == 3
    assert listed[LONG_AGGREGATE][3] == "Children by district."
    link = next(c for c in workbook["Contents"]["A"] if c.value == sheet)
    assert link.hyperlink.location == f"'{sheet}'!A1"
    cells = list(workbook[sheet].iter_rows(values_only=True))
    assert cells[0] == ("as_at_date", "postcode_district", "label", "children", "is_suppressed")
    parquet = root / "parquet" / f"{LONG_AGGREGATE}.parquet"
    assert len(cells) - 1 == pq.read_metadata(parquet).num_rows
    assert cells[2][2:] == ("=1+1", None, True)  # text, never a formula; a withheld count blank
    assert workbook[sheet]["D1"].comment.text == "Children counted."


def test_sheet_names_fit_excel() -> None:
    names = sheet_names(["dim_child", "a" * 40, "a" * 35, "contents", "x/y[1]"])
    assert names["dim_child"] == "dim_child"
    assert names["a" * 40] == "a" * 31
    assert names["a" * 35] == "a" * 29 + "~2"
    assert names["contents"] == "contents~2"  # the contents sheet is "Contents"
    assert names["x/y[1]"] == "x_y_1_"
    assert all(len(name) <= SHEET_NAME_LIMIT for name in names.values())


def test_a_reader_keeps_its_copy_and_the_next_reader_gets_the_new_one(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    reader = duckdb.connect(str(root / "marts.duckdb"), read_only=True)
    make_warehouse(warehouse, 8)
    publish(warehouse, root, "run-2")
    assert reader.execute("select count(*) from dim_child").fetchone()[0] == 5
    reader.close()
    assert len(read_all(root / "marts.duckdb")["dim_child"]) == 8
    parquet = root / "parquet" / "dim_child.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0] == 8
    # Old versions are cleared up: the current one and the one before it stay.
    assert len(list((root / publishing.VERSIONS).iterdir())) == 2


def test_a_failed_publication_leaves_the_previous_one_untouched(tmp_path, monkeypatch) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    before = read_all(root / "marts.duckdb"), read_all(root / "restricted" / "restricted.duckdb")
    manifest = (root / "publication.json").read_text()
    spreadsheets = (root / "marts.xlsx").read_bytes(), (root / "csv").resolve()
    versions = sorted((root / publishing.VERSIONS).iterdir())

    make_warehouse(warehouse, 8)
    real_write = publishing._write_version

    def fail_on_restricted(warehouse_path, audience, version_dir, *rest):
        if audience.schema == "restricted":
            raise OSError("disk full")
        return real_write(warehouse_path, audience, version_dir, *rest)

    monkeypatch.setattr(publishing, "_write_version", fail_on_restricted)
    with pytest.raises(OSError, match="disk full"):
        publish(warehouse, root, "run-2")
    after = read_all(root / "marts.duckdb"), read_all(root / "restricted" / "restricted.duckdb")
    assert after == before
    assert (root / "publication.json").read_text() == manifest
    assert ((root / "marts.xlsx").read_bytes(), (root / "csv").resolve()) == spreadsheets
    assert sorted((root / publishing.VERSIONS).iterdir()) == versions
    parquet = root / "parquet" / "dim_child.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0] == 5


def test_a_mart_too_long_for_a_sheet_is_listed_with_its_csv(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(spreadsheets, "EXCEL_ROW_LIMIT", 3)  # a heading and two rows
    short = MartTable("short", "Two rows.", ["n"], [(1,), (2,)])
    long = MartTable("long", "Three rows.", ["n"], [(1,), (2,), (3,)])
    write_workbook(tmp_path / "marts.xlsx", [long, short], "Marts")
    workbook = openpyxl.load_workbook(tmp_path / "marts.xlsx")
    assert workbook.sheetnames == ["Contents", "short"]
    listed = {row[1]: row for row in workbook["Contents"].iter_rows(values_only=True) if row[1]}
    assert listed["long"][0] is None
    assert listed["long"][2] == 3
    assert listed["long"][3].startswith("Too many rows for a sheet: see csv/long.csv.")


def test_a_data_folder_named_with_an_apostrophe_publishes(tmp_path: Path) -> None:
    """The warehouse path was pasted into SQL: ``O'Brien's data`` broke publishing."""
    folder = tmp_path / "O'Brien's data"
    folder.mkdir()
    warehouse = make_warehouse(folder / "warehouse.duckdb", 5)
    publication = publish(warehouse, folder / "published", "run-1")
    assert publication.tables["marts"]["dim_child"] == 5


def test_restricted_files_live_in_their_own_tree_for_the_owner_only(tmp_path: Path) -> None:
    """Restricted Parquet files were physically under published/.versions, outside
    published/restricted, and every file was world-readable."""
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    restricted = root / "restricted"
    parquet = (restricted / "parquet" / "targeted_interventions.parquet").resolve()
    assert parquet.is_relative_to(restricted.resolve())
    assert not any(
        p.name == "targeted_interventions.parquet" for p in (root / publishing.VERSIONS).rglob("*")
    )
    assert restricted.stat().st_mode & 0o777 == 0o700
    for path in restricted.rglob("*"):
        if not path.is_symlink():
            expected = 0o700 if path.is_dir() else 0o600
            assert path.stat().st_mode & 0o777 == expected, path

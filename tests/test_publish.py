"""Publishing the marts: separate audiences, Parquet per mart, atomic switch-over; the
descriptions travel with the tables; aggregate marts also as CSV files and one workbook."""

import csv
import json
import os
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
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
    # Aggregates (and tables about no child) for BI; person-level marts on their own;
    # restricted.
    assert publication.tables == {
        "marts": {"kpis": 1, LONG_AGGREGATE: 3},
        "person_level": {"dim_child": 5},
        "restricted": {"targeted_interventions": 2},
    }
    assert set(read_all(root / "marts.duckdb")) == {"kpis", LONG_AGGREGATE}
    assert set(read_all(root / "person_level" / "person_level.duckdb")) == {"dim_child"}
    assert set(read_all(root / "restricted" / "restricted.duckdb")) == {"targeted_interventions"}
    assert sorted(p.name for p in (root / "parquet").iterdir()) == [
        "kpis.parquet",
        f"{LONG_AGGREGATE}.parquet",
    ]
    assert sorted(p.name for p in (root / "person_level" / "parquet").iterdir()) == [
        "dim_child.parquet"
    ]
    assert (root / "restricted" / "parquet" / "targeted_interventions.parquet").exists()
    # Spreadsheets are for the aggregate marts of the pseudonymous audience only.
    assert not (root / "restricted" / "csv").exists()
    assert not list((root / "restricted").glob("*.xlsx"))
    assert not (root / "person_level" / "csv").exists()
    assert not list((root / "person_level").glob("*.xlsx"))
    manifest = json.loads((root / "publication.json").read_text())
    assert manifest["files"]["marts"] == [
        "marts.duckdb",
        "parquet/kpis.parquet",
        f"parquet/{LONG_AGGREGATE}.parquet",
        f"csv/{LONG_AGGREGATE}.csv",
        "marts.xlsx",
    ]
    assert manifest["files"]["person_level"] == [
        "person_level/person_level.duckdb",
        "person_level/parquet/dim_child.parquet",
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
    tables, columns = {}, {}
    for database in (root / "marts.duckdb", root / "person_level" / "person_level.duckdb"):
        with duckdb.connect(str(database), read_only=True) as con:
            tables |= dict(
                con.execute("select table_name, comment from duckdb_tables()").fetchall()
            )
            columns |= {
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
    schema = pq.read_schema(root / "person_level" / "parquet" / "dim_child.parquet")
    assert schema.metadata[b"description"] == b"One row per child."
    assert schema.field("person_key").metadata == {b"description": b"The child's key."}
    aggregate = pq.read_schema(root / "parquet" / f"{LONG_AGGREGATE}.parquet")
    assert aggregate.metadata[b"description"] == b"Children by district."
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
    every_child = f"select children from {LONG_AGGREGATE} where postcode_district = 'all'"
    assert reader.execute(every_child).fetchone()[0] == 5
    reader.close()
    with duckdb.connect(str(root / "marts.duckdb"), read_only=True) as con:
        assert con.execute(every_child).fetchone()[0] == 8
    parquet = root / "person_level" / "parquet" / "dim_child.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0] == 8
    # Old versions are cleared up: the current one and the one before it stay.
    assert len(list((root / publishing.VERSIONS).iterdir())) == 2


def test_a_failed_publication_leaves_the_previous_one_untouched(tmp_path, monkeypatch) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    databases = (
        root / "marts.duckdb",
        root / "person_level" / "person_level.duckdb",
        root / "restricted" / "restricted.duckdb",
    )
    before = [read_all(database) for database in databases]
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
    assert [read_all(database) for database in databases] == before
    assert (root / "publication.json").read_text() == manifest
    assert ((root / "marts.xlsx").read_bytes(), (root / "csv").resolve()) == spreadsheets
    assert sorted((root / publishing.VERSIONS).iterdir()) == versions
    parquet = root / "person_level" / "parquet" / "dim_child.parquet"
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
    assert publication.tables["person_level"]["dim_child"] == 5


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


# Finding 10: one switch for the whole publication. Each audience holds a table of the run that
# published it, so a reader's path tells which publication it shows.
MARKERS = {"marts": "marker_aggregate", "person_level": "marker_person", "restricted": "marker"}


def stamp(warehouse: Path, run_id: str) -> None:
    """A table of ``run_id`` in each audience: an aggregate mart (disclosure controlled), a
    person-level mart and a restricted mart."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table marts.marker_aggregate as "
            "select ? as run_id, false as is_suppressed",
            [run_id],
        )
        con.execute(
            "create or replace table marts.marker_person as select ? as run_id, 'P1' as person_key",
            [run_id],
        )
        con.execute("create or replace table restricted.marker as select ? as run_id", [run_id])


def _duckdb_run(path: Path, table: str) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select run_id from {table}").fetchone()[0]


def _parquet_run(path: Path) -> str:
    return pq.read_table(path).column("run_id")[0].as_py()


def readers_see(root: Path) -> dict[str, str]:
    """The run each path a reader opens shows."""
    aggregate, person, restricted = MARKERS.values()
    with (root / "csv" / f"{aggregate}.csv").open(encoding="utf-8-sig") as handle:
        csv_run = next(csv.DictReader(handle))["run_id"]
    workbook = openpyxl.load_workbook(root / "marts.xlsx")
    return {
        "publication.json": json.loads((root / "publication.json").read_text())["run_id"],
        "marts.duckdb": _duckdb_run(root / "marts.duckdb", aggregate),
        "parquet": _parquet_run(root / "parquet" / f"{aggregate}.parquet"),
        "csv": csv_run,
        "marts.xlsx": workbook[aggregate]["A2"].value,
        "person_level.duckdb": _duckdb_run(root / "person_level" / "person_level.duckdb", person),
        "person_level/parquet": _parquet_run(
            root / "person_level" / "parquet" / f"{person}.parquet"
        ),
        "restricted.duckdb": _duckdb_run(root / "restricted" / "restricted.duckdb", restricted),
        "restricted/parquet": _parquet_run(
            root / "restricted" / "parquet" / f"{restricted}.parquet"
        ),
    }


def published_run(root: Path) -> str:
    """The one run every reader's path shows (fails if they show different runs)."""
    seen = readers_see(root)
    runs = set(seen.values())
    assert len(runs) == 1, seen
    return runs.pop()


def publish_run(warehouse: Path, root: Path, run_id: str) -> None:
    stamp(warehouse, run_id)
    publish(warehouse, root, run_id)


class Crash:
    """Renames and links under ``root`` (the steps of switching a publication in) go through
    this; the ``at``-th such step, or the first that ``when`` picks, fails as a power cut would
    end it. Counts the steps either way."""

    def __init__(self, monkeypatch, root: Path, at: int = 0, when=None) -> None:
        self.root, self.at, self.when, self.steps = root, at, when, []
        real_replace, real_symlink = os.replace, os.symlink

        def replace(source, target, *args, **kwargs):
            self._step("replace", Path(target))
            return real_replace(source, target, *args, **kwargs)

        def symlink(target, link, *args, **kwargs):
            self._step("symlink", Path(link))
            return real_symlink(target, link, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "symlink", symlink)

    def _step(self, kind: str, path: Path) -> None:
        if not path.is_relative_to(self.root):
            return
        step = (kind, path.relative_to(self.root))
        if len(self.steps) + 1 == self.at or (self.when and self.when(step)):
            raise OSError(f"power cut at {kind} {step[1]}")
        self.steps.append(step)


def test_a_crash_while_switching_leaves_every_reader_on_the_previous_publication(
    tmp_path, monkeypatch
) -> None:
    """Finding 10: the marts were switched before the restricted marts and publication.json; a
    crash between the renames left readers on a mix of two publications."""
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish_run(warehouse, root, "run-1")
    assert published_run(root) == "run-1"

    # The power goes at the first step of the switch that touches the restricted audience.
    crash = Crash(monkeypatch, root, when=lambda step: "restricted" in step[1].parts)
    with pytest.raises(OSError, match="power cut"):
        publish_run(warehouse, root, "run-2")
    assert crash.steps  # other steps of the switch had run: the crash was in its middle
    seen = readers_see(root)
    assert seen == dict.fromkeys(seen, "run-1")

    monkeypatch.undo()
    publish_run(warehouse, root, "run-3")
    seen = readers_see(root)
    assert seen == dict.fromkeys(seen, "run-3")


def test_a_crash_at_any_step_of_the_switch_leaves_one_whole_publication(
    tmp_path, monkeypatch
) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish_run(warehouse, root, "run-1")
    counting = Crash(monkeypatch, root)
    publish_run(warehouse, root, "run-2")
    steps = len(counting.steps)
    assert steps
    monkeypatch.undo()
    for at in range(1, steps + 1):
        before, attempt = published_run(root), f"run-{at + 2}"
        Crash(monkeypatch, root, at=at)
        with pytest.raises(OSError, match="power cut"):
            publish_run(warehouse, root, attempt)
        monkeypatch.undo()
        # The previous publication, or (a crash after the switch) the new one: never a mix.
        assert published_run(root) in (before, attempt), f"crash at step {at}"


def test_a_publication_never_prunes_the_current_version(tmp_path: Path) -> None:
    """Versions were pruned by name: folders left by crashed publications named later (a clock
    set back) kept their place and the current version was removed under the readers."""
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    publish_run(warehouse, root, "run-1")
    (previous,) = os.listdir(root / publishing.VERSIONS)
    for orphan in ("99990101T000000000000Z-crashed1", "99990101T000000000000Z-crashed2"):
        (root / publishing.VERSIONS / orphan / "parquet").mkdir(parents=True)
    publish_run(warehouse, root, "run-2")
    assert published_run(root) == "run-2"
    versions = set(os.listdir(root / publishing.VERSIONS))
    assert not any("crashed" in name for name in versions)
    assert len(versions) == 2 and previous in versions


def _write_older_layout(root: Path, run_id: str) -> None:
    """A publication as the per-file switch left it: real DuckDB files, workbook and
    publication.json where readers open them; ``parquet`` links into a version and ``csv`` a
    real folder (older still); restricted the same in its own folder."""
    aggregate, _, restricted = MARKERS.values()
    old = root / publishing.VERSIONS / "20200101T000000000000Z-old"
    (old / "parquet").mkdir(parents=True)
    pq.write_table(
        pa.table({"run_id": [run_id], "is_suppressed": [False]}),
        old / "parquet" / f"{aggregate}.parquet",
    )
    (root / "parquet").symlink_to(old.relative_to(root) / "parquet", target_is_directory=True)
    (root / "csv").mkdir()
    (root / "csv" / f"{aggregate}.csv").write_text(f"run_id,is_suppressed\n{run_id},false\n")
    with duckdb.connect(str(root / "marts.duckdb")) as con:
        con.execute(
            f"create table {aggregate} as select ? as run_id, false as is_suppressed", [run_id]
        )
    table = MartTable(aggregate, "", ["run_id", "is_suppressed"], [(run_id, False)])
    write_workbook(root / "marts.xlsx", [table], "Older layout")
    (root / "publication.json").write_text(json.dumps({"run_id": run_id}))
    folder = root / "restricted"
    old = folder / publishing.VERSIONS / "20200101T000000000000Z-old"
    (old / "parquet").mkdir(parents=True)
    pq.write_table(pa.table({"run_id": [run_id]}), old / "parquet" / f"{restricted}.parquet")
    (folder / "parquet").symlink_to(old.relative_to(folder) / "parquet", target_is_directory=True)
    with duckdb.connect(str(folder / "restricted.duckdb")) as con:
        con.execute(f"create table {restricted} as select ? as run_id", [run_id])


def test_the_first_publication_over_the_older_layout_migrates(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    root = tmp_path / "published"
    root.mkdir()
    _write_older_layout(root, "run-0")
    reader = duckdb.connect(str(root / "marts.duckdb"), read_only=True)
    publish_run(warehouse, root, "run-1")
    # A reader of the older file keeps its copy (closed before reading again: DuckDB hands a
    # process's second connection to an open path the same database).
    assert reader.execute("select run_id from marker_aggregate").fetchone()[0] == "run-0"
    reader.close()
    assert published_run(root) == "run-1"
    # Every path a reader opens is now a link that resolves through the one pointer.
    for path in root.iterdir():
        if path.name in {"marts.duckdb", "marts.xlsx", "publication.json", "parquet", "csv"}:
            assert path.is_symlink(), path
    for path in (root / "restricted" / "restricted.duckdb", root / "restricted" / "parquet"):
        assert path.is_symlink(), path
    assert (root / publishing.CURRENT).is_symlink()
    restricted = root / "restricted"
    assert restricted.stat().st_mode & 0o777 == 0o700
    assert (restricted / "restricted.duckdb").resolve().stat().st_mode & 0o777 == 0o600
    publish_run(warehouse, root, "run-2")
    assert published_run(root) == "run-2"
    # The older layout's versions go once they are neither current nor previous.
    for folder in (root, restricted):
        names = os.listdir(folder / publishing.VERSIONS)
        assert len(names) == 2 and not any(name.endswith("-old") for name in names), names


# Finding 8: person-level marts are their own audience, the owner's only.
def test_person_level_marts_are_their_own_owner_only_audience(tmp_path: Path) -> None:
    """dim_child (full death dates, month of birth) sat in the BI file beside the aggregates."""
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", 5)
    stamp(warehouse, "run-1")
    root = tmp_path / "published"
    publish(warehouse, root, "run-1")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns_of = {
            (schema, table): set(columns)
            for schema, table, columns in con.execute(
                "select table_schema, table_name, list(column_name) "
                "from information_schema.columns where table_schema in ('marts', 'restricted') "
                "group by all"
            ).fetchall()
        }
    person_level = {
        t for (s, t), c in columns_of.items() if s == "marts" and publishing.PERSON_KEY_COLUMN in c
    }
    others = {t for (s, t), _ in columns_of.items() if s == "marts"} - person_level
    aggregates = {
        t for t in others if publishing.DISCLOSURE_CONTROL_COLUMN in columns_of["marts", t]
    }
    assert "dim_child" in person_level and LONG_AGGREGATE in aggregates and "kpis" in others

    # The pseudonymous BI files: no table with a row per child.
    bi = read_all(root / "marts.duckdb")
    assert set(bi) == others
    with duckdb.connect(str(root / "marts.duckdb"), read_only=True) as con:
        for table in bi:
            columns = [c for (c, *_) in con.execute(f"describe {table}").fetchall()]
            assert publishing.PERSON_KEY_COLUMN not in columns, table
    assert {p.stem for p in (root / "parquet").iterdir()} == others
    # Spreadsheets: the disclosure-controlled aggregates only.
    assert {p.stem for p in (root / "csv").iterdir()} == aggregates
    assert set(openpyxl.load_workbook(root / "marts.xlsx").sheetnames) == {"Contents"} | {
        sheet_names(sorted(aggregates))[t] for t in aggregates
    }

    # Person-level marts: their own audience, in their own tree, the owner's only.
    folder = root / "person_level"
    assert set(read_all(folder / "person_level.duckdb")) == person_level
    assert {p.stem for p in (folder / "parquet").iterdir()} == person_level
    for path in [folder / "person_level.duckdb", *(folder / "parquet").iterdir()]:
        assert path.resolve().is_relative_to(folder.resolve()), path
        assert path.resolve().stat().st_mode & 0o777 == 0o600, path
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.rglob("*"):
        if not path.is_symlink():
            assert path.stat().st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path
    # No person-level data anywhere else.
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and not path.is_relative_to(folder):
            assert path.stem not in person_level, path

    # Every mart of the warehouse is published to exactly one audience.
    published = [("marts", t) for t in [*bi, *read_all(folder / "person_level.duckdb")]] + [
        ("restricted", t) for t in read_all(root / "restricted" / "restricted.duckdb")
    ]
    assert sorted(published) == sorted(columns_of)
    manifest = json.loads((root / "publication.json").read_text())
    assert manifest["tables"]["marts"].keys() == others
    assert manifest["tables"]["person_level"].keys() == person_level
    assert sorted(t for tables in manifest["tables"].values() for t in tables) == sorted(
        t for _, t in columns_of
    )


def test_two_publications_at_once_take_turns(tmp_path, monkeypatch) -> None:
    """A publication that finished while another was writing removed the other's new
    versions (neither current nor previous to it) before they were switched in."""
    import threading

    root = tmp_path / "published"
    warehouses = {}
    for run in ("run-A", "run-B"):
        warehouses[run] = make_warehouse(tmp_path / f"{run}.duckdb", 5)
        stamp(warehouses[run], run)
    written, carry_on = threading.Event(), threading.Event()
    real_fsync_tree = publishing._fsync_tree

    def slow_fsync_tree(folder: Path) -> None:
        # run-A stops between writing its versions and switching them in.
        if folder.name.endswith("-run-A"):
            written.set()
            carry_on.wait(timeout=60)
        real_fsync_tree(folder)

    monkeypatch.setattr(publishing, "_fsync_tree", slow_fsync_tree)
    failures = []

    def run(run_id: str) -> None:
        try:
            publish(warehouses[run_id], root, run_id)
        except Exception as error:  # reported below
            failures.append((run_id, error))

    first = threading.Thread(target=run, args=("run-A",))
    first.start()
    assert written.wait(timeout=60)
    second = threading.Thread(target=run, args=("run-B",))
    second.start()
    second.join(timeout=3)
    # run-B waits for run-A instead of finishing (and pruning) while run-A is mid-way.
    assert second.is_alive()
    carry_on.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert not failures, failures
    assert published_run(root) == "run-B"
    assert len(os.listdir(root / publishing.VERSIONS)) == 2

"""Publishing the marts: separate audiences, Parquet per mart, atomic switch-over."""

from pathlib import Path

import duckdb
import pytest

from linkage_ops import publish as publishing
from linkage_ops.publish import publish


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
        "marts": {"dim_child": 5, "kpis": 1},
        "restricted": {"targeted_interventions": 2},
    }
    assert set(read_all(root / "marts.duckdb")) == {"dim_child", "kpis"}
    assert set(read_all(root / "restricted" / "restricted.duckdb")) == {"targeted_interventions"}
    assert sorted(p.name for p in (root / "parquet").iterdir()) == [
        "dim_child.parquet",
        "kpis.parquet",
    ]
    assert (root / "restricted" / "parquet" / "targeted_interventions.parquet").exists()


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
    versions = sorted((root / publishing.VERSIONS).iterdir())

    make_warehouse(warehouse, 8)
    real_write = publishing._write_version

    def fail_on_restricted(warehouse_path, audience, version_dir):
        if audience.schema == "restricted":
            raise OSError("disk full")
        return real_write(warehouse_path, audience, version_dir)

    monkeypatch.setattr(publishing, "_write_version", fail_on_restricted)
    with pytest.raises(OSError, match="disk full"):
        publish(warehouse, root, "run-2")
    after = read_all(root / "marts.duckdb"), read_all(root / "restricted" / "restricted.duckdb")
    assert after == before
    assert (root / "publication.json").read_text() == manifest
    assert sorted((root / publishing.VERSIONS).iterdir()) == versions
    parquet = root / "parquet" / "dim_child.parquet"
    assert duckdb.sql(f"select count(*) from '{parquet}'").fetchall()[0][0] == 5

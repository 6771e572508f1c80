"""The warehouse on Spark (issue 18): one small synthetic authority refreshed through Dagster
with each engine (``WAREHOUSE_ENGINE``) gives the same children and the same marts.

The Spark refresh runs dbt through dbt-spark on local Spark (every model and dbt test) and
linkage's pairwise work on Spark (``linkage_ops.spark.linkage``); the DuckDB one is the
default engine. Same input files, same code: the clusters, the person keys and every table dbt
builds must be identical, order aside."""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from linkage_ops.spark import lake
from linkage_ops.spark.compare import compare_warehouses
from linkage_ops.synthetic import generate_authority
from orchestration.dbt.project import dbt_project
from orchestration.definitions import build_definitions
from orchestration.runner import ingest_landing_folder, refresh_warehouse

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
]

CHILDREN = 300


def refresh(data_dir: Path, engine: str) -> list[dg.ExecuteInProcessResult]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WAREHOUSE_ENGINE", engine)
        defs = build_definitions(str(data_dir))
        with dg.DagsterInstance.ephemeral() as instance:
            runs = ingest_landing_folder(defs, instance, data_dir / "landing")
            return [run.result for run in runs] + [refresh_warehouse(defs, instance)]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, dict]:
    landing = tmp_path_factory.mktemp("authority")
    generate_authority(children=CHILDREN, seed=18, out_dir=landing, months=1)
    built = {}
    for engine in ("duckdb", "spark"):
        data_dir = tmp_path_factory.mktemp(engine)
        shutil.copytree(landing / "landing", data_dir / "landing")
        shutil.copytree(landing / "truth", data_dir / "truth")
        built[engine] = {"data_dir": data_dir, "runs": refresh(data_dir, engine)}
    yield built
    from pyspark.sql import SparkSession

    if (session := SparkSession.getActiveSession()) is not None:
        session.stop()


def bridge(data_dir: Path) -> pd.DataFrame:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select record_id, person_key from linkage.person_key_bridge order by record_id"
        ).df()


def test_every_run_succeeds_with_either_engine(built) -> None:
    for engine, result in built.items():
        failed = [run.dagster_run.run_id for run in result["runs"] if not run.success]
        assert not failed, f"{engine}: runs failed"


def test_spark_built_every_table_model_and_the_serving_copy_holds_them(built) -> None:
    spark_dir = built["spark"]["data_dir"] / "spark"
    nodes = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))["nodes"]
    tables = [
        (node["schema"], node["alias"])
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"]["materialized"] != "view"
    ]
    assert len(tables) > 30
    missing = [
        f"{schema}.{table}"
        for schema, table in tables
        if not any(lake.table_dir(spark_dir, schema, table).rglob("*.parquet"))
    ]
    assert not missing
    # The raw and linkage tables went to the lake for dbt to read.
    present = lake.present_tables(spark_dir)
    assert "linkage.person_key_bridge" in present
    assert "raw.reference__code_lists" in present


def test_the_same_children_with_the_same_keys(built) -> None:
    duck, spark = bridge(built["duckdb"]["data_dir"]), bridge(built["spark"]["data_dir"])
    assert len(spark) == len(duck) > CHILDREN
    assert spark.record_id.is_unique
    clusters = {
        engine: sorted(
            tuple(sorted(group)) for group in frame.groupby("person_key").record_id.agg(list)
        )
        for engine, frame in (("duckdb", duck), ("spark", spark))
    }
    assert clusters["spark"] == clusters["duckdb"]
    # A fresh warehouse each: keys are issued in the same order, so they are the same keys.
    assert spark.person_key.tolist() == duck.person_key.tolist()


def test_every_table_dbt_built_on_spark_equals_the_duckdb_build(built) -> None:
    with duckdb.connect(
        str(built["duckdb"]["data_dir"] / "warehouse.duckdb"), read_only=True
    ) as con:
        differences = compare_warehouses(
            con, built["spark"]["data_dir"] / "spark", ignore=["run_id"]
        )
    assert differences == []
    # Nothing but the run's id differs: with it, the two quality marts that carry it differ.
    with duckdb.connect(
        str(built["duckdb"]["data_dir"] / "warehouse.duckdb"), read_only=True
    ) as con:
        named = compare_warehouses(con, built["spark"]["data_dir"] / "spark")
    assert {line.split(":")[0] for line in named} == {
        "marts.quality_match_weights",
        "marts.quality_model_parameters",
    }


def test_the_command_line_links_on_spark_as_on_duckdb(tmp_path: Path) -> None:
    """``linkage-ops link --engine spark`` (the job a cluster runs under spark-submit) gives
    the bridge the default engine gives, from Parquet read by Spark itself; a third of the
    records give their name whole (``SURNAME, Forename Middle``), split alike by both."""
    from linkage_ops.cli import main
    from linkage_ops.synthetic.independent_people import generate_dataset

    records = generate_dataset(people=300, seed=4, preset="heavy", identifiers=True).records
    records = records.drop(columns=["truth", "errors"]).sort_values("record_id")
    whole = records.index % 3 == 0
    parts = records.loc[whole, ["last_name", "first_name", "middle_names"]].fillna("")
    records["Full Name"] = None
    records.loc[whole, "Full Name"] = (
        parts.last_name + ", " + parts.first_name + " " + parts.middle_names
    ).str.strip(", ")
    records.loc[whole, ["first_name", "middle_names", "last_name"]] = None
    source = tmp_path / "records.parquet"
    records.replace("", None).to_parquet(source, index=False)
    bridges = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / f"{engine}.csv"
        assert main(["link", str(source), "--engine", engine, "--out", str(out)]) == 0
        bridges[engine] = pd.read_csv(out, dtype=str).sort_values("record_id")
    assert len(bridges["spark"]) == len(records)
    assert bridges["spark"].record_id.tolist() == bridges["duckdb"].record_id.tolist()
    assert bridges["spark"].person_key.tolist() == bridges["duckdb"].person_key.tolist()


def test_an_unknown_engine_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    from linkage_ops.cli import main

    monkeypatch.setenv("WAREHOUSE_ENGINE", "oracle")
    source = tmp_path / "records.csv"
    source.write_text("record_id,source\n1,gp\n", encoding="utf-8")
    assert main(["link", str(source), "--out", str(tmp_path / "out.csv")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "WAREHOUSE_ENGINE" in error and "oracle" in error

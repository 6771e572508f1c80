"""dbt docs generate works, and every mart is documented column by column under a contract."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("docs")
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(dbt), "docs", "generate", "--quiet", "--target-path", str(target)],
        cwd=PROJECT,
        env=os.environ | {"WAREHOUSE_DUCKDB_PATH": str(target / "empty.duckdb")},
        check=True,
    )
    return target


def test_docs_generate_writes_the_site(docs: Path) -> None:
    assert (docs / "index.html").exists()
    assert (docs / "catalog.json").exists()


def test_every_mart_and_every_mart_column_has_a_description_and_a_contract(docs: Path) -> None:
    manifest = json.loads((docs / "manifest.json").read_text())
    marts = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["path"].startswith("marts/")
    ]
    assert len(marts) >= 3
    for node in marts:
        assert node["description"].strip(), node["name"]
        assert node["config"]["contract"]["enforced"], node["name"]
        assert node["columns"], node["name"]
        for column in node["columns"].values():
            assert column["description"].strip(), f"{node['name']}.{column['name']}"


def test_one_model_reads_the_linkage_bridge_and_marts_join_through_it(docs: Path) -> None:
    manifest = json.loads((docs / "manifest.json").read_text())
    bridge = "source.children_warehouse.linkage.person_key_bridge"
    readers = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and bridge in node["depends_on"]["nodes"]
    ]
    assert readers == ["int_person_keys"]
    person_keys = "model.children_warehouse.int_person_keys"
    joining = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and person_keys in node["depends_on"]["nodes"]
    ]
    assert {"dim_child", "fct_cin_episodes", "fct_health_events"} <= set(joining)
    # No model rebuilds a record's linkage id ('<source>:' || ...): staging exposes it
    # (macro person_record_id), except the event ids of the health feeds, which are not
    # person records.
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        for line in node["raw_code"].splitlines():
            if ":' ||" in line:
                assert "as health_event_id" in line, f"{node['name']}: {line.strip()}"

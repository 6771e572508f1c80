"""Stable person keys across refreshes: kept, merged, split and new."""

import duckdb
import pandas as pd

from linkage_ops.linkage import link_records
from linkage_ops.linkage.keys import KeyState, assign_person_keys
from linkage_ops.linkage.store import read_key_state, read_review_decisions, write_linkage


def clusters(mapping: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"record_id": list(mapping), "cluster": list(mapping.values())})


def keys_of(assignment, mapping: dict[str, str]) -> dict[str, str]:
    return {record: assignment.cluster_keys[cluster] for record, cluster in mapping.items()}


def state_after(assignment, mapping: dict[str, str]) -> KeyState:
    record_keys = pd.DataFrame(
        list(keys_of(assignment, mapping).items()), columns=["record_id", "person_key"]
    )
    return KeyState(record_keys=record_keys, registry=assignment.registry)


FIRST = {"a": "x", "b": "x", "c": "y", "d": "z"}


def test_first_run_issues_opaque_sequential_keys_reproducibly() -> None:
    one = keys_of(assign_person_keys(clusters(FIRST), None, "r1"), FIRST)
    two = keys_of(assign_person_keys(clusters(FIRST), None, "r1"), FIRST)
    assert (
        one == two == {"a": "P000000001", "b": "P000000001", "c": "P000000002", "d": "P000000003"}
    )


def test_a_refresh_with_one_new_record_keeps_every_existing_key() -> None:
    first = assign_person_keys(clusters(FIRST), None, "r1")
    before = keys_of(first, FIRST)
    second_mapping = {**FIRST, "e": "new", "f": "x"}  # f joins an existing child
    second = assign_person_keys(clusters(second_mapping), state_after(first, FIRST), "r2")
    after = keys_of(second, second_mapping)
    assert {record: after[record] for record in before} == before
    assert after["f"] == before["a"]
    assert after["e"] == "P000000004"
    assert second.history.empty
    assert set(second.registry.person_key) == {*before.values(), "P000000004"}


def test_a_merge_keeps_the_larger_key_and_retires_the_other_into_it() -> None:
    first = assign_person_keys(clusters(FIRST), None, "r1")
    merged = {"a": "m", "b": "m", "c": "m", "d": "z"}
    second = assign_person_keys(clusters(merged), state_after(first, FIRST), "r2")
    after = keys_of(second, merged)
    assert after["c"] == after["a"] == "P000000001"
    assert second.history.to_dict("records") == [
        {
            "old_person_key": "P000000002",
            "new_person_key": "P000000001",
            "reason": "merge",
            "records_moved": 1,
            "run_id": "r2",
        }
    ]
    retired = second.registry.set_index("person_key").loc["P000000002"]
    assert (retired.status, retired.retired_into, retired.retired_in_run) == (
        "retired",
        "P000000001",
        "r2",
    )


def test_a_split_leaves_the_key_with_the_larger_part_and_records_it() -> None:
    start = {"a": "x", "b": "x", "c": "x"}
    first = assign_person_keys(clusters(start), None, "r1")
    split = {"a": "p", "b": "p", "c": "q"}
    second = assign_person_keys(clusters(split), state_after(first, start), "r2")
    after = keys_of(second, split)
    assert after["a"] == after["b"] == "P000000001"
    assert after["c"] == "P000000002"
    assert second.history[["old_person_key", "new_person_key", "reason"]].values.tolist() == [
        ["P000000001", "P000000002", "split"]
    ]


def test_link_records_carries_keys_from_the_previous_run() -> None:
    records = pd.DataFrame(
        [
            {
                "record_id": "gp:1",
                "source": "gp",
                "first_name": "Ava",
                "last_name": "Cole",
                "date_of_birth": "2016-01-02",
                "nhs_number": "9434765919",
            },
            {
                "record_id": "gp:2",
                "source": "gp",
                "first_name": "Leo",
                "last_name": "Ward",
                "date_of_birth": "2012-07-08",
            },
        ]
    )
    first = link_records(records, run_id="r1")
    extra = pd.DataFrame(
        [
            {
                "record_id": "gp:0",
                "source": "gp",
                "first_name": "Ava",
                "last_name": "Cole",
                "date_of_birth": "2016-01-02",
                "nhs_number": "943 476 5919",
            }
        ]
    )
    second = link_records(pd.concat([extra, records]), state=first.key_state(), run_id="r2")
    keys_before = first.bridge.set_index("record_id").person_key
    keys_after = second.bridge.set_index("record_id").person_key
    assert keys_after["gp:1"] == keys_before["gp:1"]
    assert keys_after["gp:2"] == keys_before["gp:2"]
    assert keys_after["gp:0"] == keys_before["gp:1"]


def test_the_warehouse_store_keeps_keys_queue_and_decisions(tmp_path) -> None:
    records = pd.DataFrame(
        [
            {
                "record_id": "gp:1",
                "source": "gp",
                "first_name": "Jon",
                "last_name": "Evans",
                "date_of_birth": "2015-04-04",
                "postcode": "HR1 1AA",
                "sex": "M",
            },
            {
                "record_id": "school_census:1",
                "source": "school_census",
                "first_name": "Ryan",
                "last_name": "Evans",
                "date_of_birth": "2015-04-04",
                "postcode": "HR1 1AA",
                "sex": "M",
            },
        ]
    )
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    assert read_key_state(con) is None
    assert read_review_decisions(con).empty
    first = link_records(records, state=None, run_id="r1", decisions=read_review_decisions(con))
    write_linkage(con, first, "r1")
    assert con.execute("select count(*) from linkage.review_queue").fetchone()[0] == 1

    con.execute(
        "insert into linkage.review_decisions (record_id_l, record_id_r, decision, reviewer) "
        "values ('gp:1', 'school_census:1', 'match', 'a reviewer')"
    )
    second = link_records(
        records, state=read_key_state(con), run_id="r2", decisions=read_review_decisions(con)
    )
    write_linkage(con, second, "r2")
    keys = dict(
        con.execute("select record_id, person_key from linkage.person_key_bridge").fetchall()
    )
    assert keys["gp:1"] == keys["school_census:1"]
    assert con.execute("select count(*) from linkage.review_queue").fetchone()[0] == 0
    # An empty queue still has text columns (not DuckDB's NULL type), so models can read it.
    described = con.execute("describe linkage.review_queue").fetchall()
    types = {column[0]: column[1] for column in described}
    assert types["record_id_l"] == types["impact"] == types["first_name_l"] == "VARCHAR"
    history = con.execute(
        "select old_person_key, new_person_key, reason from linkage.key_history"
    ).fetchall()
    assert history == [("P000000002", "P000000001", "merge")]
    con.close()


def test_records_that_come_back_after_a_run_without_them_keep_their_key(tmp_path) -> None:
    """A bad delivery replaced a period, a later corrected one brought its records back: they
    came back under new keys while their old key stayed active with no records."""
    ava = [
        {
            "record_id": f"gp:{month}",
            "source": "gp",
            "first_name": "Ava",
            "last_name": "Cole",
            "date_of_birth": "2016-01-02",
            "nhs_number": "9434765919",
        }
        for month in (1, 2)
    ]
    leo = [
        {
            "record_id": "school_census:1",
            "source": "school_census",
            "first_name": "Leo",
            "last_name": "Ward",
            "date_of_birth": "2012-07-08",
        }
    ]
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    runs = {"r1": ava + leo, "r2": leo, "r3": ava + leo}  # r2: Ava's records withdrawn
    results = {}
    for run, rows in runs.items():
        results[run] = link_records(pd.DataFrame(rows), state=read_key_state(con), run_id=run)
        write_linkage(con, results[run], run)

    first = results["r1"].bridge.set_index("record_id").person_key
    last = results["r3"].bridge.set_index("record_id").person_key
    assert last["gp:1"] == last["gp:2"] == first["gp:1"]
    assert last["school_census:1"] == first["school_census:1"]
    registry = results["r3"].registry
    assert len(registry) == 2  # no key issued for the returning records
    remembered = con.execute("select record_id from linkage.absent_record_keys").fetchall()
    assert remembered == []  # back in the bridge, no longer absent
    # While they were away, their key was remembered (and the CLI's state folder does the same).
    assert set(results["r2"].absent_record_keys.record_id) == {"gp:1", "gp:2"}

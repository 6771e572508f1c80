"""The code location loads and its graph runs source files -> staging -> linkage -> marts."""

import dagster as dg

from orchestration.definitions import build_definitions


def test_definitions_load_and_the_graph_has_every_layer(tmp_path) -> None:
    defs = build_definitions(str(tmp_path))
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "landing/school_census",
        "raw/school_census/pupilonroll",
        "raw/gp/registrations",
        "staging/stg_school_census__pupils",
        "staging/stg_gp__registrations",
        "intermediate/int_person_records_unioned",
        "linkage/person_key_bridge",
        "marts/dim_child",
    } <= keys

    def parents(key: str) -> set[str]:
        node = graph.get(dg.AssetKey.from_user_string(key))
        return {parent.to_user_string() for parent in node.parent_keys}

    assert "landing/school_census" in parents("raw/school_census/pupilonroll")
    assert "raw/school_census/pupilonroll" in parents("staging/stg_school_census__pupils")
    assert "raw/gp/registrations" in parents("staging/stg_gp__registrations")
    assert "intermediate/int_person_records_unioned" in parents("linkage/person_key_bridge")
    # Marts reach the bridge through the one model that reads it.
    assert parents("intermediate/int_person_keys") == {"linkage/person_key_bridge"}
    assert "intermediate/int_person_keys" in parents("marts/dim_child")
    assert "linkage/person_key_bridge" not in parents("marts/dim_child")


def test_dbt_tests_and_load_reconciliation_are_asset_checks(tmp_path) -> None:
    defs = build_definitions(str(tmp_path))
    checks = {key.to_user_string() for key in defs.resolve_asset_graph().asset_check_keys}
    assert "raw/gp/registrations:rows_reconcile" in checks
    # What no table models is kept and reported (WARN).
    assert "raw/gp/unmodelled:unmodelled_content" in checks
    assert "raw/looked_after/unmodelled:rows_reconcile" in checks
    assert any(check.startswith("marts/dim_child:unique_dim_child_person_key") for check in checks)


def test_a_backfill_of_a_sources_periods_is_one_run(tmp_path) -> None:
    """Selecting many periods of a raw asset in the UI launches one run over the range, which
    the loader takes period by period (the demo does the same from code)."""
    graph = build_definitions(str(tmp_path)).resolve_asset_graph()
    for key in ("raw/gp/registrations", "raw/school_census/pupilonroll"):
        policy = graph.get(dg.AssetKey.from_user_string(key)).backfill_policy
        assert policy is not None and policy.max_partitions_per_run is None, key


def test_identifiable_assets_have_their_own_group_a_tag_and_owners(tmp_path) -> None:
    """Identifiable marts sat in the same group as the pseudonymous ones, with no tag, and no
    asset had an owner."""
    from orchestration.definitions import build_definitions

    specs = {
        spec.key.to_user_string(): spec
        for spec in build_definitions(str(tmp_path)).resolve_all_asset_specs()
    }
    golden, dim_child = specs["restricted/child_golden_record"], specs["marts/dim_child"]
    assert golden.group_name == "restricted"
    assert golden.tags["personal_data"] == "identifiable"
    assert dim_child.group_name == "marts" and dim_child.tags["personal_data"] == "pseudonymous"
    assert specs["raw/gp/registrations"].tags["personal_data"] == "identifiable"
    assert specs["linkage/person_key_bridge"].tags["personal_data"] == "identifiable"
    # Every asset the warehouse builds has an owner from config/asset_owners.yaml.
    assert golden.owners == ["team:Social Care Systems"]
    assert all(spec.owners for spec in specs.values()), [
        key for key, spec in specs.items() if not spec.owners
    ]


def test_a_period_due_but_never_delivered_shows_as_a_missing_partition() -> None:
    from datetime import date

    from orchestration.automation import due_periods_sensor, missing_due_periods
    from orchestration.sources.partitions import periods_partitions

    gp = periods_partitions("gp").name
    with dg.DagsterInstance.ephemeral() as instance:
        # Nothing loaded yet: no start, nothing is due.
        assert missing_due_periods(instance, "gp", date(2025, 3, 20)) == []
        # October and December 2024 arrived; November never did, nor what fell due since.
        instance.add_dynamic_partitions(gp, ["2024-10", "2024-12"])
        assert missing_due_periods(instance, "gp", date(2025, 3, 20)) == [
            "2024-11",
            "2025-01",
            "2025-02",  # due on 5 March
        ]
        result = due_periods_sensor(dg.build_sensor_context(instance=instance))
        (request,) = [r for r in result.dynamic_partitions_requests if r.partitions_def_name == gp]
        assert "2024-11" in request.partition_keys
        # The School Census's terms, by its own calendar.
        sc = periods_partitions("school_census").name
        instance.add_dynamic_partitions(sc, ["2024-spring"])
        assert missing_due_periods(instance, "school_census", date(2025, 2, 1)) == [
            "2024-summer",
            "2024-autumn",
            "2025-spring",
        ]

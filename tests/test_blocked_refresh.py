"""A blocking check that fails holds back the marts and leaves the last publication in place,
in the real Dagster runtime: a raw period failing its critical expectations (next year's dates
delivered as this month) stops both declarative automation and a refresh launched by hand; a
key mart failing its suite stops the publication in the refresh run."""

import csv
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from linkage_ops.synthetic import generate_authority
from orchestration.definitions import build_definitions
from orchestration.jobs import REFRESH_JOB, ingest_job_name
from orchestration.runner import ingest_landing_folder, refresh_warehouse
from orchestration.sources.blocking import failed_blocking_checks

pytestmark = pytest.mark.integration

GP = dg.AssetKey(["raw", "gp", "registrations"])
STAGING_GP = dg.AssetKey(["staging", "stg_gp__registrations"])
STAGING_CYPS = dg.AssetKey(["staging", "stg_cyps__referrals"])
PUBLISHED = dg.AssetKey(["published", "marts"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small authority, loaded, refreshed and published, in a persistent test instance."""
    data_dir = tmp_path_factory.mktemp("authority")
    generate_authority(children=200, seed=8, out_dir=data_dir, months=1)
    defs = build_definitions(str(data_dir))
    with dg.instance_for_test() as instance:
        runs = ingest_landing_folder(defs, instance, data_dir / "landing")
        assert all(run.result.success for run in runs)
        assert refresh_warehouse(defs, instance).success
        yield data_dir, defs, instance


def publication(data_dir: Path) -> dict:
    return json.loads((data_dir / "published" / "publication.json").read_text())


def shift_registrations_after(gp_file: Path, day: str) -> None:
    """Every registration starting on ``day``: what next year's extract under this month's
    name looks like to the date-range expectations."""
    with gp_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["REGISTRATION_START_DATE"] = day
    with gp_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def load(defs: dg.Definitions, instance: dg.DagsterInstance, source: str, period: str):
    return defs.resolve_job_def(ingest_job_name(source)).execute_in_process(
        instance=instance, partition_key=period, raise_on_error=False
    )


def test_a_period_failing_a_blocking_check_holds_back_the_refresh(built) -> None:
    data_dir, defs, instance = built
    before = publication(data_dir)
    cursor = dg.evaluate_automation_conditions(defs=defs, instance=instance).cursor
    (gp_file,) = (data_dir / "landing" / "gp").glob("*/*.csv")
    period = gp_file.parent.name
    original = gp_file.read_text(encoding="utf-8")
    shift_registrations_after(gp_file, "2031-01-01")

    gp_run = load(defs, instance, "gp", period)
    (expectations,) = [
        e
        for e in gp_run.get_asset_check_evaluations()
        if e.asset_key == GP and e.check_name == "expectations"
    ]
    assert not expectations.passed
    assert "REGISTRATION_START_DATE" in expectations.metadata["seen"].value
    (cyps_period,) = [p.name for p in (data_dir / "landing" / "cyps").iterdir()]
    assert load(defs, instance, "cyps", cyps_period).success

    # Automation: the CYPS reload refreshes its staging model; GP's waits.
    automation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert automation.get_num_requested(STAGING_CYPS) == 1
    assert automation.get_num_requested(STAGING_GP) == 0

    # A refresh by hand stops at staging, naming the period and what the check saw.
    refused = refresh_warehouse(defs, instance)
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert f"raw/gp/registrations {period}: expectations" in message
    assert "REGISTRATION_START_DATE" in message
    assert not refused.get_asset_materialization_events()
    assert publication(data_dir) == before

    # The team may accept the period after review: the refresh then runs and publishes.
    accepted = defs.resolve_job_def(REFRESH_JOB).execute_in_process(
        instance=instance,
        run_config={
            "ops": {"dbt_staging_and_intermediate": {"config": {"accept_failed_checks": True}}}
        },
        raise_on_error=False,
    )
    assert accepted.success
    assert publication(data_dir)["published_at"] != before["published_at"]
    cursor = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=automation.cursor
    ).cursor

    # Fixing the delivery and reloading the period clears the hold.
    gp_file.write_text(original, encoding="utf-8")
    assert load(defs, instance, "gp", period).success
    automation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    assert automation.get_num_requested(STAGING_GP) == 1


def test_a_key_mart_failing_its_suite_keeps_the_last_publication(
    built, tmp_path: Path, monkeypatch
) -> None:
    data_dir, _, instance = built
    before = publication(data_dir)
    marts = tmp_path / "marts"
    marts.mkdir()
    impossible = {
        "name": "marts.dim_child",
        "expectations": [
            {
                "type": "expect_table_row_count_to_be_between",
                "kwargs": {"min_value": 0, "max_value": 1},
                "severity": "critical",
            }
        ],
        "meta": {"table": "marts.dim_child"},
    }
    (marts / "dim_child.json").write_text(json.dumps(impossible))
    monkeypatch.setattr("orchestration.sources.quality_checks.EXPECTATIONS_DIR", tmp_path)
    defs = build_definitions(str(data_dir))

    refresh = refresh_warehouse(defs, instance)
    (check,) = [e for e in refresh.get_asset_check_evaluations() if e.check_name == "expectations"]
    assert check.asset_key.path[-1] == "dim_child" and not check.passed
    built_keys = {e.asset_key for e in refresh.get_asset_materialization_events()}
    assert dg.AssetKey(["marts", "dim_child"]) in built_keys  # the marts were rebuilt
    assert PUBLISHED not in built_keys  # but not published
    assert publication(data_dir) == before


def test_a_broken_file_fails_alone_an_unknown_one_is_kept_and_the_refresh_waits(built) -> None:
    data_dir, defs, instance = built
    folder = next((data_dir / "landing" / "camhs").iterdir())
    period = folder.name
    (referrals,) = folder.glob("MHS101Referral_*.csv")
    original = referrals.read_text(encoding="utf-8")
    header, *rows = original.splitlines()
    # The supplier dropped a required column; and sent a file no table models.
    keep = [i for i, name in enumerate(header.split(",")) if name != "ReferralRequestReceivedDate"]
    referrals.write_text(
        "\n".join(",".join(line.split(",")[i] for i in keep) for line in [header, *rows]) + "\n",
        encoding="utf-8",
    )
    unknown = folder / "waiting_list_snapshot.csv"
    unknown.write_text("Team,Waiting\nCAMHS North,41\nCAMHS South,37\n", encoding="utf-8")

    run = load(defs, instance, "camhs", period)
    assert not run.success
    (failure,) = [e for e in run.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert referrals.name in message and "ReferralRequestReceivedDate" in message
    # The readable table still loaded, and the unknown file was kept and reported (WARN).
    mpi = [e for e in run.get_asset_materialization_events() if e.asset_key.path[-1] == "mpi"]
    assert mpi and mpi[0].materialization.metadata["rows_loaded"].value > 0
    checks = {(e.asset_key.path[-1], e.check_name): e for e in run.get_asset_check_evaluations()}
    assert not checks[("referrals", "rows_reconcile")].passed
    assert not checks[("mpi", "rows_reconcile")].passed  # the period is incomplete
    assert referrals.name in checks[("mpi", "rows_reconcile")].metadata["seen"].value
    unmodelled = checks[("unmodelled", "unmodelled_content")]
    assert not unmodelled.passed and unmodelled.severity == dg.AssetCheckSeverity.WARN
    assert unknown.name in unmodelled.metadata["seen"].value

    # A refresh by hand waits for the delivery to be fixed, naming the file.
    refused = refresh_warehouse(defs, instance)
    assert not refused.success
    (failure,) = [e for e in refused.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert f"{period}: rows_reconcile" in message and referrals.name in message
    assert message.count(referrals.name) == 1  # said once, not once per table

    # The fixed delivery reloads cleanly; the unknown file stays kept, as a warning only.
    referrals.write_text(original, encoding="utf-8")
    fixed = load(defs, instance, "camhs", period)
    assert fixed.success
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        assert failed_blocking_checks(instance, con) == []
        kept = con.execute(
            "select count(*) from raw.unmodelled_rows where source = 'camhs' and period = ?",
            [period],
        ).fetchone()[0]
    assert kept == 2
    unknown.unlink()

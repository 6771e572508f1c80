"""Schedules follow the collection calendar; the landing sensor turns new files into runs."""

from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from linkage_ops.synthetic import generate_authority
from orchestration.automation import calendar_schedule, landing_folder_sensor
from orchestration.definitions import build_definitions
from orchestration.resources import WarehouseResource
from orchestration.runner import ingest_landing_folder
from orchestration.settings import SOURCES
from orchestration.sources.partitions import periods_partitions


def evaluate_schedule(source: str, when: datetime, instance: dg.DagsterInstance) -> list[str]:
    """The partitions the schedule asks for at ``when`` (none when it skips)."""
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    result = calendar_schedule(source)(context)
    if isinstance(result, dg.SkipReason):
        return []
    return [request.partition_key for request in result]


def test_the_school_census_schedule_asks_for_the_term_a_week_after_census_day() -> None:
    with dg.instance_for_test() as instance:
        due = evaluate_schedule("school_census", datetime(2024, 10, 10, 6), instance)
        assert due == ["2024-autumn"]
        assert instance.has_dynamic_partition("school_census_periods", "2024-autumn")
        assert evaluate_schedule("school_census", datetime(2024, 10, 9, 6), instance) == []
        spring = evaluate_schedule("school_census", datetime(2025, 1, 23, 6), instance)
        assert spring == ["2025-spring"]


def test_annual_and_monthly_schedules() -> None:
    with dg.instance_for_test() as instance:
        assert evaluate_schedule("children_in_need", datetime(2025, 4, 1, 6), instance) == [
            "2024-25"
        ]
        assert evaluate_schedule("gp", datetime(2025, 4, 5, 6), instance) == ["2025-03"]
        assert evaluate_schedule("gp", datetime(2025, 4, 6, 6), instance) == []


def test_every_source_has_a_schedule_and_the_sensor_is_registered(tmp_path: Path) -> None:
    defs = build_definitions(str(tmp_path))
    names = {schedule.name for schedule in defs.schedules}
    assert {"school_census_calendar", "sen2_calendar", "looked_after_calendar"} <= names
    assert "landing_folder" in {sensor.name for sensor in defs.sensors}


def deliver(landing: Path, source: str, period: str, name: str, text: str) -> None:
    folder = landing / source / period
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def run_sensor(
    instance: dg.DagsterInstance, data_dir: Path, cursor: str | None = None
) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance,
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
        cursor=cursor,
    )
    return landing_folder_sensor(context)


def test_a_new_file_becomes_a_run_for_its_partition(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    deliver(landing, "gp", "2025-04", "gp_registrations_2025-04.csv", "header\n")
    (landing / "gp" / "2025-05").mkdir(parents=True)  # an empty folder is not a delivery
    with dg.instance_for_test() as instance:
        result = run_sensor(instance, tmp_path)
        assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
            ("ingest_gp", "2025-04")
        ]
        (added,) = result.dynamic_partitions_requests
        assert (added.partitions_def_name, list(added.partition_keys)) == (
            "gp_periods",
            ["2025-04"],
        )
        # The same files are not asked for again; a redelivery is, under a new run key.
        again = run_sensor(instance, tmp_path, result.cursor)
        assert again.run_requests == []
        deliver(landing, "gp", "2025-04", "gp_registrations_2025-04.csv", "header\nrow\n")
        redelivery = run_sensor(instance, tmp_path, again.cursor)
        (request,) = redelivery.run_requests
        assert request.partition_key == "2025-04"
        assert request.run_key != result.run_requests[0].run_key


@pytest.mark.integration
def test_files_already_loaded_are_not_loaded_again(tmp_path: Path) -> None:
    """Turning the sensor on over a landing folder that was loaded by hand (or by make demo)
    asks only for the periods whose files differ from what raw.load_log says was loaded."""
    generate_authority(children=30, seed=2, out_dir=tmp_path, months=1)
    defs = build_definitions(str(tmp_path))
    with dg.instance_for_test() as instance:
        ingest_landing_folder(defs, instance, tmp_path / "landing")
        assert run_sensor(instance, tmp_path).run_requests == []
        (gp_file,) = (tmp_path / "landing" / "gp").glob("*/*.csv")
        gp_file.write_text(gp_file.read_text() + gp_file.read_text().splitlines()[-1] + "\n")
        (request,) = run_sensor(instance, tmp_path).run_requests
        assert (request.job_name, request.partition_key) == ("ingest_gp", gp_file.parent.name)


def report_built(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    keys: list[dg.AssetKey],
    failed_check: tuple[dg.AssetKey, str] | None = None,
) -> None:
    """Record that ``keys`` were materialized (raw ones for period 2025-03) and that their
    checks ran and passed, except ``failed_check`` (an asset and a check name)."""
    graph = defs.resolve_asset_graph()
    for key in keys:
        partition = "2025-03" if key.path[0] == "raw" else None
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=key, partition=partition)
        )
        for check in graph.get_check_keys_for_assets({key}):
            spec = graph.get_check_spec(check)
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(
                    asset_key=key,
                    check_name=check.name,
                    passed=failed_check != (key, check.name),
                    severity=dg.AssetCheckSeverity.ERROR
                    if spec.blocking
                    else dg.AssetCheckSeverity.WARN,
                )
            )


@pytest.mark.integration
def test_downstream_assets_refresh_after_a_source_loads(tmp_path: Path) -> None:
    """Declarative automation, evaluated tick by tick: a newly loaded source period refreshes
    staging; fresh person records refresh linkage, the marts and the publication."""
    defs = build_definitions(str(tmp_path))
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()

    def layer(name: str) -> list[dg.AssetKey]:
        return [key for key in keys if key.path[0] == name]

    with dg.instance_for_test() as instance:
        for source in SOURCES:
            instance.add_dynamic_partitions(periods_partitions(source).name, ["2025-03"])
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert result.total_requested == 0  # nothing loaded yet, nothing to refresh

        def load(asset_keys: list[dg.AssetKey]):
            report_built(instance, defs, asset_keys)
            return dg.evaluate_automation_conditions(
                defs=defs, instance=instance, cursor=result.cursor
            )

        def requested(evaluation) -> set[str]:
            return {key.path[0] for key in keys if evaluation.get_num_requested(key)}

        result = load(layer("raw"))
        assert requested(result) == {"staging"}
        # Fresh person records: linkage, then the marts (once their inputs' checks passed),
        # then the publication refresh; afterwards nothing is asked for until a source changes.
        result = load(layer("staging") + layer("reference") + layer("intermediate"))
        seen, last = [], set()
        while requested(result):
            seen.append(requested(result))
            last = {key for key in keys if result.get_num_requested(key)}
            result = load(list(last))
        assert "linkage" in seen[0]
        # (int_person_keys, in the intermediate group, reads what linkage wrote.)
        assert set().union(*seen) == {
            "linkage",
            "intermediate",
            "marts",
            "restricted",
            "published",
        }
        # Last, the publication and the death notifications, which tell services where the
        # published do-not-contact list is.
        notifications = dg.AssetKey(["restricted", "death_notifications"])
        assert notifications in last
        assert last <= {dg.AssetKey(["published", "marts"]), notifications}


def staging_requested_after_gp_reload(tmp_path: Path, failed_check: str | None) -> bool:
    """Build GP's raw table and staging model once, reload one GP period whose
    ``failed_check`` failed (None: every check passed), and say whether its staging model is
    asked for. (Only the staging model's lineage is built and evaluated: the rest of the graph
    does not bear on it.)"""
    defs = build_definitions(str(tmp_path))
    gp = dg.AssetKey(["raw", "gp", "registrations"])
    staging = dg.AssetKey(["staging", "stg_gp__registrations"])
    selection = dg.AssetSelection.assets(staging)
    lineage = list(dg.AssetSelection.assets(staging).upstream().resolve(defs.resolve_asset_graph()))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(periods_partitions("gp").name, ["2025-03"])
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection
        )
        report_built(instance, defs, lineage)
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=result.cursor
        )
        assert not result.get_num_requested(staging)  # built, nothing new
        report_built(instance, defs, [gp], (gp, failed_check) if failed_check else None)
        result = dg.evaluate_automation_conditions(
            defs=defs, instance=instance, asset_selection=selection, cursor=result.cursor
        )
        return bool(result.get_num_requested(staging))


def test_a_failed_blocking_check_stops_the_refresh(tmp_path: Path) -> None:
    """A raw table whose expectations failed with ERROR severity is not refreshed from: its
    staging model, and so linkage, the marts and the publication, wait (the last publication
    stays). Passing expectations, or a WARN failure, do not stop anything."""
    assert staging_requested_after_gp_reload(tmp_path / "passed", None)
    assert staging_requested_after_gp_reload(tmp_path / "warn", "expectation_warnings")
    assert not staging_requested_after_gp_reload(tmp_path / "error", "expectations")


def test_each_schedule_carries_its_real_days_in_london_time(tmp_path: Path) -> None:
    """Every schedule showed "06:00 AM UTC" daily: the cadence was hidden in code."""
    schedules = {s.name: s for s in build_definitions(str(tmp_path)).schedules}
    crons = {
        "school_census": ["0 6 22-28 1,5 *", "0 6 8-14 10 *"],  # a week after a census day
        "sen2": ["0 6 22-28 1 *"],  # a week after the third Thursday of January
        "children_in_need": ["0 6 1 4 *"],  # the day after the 31 March year end
        "gp": ["0 6 5 * *"],  # the 5th, for the month before
    }
    for source, expected in crons.items():
        schedule = schedules[f"{source}_calendar"]
        assert list(schedule.cron_schedule) == expected, source
        assert schedule.execution_timezone == "Europe/London"
    assert all(s.execution_timezone == "Europe/London" for s in schedules.values())
    # The schedule fires only on days the calendar can name a period for; in a given year the
    # calendar still decides (the third Thursday of January 2025 is the 16th: due the 23rd).
    with dg.instance_for_test() as instance:
        assert evaluate_schedule("sen2", datetime(2025, 1, 23, 6), instance) == ["2025"]
        assert evaluate_schedule("sen2", datetime(2025, 1, 24, 6), instance) == []

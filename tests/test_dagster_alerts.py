"""A broken delivery fails its run, and the failure sensor alerts through every sink: a real
HTTP webhook and a real SMTP server on 127.0.0.1, the operations.alerts table and the log."""

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_alerts import mail_server, webhook  # noqa: F401 (fixtures: real servers)

from linkage_ops.census_calendar import latest_period_due
from linkage_ops.ingest.raw_store import ensure_warehouse_tables
from linkage_ops.synthetic import generate_authority
from orchestration.alerts import alert_on_run_failure, check_freshness
from orchestration.definitions import build_definitions
from orchestration.jobs import ingest_job_name
from orchestration.resources import WarehouseResource
from orchestration.settings import SOURCES
from orchestration.sources.assets import landing_files_spec
from orchestration.sources.freshness import freshness_checks, freshness_key
from orchestration.sources.partitions import periods_partitions


def gp_run(
    instance: dg.DagsterInstance, tmp_path: Path, break_file
) -> tuple[dg.ExecuteInProcessResult, Path]:
    """Load one month of GP registrations after ``break_file`` has damaged the file."""
    generate_authority(children=40, seed=5, out_dir=tmp_path, months=1)
    (gp_file,) = (tmp_path / "landing" / "gp").glob("*/*.csv")
    break_file(gp_file)
    period = gp_file.parent.name
    defs = build_definitions(str(tmp_path))
    instance.add_dynamic_partitions(periods_partitions("gp").name, [period])
    result = defs.resolve_job_def(ingest_job_name("gp")).execute_in_process(
        instance=instance, partition_key=period, raise_on_error=False
    )
    assert not result.success
    return result, gp_file


def run_failure_context(instance, result, data_dir: Path) -> dg.RunFailureSensorContext:
    (failure,) = [
        entry.dagster_event
        for entry in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    ]
    return dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id),
        dagster_event=failure,
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
    ).for_run_failure()


@pytest.fixture
def failed_gp_run(tmp_path: Path):
    with dg.instance_for_test() as instance:
        result, gp_file = gp_run(
            instance,
            tmp_path,
            lambda path: path.write_text("REGISTRATION_ID,NHS_NUMBER\n1,9434765919\n"),
        )
        yield tmp_path, instance, result, gp_file


def test_a_broken_file_raises_an_alert_through_every_sink(
    failed_gp_run,
    webhook,  # noqa: F811
    mail_server,  # noqa: F811
    monkeypatch,
) -> None:
    data_dir, instance, result, gp_file = failed_gp_run
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{webhook.server_address[1]}/dq")
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", str(mail_server.server_address[1]))
    monkeypatch.setenv("ALERT_SMTP_SENDER", "warehouse@la.example")
    monkeypatch.setenv("ALERT_SMTP_RECIPIENTS", "dq-team@la.example")
    alert_on_run_failure(run_failure_context(instance, result, data_dir))

    (post,) = webhook.posts
    alert = post.body["alert"]
    assert (alert["source"], alert["period"], alert["check"]) == (
        "gp",
        gp_file.parent.name,
        "ingest_gp",
    )
    assert gp_file.name in alert["seen"] and "missing required columns" in alert["seen"]
    (delivery,) = mail_server.mailbox.deliveries
    assert delivery.rcpt_to == ["dq-team@la.example"]
    assert "gp" in delivery.message["Subject"] and gp_file.name in delivery.message.get_content()
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute('select source, "check", delivered_to from operations.alerts').fetchall()
    finally:
        con.close()
    assert rows == [("gp", "ingest_gp", ["webhook", "email"])]
    (line,) = (data_dir / "logs" / "alerts.log").read_text().splitlines()
    assert json.loads(line)["run_id"] == result.run_id


def test_a_run_stopped_by_a_blocking_check_alerts_what_the_check_saw(
    tmp_path: Path,
    webhook,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{webhook.server_address[1]}/dq")

    def repeat_last_row(path: Path) -> None:  # the same REGISTRATION_ID twice in one file
        path.write_text(path.read_text() + path.read_text().splitlines()[-1] + "\n")

    with dg.instance_for_test() as instance:
        result, gp_file = gp_run(instance, tmp_path, repeat_last_row)
        alert_on_run_failure(run_failure_context(instance, result, tmp_path))
    alerts = [post.body["alert"] for post in webhook.posts]
    assert [(a["kind"], a["check"]) for a in alerts] == [
        ("run_failed", "ingest_gp"),
        ("check_failed", "raw/gp/registrations expectations"),
    ]
    assert alerts[1]["period"] == gp_file.parent.name
    assert "expect_compound_columns_to_be_unique" in alerts[1]["seen"]


@pytest.fixture
def gp_warehouse(tmp_path: Path) -> WarehouseResource:
    """A warehouse whose load log holds GP January and February 2025."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_warehouse_tables(con)
    con.execute(
        "insert into raw.load_log (source, period) values ('gp', '2025-01'), ('gp', '2025-02')"
    )
    con.close()
    return WarehouseResource(data_dir=str(tmp_path))


def test_an_overdue_source_fails_its_freshness_check_and_is_alerted_once(
    gp_warehouse,
    webhook,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{webhook.server_address[1]}/dq")
    cursor = None

    def tick(day: date) -> dg.SensorResult:
        nonlocal cursor
        context = dg.build_sensor_context(resources={"warehouse": gp_warehouse}, cursor=cursor)
        result = check_freshness(context, gp_warehouse, day)
        cursor = result.cursor
        return result

    def gp_checks(result: dg.SensorResult) -> list[dg.AssetCheckEvaluation]:
        return [e for e in result.asset_events if e.asset_key == freshness_key("gp").asset_key]

    # GP 2025-03 fell due on 5 April and may be ten days late: fresh on the 15th, overdue on
    # the 16th, and alerted once however often the sensor looks.
    fresh = tick(date(2025, 4, 15))
    assert "gp 2025" not in fresh.skip_reason.skip_message
    assert [(e.check_name, e.passed) for e in gp_checks(fresh)] == [("freshness", True)]
    # Every source has its check reported on the first tick; the others never loaded.
    assert len(fresh.asset_events) == len(SOURCES)
    overdue = tick(date(2025, 4, 16))
    assert "gp 2025-03" in overdue.skip_reason.skip_message
    (failed,) = gp_checks(overdue)
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.WARN
    assert failed.metadata["overdue_period"].value == "2025-03"
    assert failed.metadata["latest_loaded"].value == "2025-02"
    # Nothing changed on the 17th: still overdue, not reported or alerted again.
    again = tick(date(2025, 4, 17))
    assert "gp 2025-03" in again.skip_reason.skip_message
    assert gp_checks(again) == []
    gp_alerts = [p.body["alert"] for p in webhook.posts if p.body["alert"]["source"] == "gp"]
    assert [(a["kind"], a["period"]) for a in gp_alerts] == [("source_overdue", "2025-03")]
    assert "2025-03 fell due more than 10 days ago" in gp_alerts[0]["seen"]


def freshness_definitions(warehouse: WarehouseResource) -> dg.Definitions:
    """The landing assets and their freshness checks, with a job that runs the checks."""
    return dg.Definitions(
        assets=[landing_files_spec(source) for source in SOURCES],
        asset_checks=[freshness_checks],
        jobs=[
            dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(freshness_checks))
        ],
        resources={"warehouse": warehouse},
    )


def test_the_freshness_checks_run_in_dagster_on_each_landing_asset(gp_warehouse) -> None:
    today = date.today()
    con = duckdb.connect(str(gp_warehouse.database_path))
    con.execute(
        "insert into raw.load_log (source, period) values ('gp', ?)",
        [latest_period_due("gp", today)],
    )
    con.close()
    defs = freshness_definitions(gp_warehouse)
    result = defs.resolve_job_def("freshness").execute_in_process()
    outcomes = {e.asset_key.path[-1]: e.passed for e in result.get_asset_check_evaluations()}
    assert outcomes["gp"] is True
    # No period of these was ever loaded and each has fallen due.
    assert outcomes["school_census"] is False and outcomes["births"] is False
    assert set(outcomes) == set(SOURCES)


def test_a_freshness_check_run_by_hand_is_not_alerted_a_second_time(
    gp_warehouse,
    webhook,  # noqa: F811
    monkeypatch,
) -> None:
    """Overdue sources are the source_freshness sensor's to alert, once per period; the
    failed-checks sensor alerted a hand-run freshness check again."""
    from orchestration.alerts import alert_failed_checks

    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{webhook.server_address[1]}/dq")
    defs = freshness_definitions(gp_warehouse)
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
        assert not all(e.passed for e in result.get_asset_check_evaluations())
        alert_failed_checks(instance, instance.get_run_by_id(result.run_id), gp_warehouse)
    assert webhook.posts == []

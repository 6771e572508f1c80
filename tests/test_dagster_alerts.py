"""A broken delivery fails its run, and the failure sensor alerts through every sink: a real
HTTP webhook and a real SMTP server on 127.0.0.1, the operations.alerts table and the log."""

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from test_alerts import mail_server, webhook  # noqa: F401 (fixtures: real servers)

from linkage_ops.synthetic import generate_authority
from orchestration.alerts import alert_on_run_failure, check_freshness
from orchestration.definitions import build_definitions
from orchestration.jobs import ingest_job_name
from orchestration.resources import WarehouseResource
from orchestration.sources.partitions import periods_partitions


@pytest.fixture
def failed_gp_run(tmp_path: Path):
    generate_authority(children=40, seed=5, out_dir=tmp_path, months=1)
    (gp_file,) = (tmp_path / "landing" / "gp").glob("*/*.csv")
    gp_file.write_text("REGISTRATION_ID,NHS_NUMBER\n1,9434765919\n")
    period = gp_file.parent.name
    defs = build_definitions(str(tmp_path))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(periods_partitions("gp").name, [period])
        result = defs.resolve_job_def(ingest_job_name("gp")).execute_in_process(
            instance=instance, partition_key=period, raise_on_error=False
        )
        assert not result.success
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
    run = instance.get_run_by_id(result.run_id)
    (failure,) = [
        entry.dagster_event
        for entry in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    ]
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure,
        resources={"warehouse": WarehouseResource(data_dir=str(data_dir))},
    ).for_run_failure()
    alert_on_run_failure(context)

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


def test_an_overdue_source_is_alerted_once(tmp_path: Path, webhook, monkeypatch) -> None:  # noqa: F811
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.load_log (source varchar, period varchar)")
    con.execute("insert into raw.load_log values ('gp', '2025-01'), ('gp', '2025-02')")
    con.close()
    warehouse = WarehouseResource(data_dir=str(tmp_path))
    context = dg.build_sensor_context(resources={"warehouse": warehouse})
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{webhook.server_address[1]}/dq")
    # GP 2025-03 fell due on 5 April and may be ten days late: fresh on the 15th, overdue on
    # the 16th, and alerted once however often the sensor looks.
    assert "gp 2025" not in check_freshness(context, warehouse, date(2025, 4, 15)).skip_message
    assert "gp 2025-03" in check_freshness(context, warehouse, date(2025, 4, 16)).skip_message
    assert "gp 2025-03" in check_freshness(context, warehouse, date(2025, 4, 17)).skip_message
    gp_alerts = [p.body["alert"] for p in webhook.posts if p.body["alert"]["source"] == "gp"]
    assert [(a["kind"], a["period"]) for a in gp_alerts] == [("source_overdue", "2025-03")]

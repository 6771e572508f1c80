"""Death notifications: a death linked to a child is told once to the services holding the
child, through real local HTTP and SMTP servers; an unlinked death waits first in review."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_alerts import (  # noqa: F401 (fixtures: real servers)
    SENDER,
    SmtpServer,
    WebhookServer,
    hook_url,
    mail_server,
    webhook,
)

from linkage_ops.alerts import AlertSettings
from linkage_ops.death_notifications import NOTIFICATIONS_TABLE, notify_deaths
from linkage_ops.linkage import link_records

APP = "http://127.0.0.1:8000"


def make_warehouse(path: Path, children: dict[str, dict]) -> None:
    """The tables the notifications read, as dbt and the linkage write them: the restricted
    do-not-contact list, the person-key bridge and the deaths staging view's columns."""
    dead, bridge, deaths = [], [], []
    for key, child in children.items():
        if child.get("died_on"):
            dead.append({"person_key": key, "died_on": child["died_on"]})
        for source, record in child["records"]:
            bridge.append({"source": source, "record_id": record, "person_key": key})
            if source == "deaths":
                deaths.append({"person_record_id": record, "extract_period": record[7:14]})
    con = duckdb.connect(str(path))
    try:
        for schema, table, rows in (
            ("restricted", "do_not_contact", dead),
            ("linkage", "person_key_bridge", bridge),
            ("staging", "stg_deaths__deaths", deaths),
        ):
            frame = pd.DataFrame(rows)  # noqa: F841 (read by DuckDB by name)
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create or replace table {schema}.{table} as select * from frame")
    finally:
        con.close()


CHILDREN = {
    # Known to education and social care; died in the latest extract.
    "P000000001": {
        "died_on": date(2025, 3, 2),
        "records": [
            ("deaths", "deaths:2025-03/1"),
            ("school_census", "school_census:2024-autumn/a"),
            ("children_in_need", "children_in_need:2024-25/b"),
        ],
    },
    # Died long before: the first notifications do not send it (backlog).
    "P000000002": {
        "died_on": date(2024, 5, 1),
        "records": [("deaths", "deaths:2024-05/1"), ("gp", "gp:2024-04/9")],
    },
    # A death linked to nobody: nobody to tell (the review queue has it).
    "P000000003": {"died_on": date(2025, 3, 9), "records": [("deaths", "deaths:2025-03/2")]},
    # Alive.
    "P000000004": {"records": [("sen2", "sen2:2025/x"), ("gp", "gp:2025-03/4")]},
}


def mail_settings(hook: WebhookServer, mail: SmtpServer) -> AlertSettings:
    return AlertSettings(
        webhook_url=hook_url(hook),
        smtp_host="127.0.0.1",
        smtp_port=mail.server_address[1],
        smtp_sender=SENDER,
        smtp_recipients=("duty@la.example",),
        service_recipients={
            "education": ("inclusion@la.example",),
            "social_care": ("front-door@la.example",),
            "send": ("send-team@la.example",),
        },
    )


def test_a_linked_death_is_told_once_to_the_services_that_hold_the_child(
    tmp_path: Path,
    webhook: WebhookServer,  # noqa: F811
    mail_server: SmtpServer,  # noqa: F811
) -> None:
    database, log = tmp_path / "warehouse.duckdb", tmp_path / "alerts.jsonl"
    make_warehouse(database, CHILDREN)
    settings = mail_settings(webhook, mail_server)

    notified = notify_deaths(database, settings, log, APP, run_id="run-1")
    assert [notice.person_key for notice in notified] == ["P000000001"]
    assert notified[0].services == ("education", "social_care")
    (post,) = webhook.posts
    alert = post.body["alert"]
    assert alert["kind"] == "death_notification" and "P000000001" in alert["seen"]
    assert "Education" in alert["seen"] and "Children's social care" in alert["seen"]
    assert post.body["link"] == f"{APP}/restricted/?mart=do_not_contact&person_key=P000000001"
    (delivery,) = mail_server.mailbox.deliveries
    # The duty inbox and the two services that hold the child; not SEND.
    assert sorted(delivery.rcpt_to) == [
        "duty@la.example",
        "front-door@la.example",
        "inclusion@la.example",
    ]
    assert "P000000001" in delivery.message.get_content()

    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            f"select person_key, sent, note, delivered_to from {NOTIFICATIONS_TABLE} "
            "order by person_key"
        ).fetchall()
    finally:
        con.close()
    assert rows == [
        ("P000000001", True, None, ["webhook", "email"]),
        ("P000000002", False, rows[1][2], []),
    ]
    assert rows[1][2].startswith("backlog")

    # The next refresh tells nobody again; nor does a new key for the same death record.
    assert notify_deaths(database, settings, log, APP) == []
    rekeyed = {"P000000009" if key == "P000000001" else key: c for key, c in CHILDREN.items()}
    make_warehouse(database, rekeyed)
    assert notify_deaths(database, settings, log, APP) == []
    assert len(webhook.posts) == 1 and len(mail_server.mailbox.deliveries) == 1

    # A new death is sent at once, whatever its extract (the backlog rule was for the start).
    later = CHILDREN | {
        "P000000004": CHILDREN["P000000004"]
        | {
            "died_on": date(2025, 1, 5),
            "records": [*CHILDREN["P000000004"]["records"], ("deaths", "deaths:2025-01/7")],
        }
    }
    make_warehouse(database, later)
    (notice,) = notify_deaths(database, settings, log, APP)
    assert notice.person_key == "P000000004" and notice.services == ("send", "health")
    assert "send-team@la.example" in mail_server.mailbox.deliveries[-1].rcpt_to


def test_a_notification_no_sink_accepted_is_tried_again(
    tmp_path: Path,
    webhook: WebhookServer,  # noqa: F811
) -> None:
    database, log = tmp_path / "warehouse.duckdb", tmp_path / "alerts.jsonl"
    make_warehouse(database, CHILDREN)
    webhook.status = 500
    settings = AlertSettings(webhook_url=hook_url(webhook), repeat_hours=0)
    assert notify_deaths(database, settings, log, APP) == []
    webhook.status = 200
    (notice,) = notify_deaths(database, settings, log, APP)
    assert notice.person_key == "P000000001"
    failed = json.loads(log.read_text().splitlines()[0])
    assert failed["delivered_to"] == [] and failed["kind"] == "death_notification"


def test_nothing_is_due_before_the_marts_exist(tmp_path: Path) -> None:
    database = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(database)).close()
    assert notify_deaths(database, AlertSettings(), tmp_path / "a.jsonl", APP) == []


def _gp_records(count: int) -> list[dict[str, str]]:
    firsts = ["Amelia", "Noah", "Isla", "Leo", "Ava", "Oscar", "Mia", "Theo", "Zara", "Kai"]
    lasts = ["Khan", "Evans", "Nowak", "Begum", "Murphy", "Silva", "Okafor", "Chen", "Shaw"]
    rows = []
    for i in range(count):
        child = {
            "first_name": firsts[i % len(firsts)],
            "last_name": f"{lasts[i % len(lasts)]}{'son' * (i // 30)}",
            "date_of_birth": str(pd.Timestamp("2012-01-01") + pd.Timedelta(days=41 * i))[:10],
            "sex": "F" if i % 2 else "M",
            "postcode": f"HR{1 + i % 9} {i % 10}AB",
        }
        for source in ("gp", "school_census"):
            rows.append(child | {"record_id": f"{source}:{i}", "source": source})
    return rows


def test_a_death_that_links_to_nobody_is_the_first_pair_in_review() -> None:
    records = _gp_records(120)
    # Child 7's death: surname misspelt, birth date a year out, another postcode, no NHS number.
    child = records[14]
    records.append(
        child
        | {
            "record_id": "deaths:2025-03/1",
            "source": "deaths",
            "last_name": child["last_name"][::-1],
            "date_of_birth": str(int(child["date_of_birth"][:4]) + 1) + child["date_of_birth"][4:],
            "postcode": "HR9 9ZZ",
        }
    )
    result = link_records(pd.DataFrame(records))
    bridge = result.bridge.set_index("record_id").person_key
    assert bridge["deaths:2025-03/1"] != bridge["gp:7"]  # it did not link
    first = result.review_queue.iloc[0]
    assert first.impact == "unlinked_first"
    assert "deaths:2025-03/1" in (first.record_id_l, first.record_id_r)
    partner = ({first.record_id_l, first.record_id_r} - {"deaths:2025-03/1"}).pop()
    assert bridge[partner] == bridge["gp:7"]  # its likeliest candidate is the child

    # Once linked (a reviewer's match), nothing about it waits first.
    decided = pd.DataFrame(
        {"record_id_l": ["deaths:2025-03/1"], "record_id_r": ["gp:7"], "decision": ["match"]}
    )
    after = link_records(pd.DataFrame(records), decisions=decided)
    assert "unlinked_first" not in set(after.review_queue.impact)
    assert (
        after.bridge.set_index("record_id").person_key["deaths:2025-03/1"]
        == (after.bridge.set_index("record_id").person_key["gp:7"])
    )


# --- end to end: the real Dagster refresh, the real servers ---------------------------------


def _ingest(defs, instance, landing: Path, source: str, periods: list[str]) -> None:
    from orchestration.jobs import ingest_job_name
    from orchestration.sources.partitions import periods_partitions, range_tags

    name = periods_partitions(source).name
    instance.add_dynamic_partitions(name, periods)
    job = defs.resolve_job_def(ingest_job_name(source))
    result = job.execute_in_process(instance=instance, tags=range_tags(periods[0], periods[-1]))
    assert result.success


def _query(database: Path, sql: str, parameters: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql, parameters or []).df()
    finally:
        con.close()


@pytest.mark.integration
def test_a_child_known_to_social_care_and_education_dies_and_is_notified_once(
    tmp_path: Path,
    webhook: WebhookServer,  # noqa: F811
    mail_server: SmtpServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dagster as dg

    from linkage_ops.synthetic import generate_authority
    from orchestration.definitions import build_definitions
    from orchestration.runner import ingest_landing_folder, refresh_warehouse

    for name, value in {
        "ALERT_WEBHOOK_URL": hook_url(webhook),
        "ALERT_SMTP_HOST": "127.0.0.1",
        "ALERT_SMTP_PORT": str(mail_server.server_address[1]),
        "ALERT_SMTP_SENDER": SENDER,
        "ALERT_SMTP_RECIPIENTS": "duty@la.example",
        "ALERT_SMTP_RECIPIENTS_SOCIAL_CARE": "front-door@la.example",
        "APP_BASE_URL": "https://warehouse.la.example",
    }.items():
        monkeypatch.setenv(name, value)
    data_dir = tmp_path / "authority"
    generate_authority(children=600, seed=5, out_dir=data_dir, months=2)
    database, landing = data_dir / "warehouse.duckdb", data_dir / "landing"
    defs = build_definitions(str(data_dir))
    with dg.DagsterInstance.ephemeral() as instance:
        for run in ingest_landing_folder(defs, instance, landing):
            assert run.result.success
        assert refresh_warehouse(defs, instance).success

        # A living child known to children's social care and on the school roll, with an NHS
        # number (the deaths feed carries one).
        child = _query(
            database,
            """
            select golden.*
            from restricted.child_golden_record as golden
            inner join marts.dim_child as dim using (person_key)
            where not dim.is_deceased and dim.is_ever_cin and dim.is_on_latest_school_census
                and golden.nhs_number is not null and golden.postcode is not null
            order by person_key limit 1
            """,
        ).iloc[0]
        key = child.person_key
        # Their death, in the next month's deaths extract, as the feed's layout writes it.
        latest = max(path.name for path in (landing / "deaths").iterdir())
        period = (pd.Period(latest, "M") + 1).strftime("%Y-%m")
        folder = landing / "deaths" / period
        folder.mkdir()
        died_on = (pd.Period(period, "M").start_time + pd.Timedelta(days=9)).date()
        pd.DataFrame(
            [
                {
                    "DEATH_ID": 901,
                    "NHS_NUMBER": child.nhs_number,
                    "FORENAME": child.first_name,
                    "SURNAME": child.last_name,
                    "DATE_OF_BIRTH": f"{child.date_of_birth:%Y-%m-%d}",
                    "DATE_OF_DEATH": f"{died_on:%Y-%m-%d}",
                    "SEX": {"M": "1", "F": "2"}.get(child.sex, "9"),
                    "POSTCODE": child.postcode,
                    "CAUSE_OF_DEATH": "J189",
                }
            ]
        ).to_csv(folder / f"deaths_{period}.csv", index=False)
        posts_before = len(webhook.posts)
        mails_before = len(mail_server.mailbox.deliveries)

        _ingest(defs, instance, landing, "deaths", [period])
        assert refresh_warehouse(defs, instance).success

        new_posts = webhook.posts[posts_before:]
        about = [post for post in new_posts if key in post.body["alert"]["seen"]]
        assert len(about) == 1 and len(new_posts) == 1
        alert = about[0].body["alert"]
        assert alert["kind"] == "death_notification"
        assert "Children's social care" in alert["seen"] and "Education" in alert["seen"]
        assert about[0].body["link"].startswith("https://warehouse.la.example/restricted/")
        (mail,) = mail_server.mailbox.deliveries[mails_before:]
        assert "front-door@la.example" in mail.rcpt_to
        text = json.dumps(about[0].body) + mail.message.as_string()
        # Never who the child is: no name, NHS number, birth date or postcode.
        for identifying in (
            child.first_name,
            child.last_name,
            child.nhs_number,
            f"{child.date_of_birth:%Y-%m-%d}",
            child.postcode,
        ):
            assert str(identifying) not in text

        # The child is on the do-not-contact list and off the targeted list, published too.
        assert key in set(_query(database, "select * from restricted.do_not_contact").person_key)
        restricted = data_dir / "published" / "restricted" / "parquet"
        assert key in set(pd.read_parquet(restricted / "do_not_contact.parquet").person_key)
        targeted = pd.read_parquet(restricted / "targeted_interventions.parquet")
        assert key not in set(targeted.person_key)
        dim = _query(database, "select * from marts.dim_child where person_key = ?", [key])
        assert bool(dim.is_deceased.iloc[0]) and dim.died_on.iloc[0].date() == died_on

        # The next refresh tells nobody again.
        assert refresh_warehouse(defs, instance).success
        assert len(webhook.posts) == posts_before + 1
        assert len(mail_server.mailbox.deliveries) == mails_before + 1
        recorded = _query(
            database, f"select * from {NOTIFICATIONS_TABLE} where person_key = ?", [key]
        )
        assert len(recorded) == 1 and bool(recorded.sent.iloc[0])

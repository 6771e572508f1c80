"""Death notifications: when a death record links to a child, tell every service whose records
hold the child, once.

Health partners share child deaths "so that immediate action can be taken to manage child
records": no letter, text or appointment should go to a bereaved family. After each refresh
(the marts built and published), every child the deaths feed reports as having died whose
records also come from another source is notified through the alert sinks
(``linkage_ops.alerts``): the webhook, and email to ``ALERT_SMTP_RECIPIENTS`` and to each
holding service's own recipients (``ALERT_SMTP_RECIPIENTS_<SERVICE>``). The text names the
pseudonymous person key, the date of death, the services, and where a practitioner can see who
it is (the restricted do-not-contact list in the web app), never a name or an identifier.

Each notification is recorded in ``operations.death_notifications`` with the death records it
was for; a child already notified, or a death record already notified under another key, is
not notified again. The first refresh that notifies (an empty table) sends only the deaths
of the latest deaths extract: older ones are recorded as ``backlog`` (``sent`` false), since
the services have long known of them and a flood of old news hides the new; the do-not-contact
list holds them all. A notification that reached no sink (every configured sink failed) is not
recorded, so the next refresh tries again. A death record that links to no other record is not
notified: the linkage puts it at the top of the review queue (``review_first_sources``).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from linkage_ops.alerts import UTC, Alert, AlertSettings, send_alert
from linkage_ops.ingest.schema import DEATHS_SOURCE, SERVICES, available_sources, load_schema
from linkage_ops.warehouse_file import connect_for_writing

NOTIFICATIONS_SCHEMA = "operations"
NOTIFICATIONS_TABLE = f"{NOTIFICATIONS_SCHEMA}.death_notifications"
NOTIFICATIONS_DDL = f"""
create table if not exists {NOTIFICATIONS_TABLE} (
    person_key varchar not null,
    died_on date,
    death_record_ids varchar[] not null,
    services varchar[] not null,
    notified_at timestamp not null,
    delivered_to varchar[] not null,
    link varchar,
    run_id varchar,
    sent boolean not null,
    note varchar
)
"""
DO_NOT_CONTACT_MART = "do_not_contact"
DO_NOT_CONTACT = f"restricted.{DO_NOT_CONTACT_MART}"
BRIDGE = "linkage.person_key_bridge"
DEATH_RECORDS = "staging.stg_deaths__deaths"
BACKLOG = "backlog: reported before the first notifications were sent"


@dataclass(frozen=True)
class DeathNotice:
    """A child's death that the services holding the child's records have not yet been told."""

    person_key: str
    died_on: date | None
    death_record_ids: tuple[str, ...]
    services: tuple[str, ...]  # keys of SERVICES, in SERVICES' order
    period: str | None  # the deaths extract that reported it (the latest)

    def alert(self, app_base_url: str, run_id: str | None = None) -> Alert:
        names = ", ".join(SERVICES[service] for service in self.services)
        when = f"on {self.died_on:%d %B %Y}" if self.died_on else "(no date given)"
        url = f"{app_base_url.rstrip('/')}/restricted/?" + urllib.parse.urlencode(
            {"mart": DO_NOT_CONTACT_MART, "person_key": self.person_key}
        )
        return Alert(
            kind="death_notification",
            severity="info",
            source=DEATHS_SOURCE,
            period=self.period,
            check=f"child {self.person_key} has died",
            seen=(
                f"Child {self.person_key} died {when}. Their records are held by: {names}. "
                "Stop letters, texts and appointments and update the child's records now. "
                "Who the child is: the restricted do-not-contact list (web app, restricted "
                f"pages: {DO_NOT_CONTACT_MART}, person key {self.person_key})."
            ),
            run_id=run_id,
            url=url,
        )


def source_services() -> dict[str, str]:
    """Each source's service, from its schema."""
    return {source: load_schema(source).service for source in available_sources()}


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {NOTIFICATIONS_SCHEMA}")
    con.execute(NOTIFICATIONS_DDL)


def due_notices(con: duckdb.DuckDBPyConnection) -> list[DeathNotice]:
    """Deaths linked to a child with records from another source, not yet notified (neither
    the child's key nor any of the death records). Nothing is due before the do-not-contact
    list and the bridge exist."""
    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    if not {DO_NOT_CONTACT, BRIDGE, DEATH_RECORDS} <= tables:
        return []
    _ensure_table(con)
    records = con.execute(
        f"""
        select dead.person_key, dead.died_on, bridge.source, bridge.record_id,
            deaths.extract_period
        from {DO_NOT_CONTACT} as dead
        inner join {BRIDGE} as bridge on dead.person_key = bridge.person_key
        left join {DEATH_RECORDS} as deaths on bridge.record_id = deaths.person_record_id
        order by dead.person_key, bridge.record_id
        """
    ).df()
    notified = con.execute(
        f"select person_key, death_record_ids from {NOTIFICATIONS_TABLE}"
    ).fetchall()
    keys_notified = {key for key, _ in notified}
    records_notified = {record for _, ids in notified for record in ids}
    services = source_services()
    notices = []
    for person_key, rows in records.groupby("person_key", sort=True):
        deaths = rows[rows.source == DEATHS_SOURCE]
        holding = {services.get(source) for source in rows.source if source != DEATHS_SOURCE}
        if deaths.empty or not holding - {None}:
            continue  # no death record, or only the death record: nobody else holds the child
        death_ids = tuple(deaths.record_id)
        if person_key in keys_notified or records_notified.intersection(death_ids):
            continue
        died_on = rows.died_on.iloc[0]
        notices.append(
            DeathNotice(
                person_key=str(person_key),
                died_on=None if pd.isna(died_on) else pd.Timestamp(died_on).date(),
                death_record_ids=death_ids,
                services=tuple(service for service in SERVICES if service in holding),
                period=deaths.extract_period.dropna().max()
                if deaths.extract_period.notna().any()
                else None,
            )
        )
    return notices


def _first_notifications(con: duckdb.DuckDBPyConnection) -> bool:
    _ensure_table(con)
    return con.execute(f"select count(*) = 0 from {NOTIFICATIONS_TABLE}").fetchone()[0]


def record_notice(
    con: duckdb.DuckDBPyConnection,
    notice: DeathNotice,
    delivered_to: list[str],
    link: str | None,
    run_id: str | None,
    note: str | None = None,
) -> None:
    """Record a notice: sent (``note`` None) or not sent, and why."""
    _ensure_table(con)
    con.execute(
        f"insert into {NOTIFICATIONS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            notice.person_key,
            notice.died_on,
            list(notice.death_record_ids),
            list(notice.services),
            datetime.now(UTC).replace(tzinfo=None),
            delivered_to,
            link,
            run_id,
            note is None,
            note,
        ],
    )


def notify_deaths(
    database_path: Path,
    settings: AlertSettings,
    log_path: Path,
    app_base_url: str,
    run_id: str | None = None,
    timeout: float = 10,
) -> list[DeathNotice]:
    """Notify every death that is due (see the module docstring); returns those notified.
    The warehouse file is opened only briefly, around each read and each record, since
    sending an alert opens it too."""
    con = connect_for_writing(database_path, timeout)
    try:
        notices = due_notices(con)
        if notices and _first_notifications(con):
            (latest,) = con.execute(f"select max(extract_period) from {DEATH_RECORDS}").fetchone()
            for notice in notices:
                if (notice.period or "") < latest:
                    record_notice(con, notice, [], None, run_id, BACKLOG)
            notices = [notice for notice in notices if (notice.period or "") == latest]
    finally:
        con.close()
    notified = []
    any_sink = settings.webhook_configured or settings.email_configured
    for notice in notices:
        alert = notice.alert(app_base_url, run_id)
        results = send_alert(
            alert, settings.for_services(notice.services), database_path, log_path, timeout
        )
        delivered = [result.sink for result in results if result.delivered]
        if any_sink and not delivered and results:
            continue  # every sink failed: try again next refresh
        con = connect_for_writing(database_path, timeout)
        try:
            record_notice(con, notice, delivered, alert.link(settings.ui_base_url), run_id)
        finally:
            con.close()
        notified.append(notice)
    return notified

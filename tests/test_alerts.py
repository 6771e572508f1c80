"""Alert sinks against real servers on 127.0.0.1: a webhook, a mail server, the table and log."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from linkage_ops.alerts import (
    Alert,
    AlertNotRecorded,
    AlertSettings,
    SinkResult,
    send_alert,
)

UTC = timezone.utc
SENDER = "warehouse@la.example"
RECIPIENTS = ("dq-team@la.example", "duty-analyst@la.example")
SEEN = "12 rows quarantined of 340; NHS number validity 81% (expected >= 95%)"
SUBJECT = "[warehouse alert] error: school_census 2024-autumn nhs_number_validity"


def check_failed() -> Alert:
    return Alert(
        kind="check_failed",
        source="school_census",
        period="2024-autumn",
        check="nhs_number_validity",
        seen=SEEN,
        severity="error",
        run_id="run-42",
        raised_at=datetime(2025, 1, 20, 9, 30, tzinfo=UTC),
    )


# --- a webhook that records what is posted to it ---------------------------------------------


@dataclass
class Post:
    path: str
    content_type: str
    body: dict[str, Any]


class WebhookServer(ThreadingHTTPServer):
    status = 200
    posts: list[Post]


class WebhookHandler(BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        # Recorded before answering, so the test sees it as soon as send_alert returns.
        self.server.posts.append(Post(self.path, self.headers["Content-Type"], json.loads(body)))
        answer = b"ok" if self.server.status < 300 else b"invalid_payload"
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    server = WebhookServer(("127.0.0.1", 0), WebhookHandler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def hook_url(server: WebhookServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/hooks/data-quality"


# --- a minimal SMTP server that records each message ---------------------------------------


@dataclass
class Delivery:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    offer_auth: bool = False
    refuse: set[str] = field(default_factory=set)
    deliveries: list[Delivery] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    mailbox: Mailbox


class SmtpHandler(socketserver.StreamRequestHandler):
    """Speaks EHLO/HELO, AUTH PLAIN (when offered), MAIL FROM, RCPT TO, DATA, RSET, QUIT."""

    server: SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        mailbox = self.server.mailbox
        mail_from, rcpt_to = "", []
        self.reply("220 fake-smtp ready")
        while raw := self.rfile.readline():
            verb, _, argument = raw.decode("ascii").rstrip("\r\n").partition(" ")
            verb = verb.upper()
            address = re.search(r"<([^>]*)>", argument)
            if verb == "EHLO":
                self.reply("250-fake-smtp")
                if mailbox.offer_auth:
                    self.reply("250-AUTH PLAIN")
                self.reply("250 HELP")
            elif verb == "HELO":
                self.reply("250 fake-smtp")
            elif verb == "AUTH" and mailbox.offer_auth:
                _, username, password = (
                    base64.b64decode(argument.split()[1]).decode("utf-8").split("\0")
                )
                mailbox.logins.append((username, password))
                self.reply("235 2.7.0 authenticated")
            elif verb == "MAIL" and address:
                mail_from, rcpt_to = address.group(1), []
                self.reply("250 sender ok")
            elif verb == "RCPT" and address:
                if address.group(1) in mailbox.refuse:
                    self.reply("550 5.1.1 no such mailbox")
                else:
                    rcpt_to.append(address.group(1))
                    self.reply("250 recipient ok")
            elif verb == "DATA":
                self.reply("354 end data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b".") else line)
                message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                mailbox.deliveries.append(Delivery(mail_from, rcpt_to, message))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


@pytest.fixture
def mail_server() -> Iterator[SmtpServer]:
    server = SmtpServer(("127.0.0.1", 0), SmtpHandler)
    server.mailbox = Mailbox()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never says anything."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def settings(
    webhook_url: str | None = None, smtp_port: int | None = None, **smtp_options: Any
) -> AlertSettings:
    smtp = {}
    if smtp_port is not None:
        smtp = {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_sender": SENDER,
            "smtp_recipients": RECIPIENTS,
        }
    return AlertSettings(webhook_url=webhook_url, **smtp, **smtp_options)


def both(webhook: WebhookServer, mail_server: SmtpServer, **smtp_options: Any) -> AlertSettings:
    return settings(hook_url(webhook), mail_server.server_address[1], **smtp_options)


def table_rows(database: Path) -> list[dict[str, Any]]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        cursor = con.execute("select * from operations.alerts order by raised_at")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def log_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    # The log's folder does not exist yet: send_alert makes it.
    return tmp_path / "warehouse.duckdb", tmp_path / "logs" / "alerts" / "alerts.jsonl"


# --- the alert itself ------------------------------------------------------------------------


def test_summary_names_source_period_check_and_what_was_seen() -> None:
    alert = check_failed()
    assert alert.summary() == (
        f"[error] check failed: school_census 2024-autumn nhs_number_validity: {SEEN} (run run-42)"
    )
    assert alert.subject() == SUBJECT
    run = Alert(kind="run_failed", check="warehouse_refresh", seen="step dbt_build failed\nOOM")
    assert run.summary() == "[error] run failed: warehouse_refresh: step dbt_build failed OOM"
    assert run.subject() == "[warehouse alert] error: warehouse_refresh"


def test_as_dict_is_json_safe_and_times_are_utc() -> None:
    alert = check_failed()
    assert json.loads(json.dumps(alert.as_dict())) == {
        "kind": "check_failed",
        "check": "nhs_number_validity",
        "seen": SEEN,
        "source": "school_census",
        "period": "2024-autumn",
        "severity": "error",
        "run_id": "run-42",
        "raised_at": "2025-01-20T09:30:00+00:00",
        "url": None,
    }
    london_summer = timezone(timedelta(hours=1))
    aware = Alert(
        kind="source_overdue",
        source="gp",
        check="gp_freshness",
        seen="no file for 2025-01",
        severity="warn",
        raised_at=datetime(2025, 6, 1, 10, 0, tzinfo=london_summer),
    )
    assert aware.raised_at == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    assert aware.raised_at.tzinfo is UTC
    naive = Alert(kind="run_failed", check="j", seen="s", raised_at=datetime(2025, 6, 1, 9, 0))
    assert naive.raised_at == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    assert Alert(kind="run_failed", check="j", seen="s").raised_at.tzinfo is UTC


@pytest.mark.parametrize("wrong", [{"kind": "check_passed"}, {"severity": "critical"}])
def test_an_unknown_kind_or_severity_is_refused(wrong: dict[str, str]) -> None:
    fields = {"kind": "check_failed", "check": "c", "seen": "s", **wrong}
    with pytest.raises(ValueError, match=next(iter(wrong.values()))):
        Alert(**fields)


# --- settings ----------------------------------------------------------------------------------


FULL_ENVIRONMENT = {
    "ALERT_WEBHOOK_URL": "https://hooks.example/services/T0/B0/secret-token",
    "ALERT_SMTP_HOST": "smtp.la.example",
    "ALERT_SMTP_PORT": "587",
    "ALERT_SMTP_SENDER": SENDER,
    "ALERT_SMTP_RECIPIENTS": " dq-team@la.example, duty-analyst@la.example ,",
    "ALERT_SMTP_USERNAME": "alerts",
    "ALERT_SMTP_PASSWORD": "s3cret pass",
    "ALERT_SMTP_STARTTLS": "true",
    "UNRELATED": "x",
}


def test_settings_from_an_environment() -> None:
    found = AlertSettings.from_env(FULL_ENVIRONMENT)
    assert found == AlertSettings(
        webhook_url="https://hooks.example/services/T0/B0/secret-token",
        smtp_host="smtp.la.example",
        smtp_port=587,
        smtp_sender=SENDER,
        smtp_recipients=RECIPIENTS,
        smtp_username="alerts",
        smtp_password="s3cret pass",
        smtp_starttls=True,
    )
    assert found.webhook_configured and found.email_configured
    # Secrets stay out of logs that print the settings.
    assert "s3cret" not in repr(found) and "secret-token" not in repr(found)


@pytest.mark.parametrize(
    "missing", ["ALERT_SMTP_HOST", "ALERT_SMTP_SENDER", "ALERT_SMTP_RECIPIENTS"]
)
def test_email_is_off_when_host_sender_or_recipients_is_missing(missing: str) -> None:
    environment = {name: value for name, value in FULL_ENVIRONMENT.items() if name != missing}
    found = AlertSettings.from_env(environment)
    assert not found.email_configured
    assert found.webhook_configured
    # A blank variable counts as missing too.
    assert not AlertSettings.from_env({**FULL_ENVIRONMENT, missing: "  "}).email_configured


def test_defaults_and_nothing_configured() -> None:
    minimal = AlertSettings.from_env(
        {"ALERT_SMTP_HOST": "mail", "ALERT_SMTP_SENDER": SENDER, "ALERT_SMTP_RECIPIENTS": "a@b"}
    )
    assert minimal.smtp_port == 25
    assert minimal.smtp_recipients == ("a@b",)
    assert not minimal.smtp_starttls and minimal.smtp_username is None
    assert minimal.email_configured and not minimal.webhook_configured
    assert AlertSettings.from_env({"ALERT_SMTP_STARTTLS": "1"}).smtp_starttls
    nothing = AlertSettings.from_env({})
    assert not nothing.email_configured and not nothing.webhook_configured


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALERT_SMTP_PORT", "smtp"),
        ("ALERT_SMTP_STARTTLS", "maybe"),
        ("ALERT_WEBHOOK_URL", "file:///etc/passwd"),
    ],
)
def test_a_setting_that_cannot_be_read_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=value if name != "ALERT_WEBHOOK_URL" else "http"):
        AlertSettings.from_env({name: value})


# --- sending -----------------------------------------------------------------------------------


def test_an_alert_reaches_the_webhook_the_mailbox_the_table_and_the_log(
    webhook: WebhookServer, mail_server: SmtpServer, paths: tuple[Path, Path]
) -> None:
    database, log = paths
    alert = check_failed()
    results = send_alert(alert, both(webhook, mail_server), database, log, timeout=2)
    assert results == [SinkResult("webhook", delivered=True), SinkResult("email", delivered=True)]

    [post] = webhook.posts
    assert post.path == "/hooks/data-quality"
    assert post.content_type == "application/json"
    assert post.body["text"] == alert.summary()
    assert post.body["alert"]["source"] == "school_census"
    assert post.body["alert"]["period"] == "2024-autumn"
    assert post.body["alert"]["check"] == "nhs_number_validity"
    assert post.body["alert"]["seen"] == SEEN
    assert post.body["alert"] == alert.as_dict()

    [mail] = mail_server.mailbox.deliveries
    assert mail.mail_from == SENDER
    assert mail.rcpt_to == list(RECIPIENTS)
    assert mail.message["Subject"] == SUBJECT
    assert mail.message["To"] == ", ".join(RECIPIENTS)
    assert mail.message.get_content_type() == "text/plain"
    body = mail.message.get_content()
    assert alert.summary() in body
    for line in [
        "kind: check_failed",
        "source: school_census",
        "period: 2024-autumn",
        "check: nhs_number_validity",
        f"seen: {SEEN}",
        "severity: error",
        "run_id: run-42",
        "raised_at: 2025-01-20T09:30:00+00:00",
    ]:
        assert line in body.splitlines()

    [row] = table_rows(database)
    # What each sink answered, and where to look, are recorded with the alert.
    answers = json.loads(row.pop("sink_answers"))
    assert [(a["sink"], a["delivered"]) for a in answers] == [("webhook", True), ("email", True)]
    assert answers[0]["answer"] == "HTTP 200 OK (json)"
    assert row.pop("link") == "http://127.0.0.1:3000/runs/run-42"
    assert row.pop("fingerprint") == alert.fingerprint and row.pop("repeat_of") is None
    assert [row] == [
        {
            "raised_at": datetime(2025, 1, 20, 9, 30),
            "kind": "check_failed",
            "severity": "error",
            "source": "school_census",
            "period": "2024-autumn",
            "check": "nhs_number_validity",
            "seen": SEEN,
            "run_id": "run-42",
            "delivered_to": ["webhook", "email"],
        }
    ]
    [entry] = log_lines(log)
    assert entry == {
        **alert.as_dict(),
        "delivered_to": ["webhook", "email"],
        "sinks": [
            {"sink": "webhook", "delivered": True, "error": None},
            {"sink": "email", "delivered": True, "error": None},
        ],
    }


def test_a_webhook_answering_500_is_not_delivered_and_email_still_is(
    webhook: WebhookServer, mail_server: SmtpServer, paths: tuple[Path, Path]
) -> None:
    database, log = paths
    webhook.status = 500
    results = send_alert(check_failed(), both(webhook, mail_server), database, log, timeout=2)
    assert [(result.sink, result.delivered) for result in results] == [
        ("webhook", False),
        ("email", True),
    ]
    assert results[0].error is not None
    assert "HTTP 500" in results[0].error and "invalid_payload" in results[0].error
    assert len(webhook.posts) == 1  # it was tried
    assert [mail.message["Subject"] for mail in mail_server.mailbox.deliveries] == [SUBJECT]
    assert [row["delivered_to"] for row in table_rows(database)] == [["email"]]
    [entry] = log_lines(log)
    assert entry["delivered_to"] == ["email"]
    assert entry["sinks"][0]["error"] == results[0].error


def test_a_mail_server_that_is_down_is_not_delivered_and_the_webhook_still_is(
    webhook: WebhookServer, paths: tuple[Path, Path]
) -> None:
    database, log = paths
    results = send_alert(
        check_failed(), settings(hook_url(webhook), closed_port()), database, log, timeout=2
    )
    assert results[0] == SinkResult("webhook", delivered=True)
    assert results[1].sink == "email" and not results[1].delivered
    assert "ConnectionRefusedError" in (results[1].error or "")
    assert [post.body["alert"]["check"] for post in webhook.posts] == ["nhs_number_validity"]
    assert [row["delivered_to"] for row in table_rows(database)] == [["webhook"]]
    assert log_lines(log)[0]["delivered_to"] == ["webhook"]


def test_sinks_that_never_answer_time_out_and_the_alert_is_still_recorded(
    silent_port: int, paths: tuple[Path, Path]
) -> None:
    database, log = paths
    hook = f"http://127.0.0.1:{silent_port}/hook"
    started = time.monotonic()
    results = send_alert(check_failed(), settings(hook, silent_port), database, log, timeout=0.3)
    assert time.monotonic() - started < 3
    assert [(result.sink, result.delivered) for result in results] == [
        ("webhook", False),
        ("email", False),
    ]
    assert all("timed out" in (result.error or "") for result in results)
    assert [row["delivered_to"] for row in table_rows(database)] == [[]]
    assert log_lines(log)[0]["delivered_to"] == []


def test_a_closed_webhook_port_is_reported_not_raised(paths: tuple[Path, Path]) -> None:
    database, log = paths
    hook = f"http://127.0.0.1:{closed_port()}/hook"
    [result] = send_alert(check_failed(), settings(hook), database, log, timeout=2)
    assert not result.delivered and "Connection refused" in (result.error or "")


def test_login_and_a_refused_recipient(mail_server: SmtpServer, paths: tuple[Path, Path]) -> None:
    database, log = paths
    mailbox = mail_server.mailbox
    mailbox.offer_auth = True
    mailbox.refuse = {"duty-analyst@la.example"}
    email_settings = settings(
        smtp_port=mail_server.server_address[1], smtp_username="alerts", smtp_password="s3cret"
    )
    [result] = send_alert(check_failed(), email_settings, database, log, timeout=2)
    assert result.delivered
    assert result.error == "refused by the server for duty-analyst@la.example"
    assert mailbox.logins == [("alerts", "s3cret")]
    assert [mail.rcpt_to for mail in mailbox.deliveries] == [["dq-team@la.example"]]


def test_starttls_required_but_not_offered_is_not_delivered(
    webhook: WebhookServer, mail_server: SmtpServer, paths: tuple[Path, Path]
) -> None:
    database, log = paths
    results = send_alert(
        check_failed(), both(webhook, mail_server, smtp_starttls=True), database, log, timeout=2
    )
    assert results[0].delivered
    assert not results[1].delivered and "STARTTLS" in (results[1].error or "")
    assert mail_server.mailbox.deliveries == []  # never sent in clear text


def test_without_sinks_alerts_are_still_recorded_and_appended(paths: tuple[Path, Path]) -> None:
    database, log = paths
    overdue = Alert(kind="source_overdue", source="gp", check="gp_freshness", seen="no 2025-01")
    assert send_alert(check_failed(), AlertSettings(), database, log) == []
    assert send_alert(overdue, AlertSettings(), database, log) == []
    rows = table_rows(database)
    assert [(row["kind"], row["period"], row["delivered_to"]) for row in rows] == [
        ("check_failed", "2024-autumn", []),
        ("source_overdue", None, []),
    ]
    assert [entry["check"] for entry in log_lines(log)] == ["nhs_number_validity", "gp_freshness"]


def test_a_log_that_cannot_be_written_raises_after_the_table_has_the_alert(
    webhook: WebhookServer, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    (tmp_path / "not-a-folder").write_text("")
    log = tmp_path / "not-a-folder" / "alerts.jsonl"
    with pytest.raises(AlertNotRecorded, match="log file"):
        send_alert(check_failed(), settings(hook_url(webhook)), database, log, timeout=2)
    assert len(webhook.posts) == 1
    assert [row["delivered_to"] for row in table_rows(database)] == [["webhook"]]


def test_a_table_that_cannot_be_written_raises_after_the_log_has_the_alert(
    webhook: WebhookServer, tmp_path: Path
) -> None:
    database = tmp_path / "a-folder.duckdb"
    database.mkdir()
    log = tmp_path / "alerts.jsonl"
    with pytest.raises(AlertNotRecorded, match="table"):
        send_alert(check_failed(), settings(hook_url(webhook)), database, log, timeout=2)
    assert len(webhook.posts) == 1
    assert [entry["delivered_to"] for entry in log_lines(log)] == [["webhook"]]


HOLD_WRITE_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def hold_write_lock(database: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process (the pipeline) holding the warehouse file's only write lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(database), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_warehouse_locked_for_a_moment_is_waited_for(paths: tuple[Path, Path]) -> None:
    database, log = paths
    holder = hold_write_lock(database, 0.3)
    try:
        send_alert(check_failed(), AlertSettings(), database, log, timeout=5)
    finally:
        holder.wait(timeout=5)
    assert len(table_rows(database)) == 1


def test_a_warehouse_locked_longer_than_the_timeout_raises(paths: tuple[Path, Path]) -> None:
    database, log = paths
    holder = hold_write_lock(database, 30)
    try:
        with pytest.raises(AlertNotRecorded, match="lock"):
            send_alert(check_failed(), AlertSettings(), database, log, timeout=0.3)
    finally:
        holder.kill()
        holder.wait(timeout=5)
    assert len(log_lines(log)) == 1


# --- what the webhook shows, and repeats -------------------------------------------------------


def test_a_teams_webhook_gets_an_adaptive_card_linking_to_the_run(
    webhook: WebhookServer, paths: tuple[Path, Path]
) -> None:
    """Teams workflows accept plain JSON with 202 and show nothing: they need an Adaptive
    Card, in the message envelope."""
    database, log = paths
    webhook.status = 202
    teams = AlertSettings(
        webhook_url=hook_url(webhook),
        webhook_format="teams",
        ui_base_url="https://dagster.la.example/",
    )
    alert = check_failed()
    [result] = send_alert(alert, teams, database, log, timeout=2)

    assert result.delivered and result.answer == "HTTP 202 Accepted (teams)"
    [post] = webhook.posts
    assert post.body["type"] == "message"
    [attachment] = post.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    title, seen, facts = card["body"]
    assert title["text"] == "ERROR: check failed: school_census 2024-autumn nhs_number_validity"
    assert seen["text"] == SEEN
    assert {"title": "run_id", "value": "run-42"} in facts["facts"]
    [action] = card["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": "Open in Dagster",
        "url": "https://dagster.la.example/runs/run-42",
    }


def test_the_webhook_format_is_told_by_its_host_unless_set() -> None:
    def detected(url: str) -> str:
        return AlertSettings(webhook_url=url).payload_format

    assert detected("https://prod-12.uksouth.logic.azure.com/workflows/abc/triggers") == "teams"
    assert detected("https://la.webhook.office.com/webhookb2/x") == "teams"
    assert detected("https://hooks.slack.com/services/T0/B0/x") == "slack"
    assert detected("https://alerts.la.example/hook") == "json"
    assert AlertSettings.from_env({"ALERT_WEBHOOK_FORMAT": "Slack"}).payload_format == "slack"
    with pytest.raises(ValueError, match="ALERT_WEBHOOK_FORMAT"):
        AlertSettings.from_env({"ALERT_WEBHOOK_FORMAT": "pager"})


def test_the_same_failure_within_the_repeat_window_is_recorded_not_sent_again(
    webhook: WebhookServer, paths: tuple[Path, Path]
) -> None:
    database, log = paths
    hook = AlertSettings(webhook_url=hook_url(webhook), repeat_hours=24)
    first = check_failed()
    assert send_alert(first, hook, database, log, timeout=2)[0].delivered
    again = Alert(**{**first.__dict__, "raised_at": first.raised_at + timedelta(hours=3)})
    assert send_alert(again, hook, database, log, timeout=2) == []
    # Something else seen, or the same a day later, is sent.
    other = Alert(**{**again.__dict__, "seen": "NHS number validity 60%"})
    assert send_alert(other, hook, database, log, timeout=2)[0].delivered
    later = Alert(**{**first.__dict__, "raised_at": first.raised_at + timedelta(hours=25)})
    assert send_alert(later, hook, database, log, timeout=2)[0].delivered

    assert len(webhook.posts) == 3
    rows = table_rows(database)
    assert [row["repeat_of"] for row in rows] == [None, datetime(2025, 1, 20, 9, 30), None, None]
    assert rows[1]["delivered_to"] == []
    assert log_lines(log)[1]["repeat_of"] == "2025-01-20T09:30:00+00:00"

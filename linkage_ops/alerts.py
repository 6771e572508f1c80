"""Data-quality and pipeline alerts: record every alert, then tell every configured sink.

When a check fails, a run fails or a source is overdue, ``send_alert`` posts it to an incoming
webhook (Teams or Slack style) and emails it, whichever is configured (``AlertSettings``, from
``ALERT_*`` environment variables). A sink that is down never stops the others and never raises:
its ``SinkResult`` says why. Every alert is always recorded, whatever the sinks did, in the
warehouse table ``operations.alerts`` and as one JSON line in a log file; only a failure to
record it raises, since the alert would otherwise be lost.

Plain Python (no Dagster): the orchestration's sensors and hooks build an ``Alert`` and call
``send_alert``.
"""

from __future__ import annotations

import email.policy
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import duckdb

logger = logging.getLogger(__name__)

UTC = timezone.utc  # datetime.UTC needs Python 3.11; the project supports 3.10

KINDS = {
    "check_failed": "check failed",
    "run_failed": "run failed",
    "source_overdue": "source overdue",
}
SEVERITIES = ("error", "warn")
WEBHOOK = "webhook"
EMAIL = "email"
SUBJECT_PREFIX = "[warehouse alert]"

ALERTS_SCHEMA = "operations"
ALERTS_TABLE = f"{ALERTS_SCHEMA}.alerts"
ALERTS_DDL = f"""
create table if not exists {ALERTS_TABLE} (
    raised_at timestamp, kind varchar, severity varchar, source varchar, period varchar,
    "check" varchar, seen varchar, run_id varchar, delivered_to varchar[]
)"""
ALERTS_COLUMNS = [
    "raised_at",
    "kind",
    "severity",
    "source",
    "period",
    "check",
    "seen",
    "run_id",
    "delivered_to",
]
# How often to try again while another process holds the warehouse file's write lock.
LOCK_RETRY_SECONDS = 0.1
# An HTTP error's body is worth showing (Slack answers e.g. "invalid_payload"), but only a little.
ERROR_BODY_CHARS = 200

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


def _one_line(text: str) -> str:
    """Collapse newlines and runs of spaces, so a summary or subject stays one line."""
    return " ".join(text.split())


@dataclass(frozen=True, kw_only=True)
class Alert:
    """Something an operator must look at: a failed check or run, or an overdue source.

    ``check`` is the check's or job's name; ``seen`` says, in words, what was found (e.g.
    "12 rows quarantined of 340; NHS number validity 81% (expected >= 95%)"). ``raised_at`` is
    UTC: an aware time is converted, a naive one is taken to be UTC already.
    """

    kind: str
    source: str | None = None
    period: str | None = None
    check: str
    seen: str
    severity: str = "error"
    run_id: str | None = None
    raised_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"alert kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"alert severity {self.severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        raised_at = self.raised_at
        raised_at = (
            raised_at.replace(tzinfo=UTC) if raised_at.tzinfo is None else raised_at.astimezone(UTC)
        )
        object.__setattr__(self, "raised_at", raised_at)

    @property
    def scope(self) -> str:
        """Source, period and check, those that are known: ``school_census 2024-autumn x``."""
        return _one_line(" ".join(part for part in (self.source, self.period, self.check) if part))

    def summary(self) -> str:
        """One readable line: severity, what happened, where, and what was seen."""
        line = f"[{self.severity}] {KINDS[self.kind]}: {self.scope}: {self.seen}"
        if self.run_id:
            line += f" (run {self.run_id})"
        return _one_line(line)

    def subject(self) -> str:
        """An email subject: ``[warehouse alert] error: school_census 2024-autumn check``."""
        return _one_line(f"{SUBJECT_PREFIX} {self.severity}: {self.scope}")

    def as_dict(self) -> dict[str, str | None]:
        """Every field, JSON-safe (``raised_at`` as ISO 8601 with its UTC offset)."""
        fields = asdict(self)
        fields["raised_at"] = self.raised_at.isoformat()
        return fields


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go. Email is configured only when host, sender and recipients are all set."""

    # The webhook URL carries its own secret (whoever has it can post), so repr hides it.
    webhook_url: str | None = field(default=None, repr=False)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str | None = None
    smtp_recipients: tuple[str, ...] = ()
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False

    def __post_init__(self) -> None:
        if self.webhook_url is not None:
            scheme = urllib.parse.urlsplit(self.webhook_url).scheme
            # urllib would also open file: and ftp: URLs; only a web hook is meant here.
            if scheme not in ("http", "https"):
                raise ValueError(f"the alert webhook must be an http(s) URL, not {scheme!r}")

    @property
    def webhook_configured(self) -> bool:
        return bool(self.webhook_url)

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_sender and self.smtp_recipients)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AlertSettings:
        """Read ``ALERT_*`` variables; a blank variable counts as unset.

        ``ALERT_WEBHOOK_URL``; ``ALERT_SMTP_HOST``, ``ALERT_SMTP_PORT`` (25),
        ``ALERT_SMTP_SENDER``, ``ALERT_SMTP_RECIPIENTS`` (comma separated),
        ``ALERT_SMTP_USERNAME``, ``ALERT_SMTP_PASSWORD``, ``ALERT_SMTP_STARTTLS`` ("1"/"true").
        A port or STARTTLS value that cannot be read raises ``ValueError`` naming the variable.
        """

        def value(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        port_text = value("ALERT_SMTP_PORT") or "25"
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError(f"ALERT_SMTP_PORT must be a port number, not {port_text!r}") from None
        starttls_text = (value("ALERT_SMTP_STARTTLS") or "").lower()
        if starttls_text not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(
                f"ALERT_SMTP_STARTTLS must be 1/true or 0/false, not {starttls_text!r}"
            )
        recipients = tuple(
            address.strip()
            for address in (value("ALERT_SMTP_RECIPIENTS") or "").split(",")
            if address.strip()
        )
        return cls(
            webhook_url=value("ALERT_WEBHOOK_URL"),
            smtp_host=value("ALERT_SMTP_HOST"),
            smtp_port=port,
            smtp_sender=value("ALERT_SMTP_SENDER"),
            smtp_recipients=recipients,
            smtp_username=value("ALERT_SMTP_USERNAME"),
            smtp_password=environ.get("ALERT_SMTP_PASSWORD") or None,  # kept as given
            smtp_starttls=starttls_text in TRUE_WORDS,
        )


@dataclass(frozen=True)
class SinkResult:
    """What one sink did with an alert.

    ``error`` says why it was not delivered; on a delivered email it names any recipients the
    server refused while accepting the others.
    """

    sink: str
    delivered: bool
    error: str | None = None


class AlertNotRecorded(RuntimeError):
    """The alert could not be written to the warehouse table or the log file."""


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        try:
            body = error.read(ERROR_BODY_CHARS).decode("utf-8", "replace")
        except Exception:
            body = ""
        text = f"HTTP {error.code} {error.reason}"
        return f"{text}: {_one_line(body)}" if body.strip() else text
    if isinstance(error, urllib.error.URLError) and isinstance(error.reason, BaseException):
        error = error.reason  # e.g. ConnectionRefusedError, TimeoutError
    return f"{type(error).__name__}: {error}"


def post_to_webhook(alert: Alert, url: str, timeout: float) -> None:
    """POST ``{"text": summary, "alert": {...}}`` as JSON; raises unless the hook answers 2xx."""
    body = json.dumps({"text": alert.summary(), "alert": alert.as_dict()}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
        # urlopen raises for 4xx/5xx; anything else that is not 2xx was not accepted either.
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(
                url, response.status, response.reason, response.headers, None
            )


def email_message(alert: Alert, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The plain-text email for an alert: the summary, then every field on its own line."""
    # Lines up to RFC 5322's limit: the subject stays on one line and the body stays plain
    # 7-bit text (the default 78 would fold the subject and quote-print the summary line).
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    message["Subject"] = alert.subject()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(alert.raised_at)
    # An explicit domain: make_msgid would otherwise look up this host's name, which can hang.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "warehouse.invalid")
    lines = [alert.summary(), ""]
    lines += [
        f"{name}: {value if value is not None else '-'}" for name, value in alert.as_dict().items()
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_email(alert: Alert, settings: AlertSettings, timeout: float) -> str | None:
    """Send the alert by SMTP; returns a note on recipients refused when others accepted it."""
    host, sender, recipients = settings.smtp_host, settings.smtp_sender, settings.smtp_recipients
    if not (host and sender and recipients):
        raise ValueError("email is not configured (SMTP host, sender and recipients)")
    message = email_message(alert, sender, recipients)
    smtp = smtplib.SMTP(host, settings.smtp_port, timeout=timeout)
    try:
        smtp.ehlo_or_helo_if_needed()
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        refused = smtp.send_message(message, from_addr=sender, to_addrs=list(recipients))
    finally:
        # The message is handed over once DATA is accepted; a failed QUIT changes nothing.
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
    if refused:
        return "refused by the server for " + ", ".join(sorted(refused))
    return None


def _deliver(alert: Alert, settings: AlertSettings, timeout: float) -> list[SinkResult]:
    sinks: list[tuple[str, Callable[[], str | None]]] = []
    url = settings.webhook_url
    if url:
        sinks.append((WEBHOOK, lambda: post_to_webhook(alert, url, timeout)))
    if settings.email_configured:
        sinks.append((EMAIL, lambda: send_email(alert, settings, timeout)))
    results = []
    for sink, deliver in sinks:
        try:
            note = deliver()
        # Any failure of one sink, whatever its kind, must leave the other sinks and the record.
        except Exception as error:
            reason = _describe(error)
            logger.warning("alert not delivered to %s: %s (%s)", sink, reason, alert.summary())
            results.append(SinkResult(sink, delivered=False, error=reason))
        else:
            results.append(SinkResult(sink, delivered=True, error=note))
    return results


def _connect_for_writing(database_path: Path, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, waiting a little while another process holds its write lock."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(database_path))
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(LOCK_RETRY_SECONDS)


def record_in_table(
    alert: Alert, delivered_to: list[str], database_path: Path, wait_seconds: float = 10
) -> None:
    """Append the alert to ``operations.alerts`` (created if missing); the connection is short."""
    con = _connect_for_writing(database_path, wait_seconds)
    try:
        con.execute(f"create schema if not exists {ALERTS_SCHEMA}")
        con.execute(ALERTS_DDL)
        column_list = ", ".join(f'"{column}"' for column in ALERTS_COLUMNS)
        placeholders = ", ".join("?" for _ in ALERTS_COLUMNS)
        con.execute(
            f"insert into {ALERTS_TABLE} ({column_list}) values ({placeholders})",
            [
                alert.raised_at.replace(tzinfo=None),  # stored as UTC, like the raw layer's times
                alert.kind,
                alert.severity,
                alert.source,
                alert.period,
                alert.check,
                alert.seen,
                alert.run_id,
                delivered_to,
            ],
        )
    finally:
        con.close()


def record_in_log(alert: Alert, results: list[SinkResult], log_path: Path) -> None:
    """Append one JSON line: the alert's fields, ``delivered_to`` and what each sink said."""
    entry: dict[str, Any] = alert.as_dict()
    entry["delivered_to"] = [result.sink for result in results if result.delivered]
    entry["sinks"] = [asdict(result) for result in results]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # One write of one line, so lines from processes appending at once do not interleave.
    with log_path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def send_alert(
    alert: Alert,
    settings: AlertSettings,
    database_path: Path | str,
    log_path: Path | str,
    timeout: float = 10,
) -> list[SinkResult]:
    """Send ``alert`` to every configured sink, then record it in the table and the log.

    Returns one ``SinkResult`` per configured sink (webhook, then email); a sink that fails is
    reported there, never raised. ``timeout`` (seconds) bounds each sink's network waits and how
    long to wait for the warehouse file's write lock. Raises ``AlertNotRecorded`` only if the
    table or the log could not be written; the other one is still written first.
    """
    results = _deliver(alert, settings, timeout)
    delivered_to = [result.sink for result in results if result.delivered]
    failures = []
    for where, record in (
        ("log file", lambda: record_in_log(alert, results, Path(log_path))),
        ("table", lambda: record_in_table(alert, delivered_to, Path(database_path), timeout)),
    ):
        try:
            record()
        except Exception as error:
            failures.append((where, error))
    if failures:
        reasons = "; ".join(f"{where}: {_describe(error)}" for where, error in failures)
        first_error = failures[0][1]
        raise AlertNotRecorded(
            f"alert not recorded ({reasons}): {alert.summary()}"
        ) from first_error
    return results

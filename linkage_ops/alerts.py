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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import duckdb

from linkage_ops.ingest.schema import SERVICES
from linkage_ops.warehouse_file import connect_for_writing

logger = logging.getLogger(__name__)

UTC = timezone.utc  # datetime.UTC needs Python 3.11; the project supports 3.10

KINDS = {
    "check_failed": "check failed",
    "run_failed": "run failed",
    "source_overdue": "source overdue",
    "death_notification": "death notification",
}
SEVERITIES = ("error", "warn", "info")
WEBHOOK = "webhook"
EMAIL = "email"
SUBJECT_PREFIX = "[warehouse alert]"

ALERTS_SCHEMA = "operations"
ALERTS_TABLE = f"{ALERTS_SCHEMA}.alerts"
# Every alert sent or held back as a repeat: what each sink answered (JSON), the link to look
# at, and for a repeat the time of the alert it repeats (then nothing was sent).
ALERTS_COLUMN_TYPES = {
    "raised_at": "timestamp",
    "kind": "varchar",
    "severity": "varchar",
    "source": "varchar",
    "period": "varchar",
    "check": "varchar",
    "seen": "varchar",
    "run_id": "varchar",
    "delivered_to": "varchar[]",
    "link": "varchar",
    "sink_answers": "varchar",
    "fingerprint": "varchar",
    "repeat_of": "timestamp",
}
ALERTS_COLUMNS = list(ALERTS_COLUMN_TYPES)
# An HTTP error's body is worth showing (Slack answers e.g. "invalid_payload"), but only a little.
ERROR_BODY_CHARS = 200

WEBHOOK_FORMATS = ("teams", "slack", "json")
# An Adaptive Card's title colour for each severity.
CARD_COLOURS = {"error": "Attention", "warn": "Warning", "info": "Accent"}
# Hosts of Microsoft Teams incoming webhooks and of the Power Automate workflows that replace
# them: both want an Adaptive Card (a workflow accepts plain JSON with 202 and shows nothing).
TEAMS_HOSTS = (
    ".webhook.office.com",
    ".logic.azure.com",
    ".powerautomate.com",
    ".powerplatform.com",
)
DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"", "0", "false", "no", "off"}


def _one_line(text: str) -> str:
    """Collapse newlines and runs of spaces, so a summary or subject stays one line."""
    return " ".join(text.split())


@dataclass(frozen=True, kw_only=True)
class Alert:
    """Something an operator must look at: a failed check or run, an overdue source, or a
    child's death that services must act on.

    ``check`` is the check's or job's name; ``seen`` says, in words, what was found (e.g.
    "12 rows quarantined of 340; NHS number validity 81% (expected >= 95%)"). ``raised_at`` is
    UTC: an aware time is converted, a naive one is taken to be UTC already. ``url``, when
    given, is where to look instead of the Dagster UI (e.g. a page of the web app).
    """

    kind: str
    source: str | None = None
    period: str | None = None
    check: str
    seen: str
    severity: str = "error"
    run_id: str | None = None
    raised_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    url: str | None = None

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

    def link(self, ui_base_url: str) -> str:
        """Where to look: the alert's own ``url``, or in the Dagster UI the run, or for an
        overdue source its landing asset (its freshness check)."""
        if self.url:
            return self.url
        base = ui_base_url.rstrip("/")
        if self.run_id:
            return f"{base}/runs/{urllib.parse.quote(self.run_id)}"
        if self.source:
            return f"{base}/assets/landing/{urllib.parse.quote(self.source)}"
        return f"{base}/runs"

    @property
    def link_title(self) -> str:
        return "Open" if self.url else "Open in Dagster"

    @property
    def fingerprint(self) -> str:
        """The same failure seen again: kind, source, period, check and what was seen."""
        return json.dumps([self.kind, self.source, self.period, self.check, self.seen])

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
    # What the webhook expects: ``teams`` (an Adaptive Card, as Teams workflows need), ``slack``
    # (text and blocks) or ``json`` (the alert's fields); ``None``: told by the URL's host.
    webhook_format: str | None = None
    # Where the Dagster UI is, so an alert links to its run (``make ui``'s address by default).
    ui_base_url: str = DEFAULT_UI_BASE_URL
    # An alert the same as one sent within this many hours is recorded, not sent again.
    repeat_hours: float = 24.0
    # Per service (``linkage_ops.ingest.schema.SERVICES``), more recipients of the alerts
    # that concern it (a child's death is sent to each service holding the child's records).
    service_recipients: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.webhook_url is not None:
            scheme = urllib.parse.urlsplit(self.webhook_url).scheme
            # urllib would also open file: and ftp: URLs; only a web hook is meant here.
            if scheme not in ("http", "https"):
                raise ValueError(f"the alert webhook must be an http(s) URL, not {scheme!r}")
        if self.webhook_format is not None and self.webhook_format not in WEBHOOK_FORMATS:
            raise ValueError(
                f"ALERT_WEBHOOK_FORMAT must be one of {', '.join(WEBHOOK_FORMATS)}, "
                f"not {self.webhook_format!r}"
            )

    @property
    def payload_format(self) -> str:
        """The webhook's format, as configured or told by its host."""
        if self.webhook_format:
            return self.webhook_format
        host = urllib.parse.urlsplit(self.webhook_url or "").hostname or ""
        if host == "hooks.slack.com":
            return "slack"
        if host.endswith(TEAMS_HOSTS):
            return "teams"
        return "json"

    @property
    def webhook_configured(self) -> bool:
        return bool(self.webhook_url)

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host and self.smtp_sender and self.smtp_recipients)

    def for_services(self, services: Iterable[str]) -> AlertSettings:
        """These settings with the services' own recipients added to the email's."""
        extra = [address for name in services for address in self.service_recipients.get(name, ())]
        return replace(self, smtp_recipients=tuple(dict.fromkeys([*self.smtp_recipients, *extra])))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AlertSettings:
        """Read ``ALERT_*`` variables; a blank variable counts as unset.

        ``ALERT_WEBHOOK_URL``; ``ALERT_SMTP_HOST``, ``ALERT_SMTP_PORT`` (25),
        ``ALERT_SMTP_SENDER``, ``ALERT_SMTP_RECIPIENTS`` (comma separated),
        ``ALERT_SMTP_USERNAME``, ``ALERT_SMTP_PASSWORD``, ``ALERT_SMTP_STARTTLS`` ("1"/"true");
        ``ALERT_WEBHOOK_FORMAT`` (teams, slack or json; by default told by the URL's host),
        ``ALERT_UI_BASE_URL`` (the Dagster UI, for links), ``ALERT_REPEAT_HOURS`` (24),
        ``ALERT_SMTP_RECIPIENTS_<SERVICE>`` (``EDUCATION``, ``SOCIAL_CARE``, ``SEND``,
        ``HEALTH``: who, besides ``ALERT_SMTP_RECIPIENTS``, hears of a death in that service).
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

        def addresses(name: str) -> tuple[str, ...]:
            return tuple(
                address.strip() for address in (value(name) or "").split(",") if address.strip()
            )

        recipients = addresses("ALERT_SMTP_RECIPIENTS")
        service_recipients = {
            service: addresses(f"ALERT_SMTP_RECIPIENTS_{service.upper()}") for service in SERVICES
        }
        repeat_text = value("ALERT_REPEAT_HOURS") or "24"
        try:
            repeat_hours = float(repeat_text)
        except ValueError:
            raise ValueError(
                f"ALERT_REPEAT_HOURS must be a number of hours, not {repeat_text!r}"
            ) from None
        return cls(
            webhook_format=(value("ALERT_WEBHOOK_FORMAT") or "").lower() or None,
            ui_base_url=(value("ALERT_UI_BASE_URL") or DEFAULT_UI_BASE_URL).rstrip("/"),
            repeat_hours=repeat_hours,
            webhook_url=value("ALERT_WEBHOOK_URL"),
            smtp_host=value("ALERT_SMTP_HOST"),
            smtp_port=port,
            smtp_sender=value("ALERT_SMTP_SENDER"),
            smtp_recipients=recipients,
            service_recipients={name: to for name, to in service_recipients.items() if to},
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
    # What the sink answered (e.g. "HTTP 202 Accepted", "250 OK"), for the record.
    answer: str | None = field(default=None, compare=False)


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


def webhook_payload(alert: Alert, payload_format: str, link: str) -> dict[str, Any]:
    """The body a webhook of ``payload_format`` shows: for Teams an Adaptive Card (in the
    message envelope Teams workflows and incoming webhooks take), for Slack text with blocks,
    otherwise ``{"text", "link", "alert"}``."""
    facts = [
        (name, str(value)) for name, value in alert.as_dict().items() if value not in (None, "")
    ]
    title = f"{alert.severity.upper()}: {KINDS[alert.kind]}: {alert.scope}"
    if payload_format == "teams":
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [
                {
                    "type": "TextBlock",
                    "text": title,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                    "color": CARD_COLOURS[alert.severity],
                },
                {"type": "TextBlock", "text": alert.seen, "wrap": True},
                {"type": "FactSet", "facts": [{"title": n, "value": v} for n, v in facts]},
            ],
            "actions": [{"type": "Action.OpenUrl", "title": alert.link_title, "url": link}],
        }
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    if payload_format == "slack":
        return {
            "text": f"{alert.summary()} {link}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\n{alert.seen}"}},
                {
                    "type": "section",
                    "fields": [{"type": "mrkdwn", "text": f"*{n}*\n{v}"} for n, v in facts][:10],
                },
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": alert.link_title},
                            "url": link,
                        }
                    ],
                },
            ],
        }
    return {"text": alert.summary(), "link": link, "alert": alert.as_dict()}


def post_to_webhook(
    alert: Alert, url: str, timeout: float, payload_format: str = "json", link: str = ""
) -> str:
    """POST the alert as JSON in the webhook's format; raises unless the hook answers 2xx, and
    returns its answer (``HTTP 202 Accepted``)."""
    payload = webhook_payload(alert, payload_format, link or DEFAULT_UI_BASE_URL)
    body = json.dumps(payload).encode("utf-8")
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
        return f"HTTP {response.status} {response.reason}"


def email_message(
    alert: Alert, sender: str, recipients: tuple[str, ...], link: str = ""
) -> EmailMessage:
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
    if link:
        lines += [f"{alert.link_title}: {link}", ""]
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
    message = email_message(alert, sender, recipients, alert.link(settings.ui_base_url))
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
    """Each configured sink's result; a sink's answer (what its server said) is kept."""
    link = alert.link(settings.ui_base_url)

    def webhook(url: str) -> SinkResult:
        answer = post_to_webhook(alert, url, timeout, settings.payload_format, link)
        return SinkResult(WEBHOOK, delivered=True, answer=f"{answer} ({settings.payload_format})")

    def mail() -> SinkResult:
        note = send_email(alert, settings, timeout)
        answer = f"accepted by {settings.smtp_host}:{settings.smtp_port}"
        return SinkResult(EMAIL, delivered=True, error=note, answer=answer)

    sinks: list[tuple[str, Callable[[], SinkResult]]] = []
    url = settings.webhook_url
    if url:
        sinks.append((WEBHOOK, lambda: webhook(url)))
    if settings.email_configured:
        sinks.append((EMAIL, mail))
    results = []
    for sink, deliver in sinks:
        try:
            results.append(deliver())
        # Any failure of one sink, whatever its kind, must leave the other sinks and the record.
        except Exception as error:
            reason = _describe(error)
            logger.warning("alert not delivered to %s: %s (%s)", sink, reason, alert.summary())
            results.append(SinkResult(sink, delivered=False, error=reason, answer=reason))
    return results


def _ensure_alerts_table(con: duckdb.DuckDBPyConnection) -> None:
    """``operations.alerts`` with every column (an older table gains the new ones)."""
    con.execute(f"create schema if not exists {ALERTS_SCHEMA}")
    definition = ", ".join(f'"{name}" {kind}' for name, kind in ALERTS_COLUMN_TYPES.items())
    con.execute(f"create table if not exists {ALERTS_TABLE} ({definition})")
    for name, kind in ALERTS_COLUMN_TYPES.items():
        con.execute(f'alter table {ALERTS_TABLE} add column if not exists "{name}" {kind}')


def earlier_alert(
    alert: Alert, database_path: Path, repeat_hours: float, wait_seconds: float = 10
) -> datetime | None:
    """When the same alert was last sent within ``repeat_hours`` of this one, if it was."""
    if repeat_hours <= 0 or not Path(database_path).exists():
        return None
    con = connect_for_writing(Path(database_path), wait_seconds)
    try:
        _ensure_alerts_table(con)
        raised = alert.raised_at.replace(tzinfo=None)
        (last,) = con.execute(
            f"select max(raised_at) from {ALERTS_TABLE} where fingerprint = ? "
            "and repeat_of is null and raised_at <= ? and raised_at > ? - to_microseconds(?)",
            [alert.fingerprint, raised, raised, int(repeat_hours * 3_600_000_000)],
        ).fetchone()
    finally:
        con.close()
    return last


def record_in_table(
    alert: Alert,
    delivered_to: list[str],
    database_path: Path,
    wait_seconds: float = 10,
    results: list[SinkResult] | None = None,
    link: str | None = None,
    repeat_of: datetime | None = None,
) -> None:
    """Append the alert to ``operations.alerts`` (created if missing); the connection is short."""
    con = connect_for_writing(database_path, wait_seconds)
    try:
        _ensure_alerts_table(con)
        column_list = ", ".join(f'"{column}"' for column in ALERTS_COLUMNS)
        placeholders = ", ".join("?" for _ in ALERTS_COLUMNS)
        answers = [
            {"sink": r.sink, "delivered": r.delivered, "answer": r.answer, "note": r.error}
            for r in results or []
        ]
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
                link,
                json.dumps(answers),
                alert.fingerprint,
                repeat_of,
            ],
        )
    finally:
        con.close()


def record_in_log(
    alert: Alert, results: list[SinkResult], log_path: Path, repeat_of: datetime | None = None
) -> None:
    """Append one JSON line: the alert's fields, ``delivered_to`` and what each sink said (and,
    for a repeat held back, when the alert it repeats was sent)."""
    entry: dict[str, Any] = alert.as_dict()
    entry["delivered_to"] = [result.sink for result in results if result.delivered]
    entry["sinks"] = [{"sink": r.sink, "delivered": r.delivered, "error": r.error} for r in results]
    if repeat_of is not None:
        entry["repeat_of"] = repeat_of.replace(tzinfo=UTC).isoformat()
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
    reported there, never raised. An alert the same as one sent within
    ``settings.repeat_hours`` (same kind, source, period, check and finding) is recorded with
    ``repeat_of`` and not sent: none are returned. ``timeout`` (seconds) bounds each sink's
    network waits and how long to wait for the warehouse file's write lock. Raises
    ``AlertNotRecorded`` only if the table or the log could not be written; the other one is
    still written first.
    """
    try:
        repeat_of = earlier_alert(alert, Path(database_path), settings.repeat_hours, timeout)
    except Exception as error:  # cannot tell: better twice than never
        logger.warning("could not look for an earlier alert: %s", _describe(error))
        repeat_of = None
    # The same failure seen again within the repeat window is recorded, not sent again.
    results = _deliver(alert, settings, timeout) if repeat_of is None else []
    delivered_to = [result.sink for result in results if result.delivered]
    link = alert.link(settings.ui_base_url)
    failures = []
    for where, record in (
        ("log file", lambda: record_in_log(alert, results, Path(log_path), repeat_of)),
        (
            "table",
            lambda: record_in_table(
                alert, delivered_to, Path(database_path), timeout, results, link, repeat_of
            ),
        ),
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

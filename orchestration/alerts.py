"""Alerts from Dagster: a failed run, or a failed check in a run that otherwise finished, goes
to every configured sink (``linkage_ops.alerts``: webhook and email from environment variables,
and always the ``operations.alerts`` table and ``data/logs/alerts.log``).
"""

import json
from datetime import date

import dagster as dg
import duckdb

from linkage_ops.alerts import Alert, AlertSettings, send_alert
from orchestration.resources import WarehouseResource
from orchestration.sources.freshness import (
    FRESHNESS,
    describe_freshness,
    evaluate_freshness,
    freshness_evaluation,
)
from orchestration.sources.partitions import describe_periods, run_periods

INGEST_PREFIX = "ingest_"


def _source_and_period(
    run: dg.DagsterRun, instance: dg.DagsterInstance
) -> tuple[str | None, str | None]:
    """The source an ingestion run loads and its period (or range of periods)."""
    if not run.job_name.startswith(INGEST_PREFIX):
        return None, None
    source = run.job_name[len(INGEST_PREFIX) :]
    periods = run_periods(run, instance, source)
    return source, describe_periods(periods) if periods else None


def _send(alert: Alert, warehouse: WarehouseResource) -> None:
    send_alert(alert, AlertSettings.from_env(), warehouse.database_path, warehouse.alerts_log_path)


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert naming the source, period and error when any run fails, and "
    "one per check that failed in it.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
    run = context.dagster_run
    source, period = _source_and_period(run, context.instance)
    errors = [
        event.event_specific_data.error.message.strip()
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ]
    seen = "; ".join(errors) or (context.failure_event.message or "the run failed")
    _send(
        Alert(
            kind="run_failed",
            source=source,
            period=period,
            check=run.job_name,
            seen=seen,
            severity="error",
            run_id=run.run_id,
        ),
        warehouse,
    )
    # A failed blocking check fails its run: say what each failed check saw (unless the run's
    # own error above already said it, e.g. the files that could not be read).
    alert_failed_checks(context.instance, run, warehouse, already_said=seen)


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[dg.AssetCheckEvaluation]:
    """The checks that failed in a run."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [record.event_log_entry.dagster_event.event_specific_data for record in records]
    return [evaluation for evaluation in evaluations if not evaluation.passed]


def alert_failed_checks(
    instance: dg.DagsterInstance,
    run: dg.DagsterRun,
    warehouse: WarehouseResource,
    already_said: str = "",
) -> None:
    """One alert per check that failed in ``run``, with what the check saw; a check that saw
    the same on several assets (a file that failed, on each table of its source) is one alert
    naming them all, and one whose finding ``already_said`` holds is not sent again. Freshness
    checks are left to the ``source_freshness`` sensor."""
    source, period = _source_and_period(run, instance)
    grouped: dict[tuple[str, str, bool], list[str]] = {}
    for evaluation in failed_checks(instance, run.run_id):
        # An overdue source is alerted by the source_freshness sensor, once per period; a
        # freshness check run by hand would alert it a second time.
        if evaluation.check_name == FRESHNESS:
            continue
        finding = evaluation.metadata.get("seen")
        if finding is not None and str(finding.value) in already_said:
            continue
        details = ", ".join(
            f"{name}={getattr(value, 'value', value)}"
            for name, value in evaluation.metadata.items()
        )
        error = evaluation.severity == dg.AssetCheckSeverity.ERROR
        key = (evaluation.check_name, details or "the check failed", error)
        grouped.setdefault(key, []).append(evaluation.asset_key.to_user_string())
    for (check_name, seen, error), assets in grouped.items():
        _send(
            Alert(
                kind="check_failed",
                source=source,
                period=period,
                check=f"{', '.join(assets)} {check_name}",
                seen=seen,
                severity="error" if error else "warn",
                run_id=run.run_id,
            ),
            warehouse,
        )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="alert_on_failed_checks",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends an alert for every check that failed in a run that finished (a failed "
    "WARN check does not stop a run; a run that a failed blocking check stops is alerted by "
    "alert_on_run_failure, with each failed check).",
)
def alert_on_failed_checks(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
    alert_failed_checks(context.instance, context.dagster_run, warehouse)


@dg.sensor(
    name="source_freshness",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Each source may be so many days late after its period falls due "
    "(max_days_late in linkage_ops/schemas/<source>.yaml). Hourly, this updates the freshness "
    "check on each landing asset when it changes, lists overdue sources on its ticks, and "
    "alerts once per overdue period.",
)
def source_freshness(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    return check_freshness(context, warehouse, date.today())


def check_freshness(
    context: dg.SensorEvaluationContext, warehouse: WarehouseResource, today: date
) -> dg.SensorResult | dg.SkipReason:
    """Report each source's freshness check when its state changes, and alert once for each
    overdue period."""
    try:
        freshness = evaluate_freshness(warehouse, today)
    except duckdb.IOException as error:  # the pipeline is writing: look again next time
        return dg.SkipReason(f"warehouse busy: {error}")
    cursor = json.loads(context.cursor) if context.cursor else {}
    alerted, reported = cursor.get("alerted", {}), cursor.get("reported", {})
    changed = []
    for source, (latest, overdue) in freshness.items():
        state = f"{latest}|{overdue}"
        if reported.get(source) != state:
            changed.append(freshness_evaluation(source, latest, overdue))
            reported[source] = state
        if overdue is not None and alerted.get(source) != overdue:
            _send(
                Alert(
                    kind="source_overdue",
                    source=source,
                    period=overdue,
                    check=FRESHNESS,
                    seen=describe_freshness(source, latest, overdue),
                    severity="warn",
                ),
                warehouse,
            )
            alerted[source] = overdue
    listed = ", ".join(
        f"{source} {overdue}" for source, (_, overdue) in sorted(freshness.items()) if overdue
    )
    return dg.SensorResult(
        skip_reason=f"overdue: {listed}" if listed else "every source is fresh",
        asset_events=changed,
        cursor=json.dumps({"alerted": alerted, "reported": reported}),
    )


sensors = [alert_on_run_failure, alert_on_failed_checks, source_freshness]

"""When loads happen: a schedule per source that follows its collection calendar, and a sensor
that loads a period as soon as its files land.

Each schedule fires at 06:00 Europe/London on the days of the year a period of its source can
fall due (its cron expressions are worked out from ``linkage_ops.census_calendar``, e.g.
``0 6 22-28 1,5 *`` and ``0 6 8-14 10 *`` for the School Census), then asks the calendar
whether one fell due that day (a week after a School Census or SEN2 census day, the day after
the 31 March year end for CIN and SSDA903, the 5th of the month for the month before for health
feeds, the day after results day for attainment, by the rule in the source's schema). Both
start stopped: turn them on in the UI (Automation).

A period that fell due but never arrived must show: the ``due_periods`` sensor (running by
default) adds every period the calendar says is due since a source's first period as a
partition, so the UI lists the ones never loaded as missing.
"""

import hashlib
import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from linkage_ops.census_calendar import (
    due_day_crons,
    periods_due_on,
    periods_due_since,
    source_period_end,
)
from linkage_ops.ingest import landing_periods, load_schema
from linkage_ops.ingest.raw_store import Delivery, loaded_files
from linkage_ops.ingest.reader import file_sha256
from orchestration.jobs import ingest_job_name, ingest_jobs
from orchestration.resources import WarehouseResource
from orchestration.settings import SOURCES
from orchestration.sources.partitions import periods_partitions

# Collection days are English days: schedules keep 06:00 through the clock changes.
SCHEDULE_TIMEZONE = "Europe/London"

CADENCE_WORDS = {
    "school_census": "a week after each census day",
    "sen2": "a week after the January census day",
    "annual": "the day after the 31 March year end",
    "monthly": "on the 5th, for the month before",
    # The source's results_due fills in the day, e.g. the first Tuesday on or after 8 July.
    "assessment": "the day after its results arrive ({results_due})",
}


def cadence_words(source: str) -> str:
    """When ``source`` loads, in words, from its schema's cadence (and results day)."""
    schema = load_schema(source)
    return CADENCE_WORDS[schema.cadence].format(results_due=schema.results_due)


def calendar_schedule(source: str) -> dg.ScheduleDefinition:
    partitions = periods_partitions(source)

    @dg.schedule(
        name=f"{source}_calendar",
        cron_schedule=list(due_day_crons(source)),
        execution_timezone=SCHEDULE_TIMEZONE,
        job_name=ingest_job_name(source),
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Load {source} {cadence_words(source)}.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.date()
        periods = periods_due_on(source, day)
        if not periods:
            return dg.SkipReason(f"no {source} period falls due on {day}")
        new = [p for p in periods if not context.instance.has_dynamic_partition(partitions.name, p)]
        context.instance.add_dynamic_partitions(partitions.name, new)
        return [dg.RunRequest(run_key=f"{source}/{p}", partition_key=p) for p in periods]

    return _schedule


def delivery_fingerprint(period_dir: Path) -> str:
    """Changes when any file of a delivery is added, removed, replaced or rewritten."""
    digest = hashlib.sha256()
    for path in sorted(p for p in period_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(period_dir)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def landed_files(period_dir: Path) -> Delivery:
    """The files waiting in a period folder, as (name, SHA-256) pairs like raw.load_log's."""
    return frozenset(
        (path.name, file_sha256(path)) for path in period_dir.iterdir() if path.is_file()
    )


@dg.sensor(
    name="landing_folder",
    jobs=ingest_jobs,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Loads a source period as soon as its files appear (or change) in the landing "
    "folder, adding the period as a partition first. Files already loaded (the same names and "
    "SHA-256 in raw.load_log) are not loaded again.",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    # The cursor keeps the fingerprint of each delivery already handled, so unchanged folders
    # cost a stat per file, and files are hashed only when a delivery is new or changed.
    handled = json.loads(context.cursor) if context.cursor else {}
    try:
        with warehouse.read_only() as con:
            loaded = loaded_files(con) if con is not None else {}
    except duckdb.IOException as error:  # a run is writing: look again next tick
        return dg.SkipReason(f"warehouse busy: {error}")
    run_requests = []
    partition_requests = []
    for source in SOURCES:
        partitions = periods_partitions(source)
        new_periods = []
        for period in landing_periods(warehouse.landing_dir, source):
            period_dir = warehouse.landing_dir / source / period
            if not any(p.is_file() for p in period_dir.rglob("*")):
                continue  # an empty folder: the delivery has not started
            fingerprint = delivery_fingerprint(period_dir)
            if handled.get(f"{source}/{period}") == fingerprint:
                continue
            handled[f"{source}/{period}"] = fingerprint
            if loaded.get((source, period)) == landed_files(period_dir):
                continue  # loaded already (by hand, the demo or a schedule)
            if not context.instance.has_dynamic_partition(partitions.name, period):
                new_periods.append(period)
            run_requests.append(
                dg.RunRequest(
                    # A redelivery (files changed) loads the period again; the same files never.
                    run_key=f"{source}/{period}/{fingerprint}",
                    job_name=ingest_job_name(source),
                    partition_key=period,
                )
            )
        if new_periods:
            partition_requests.append(partitions.build_add_request(new_periods))
    return dg.SensorResult(
        run_requests=run_requests,
        dynamic_partitions_requests=partition_requests,
        cursor=json.dumps(handled),
    )


def missing_due_periods(instance: dg.DagsterInstance, source: str, today: date) -> list[str]:
    """Periods of ``source`` due by ``today`` since its first known period that are not yet
    partitions (a source with no period yet has no start: nothing)."""
    name = periods_partitions(source).name
    known = instance.get_dynamic_partitions(name)
    if not known:
        return []
    first = min(known, key=lambda period: source_period_end(source, period))
    return [period for period in periods_due_since(source, first, today) if period not in known]


@dg.sensor(
    name="due_periods",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds each period that has fallen due by the collection calendar as a "
    "partition of its source, so a period that never arrived shows as missing.",
)
def due_periods_sensor(context: dg.SensorEvaluationContext):
    today = date.today()
    requests = []
    for source in SOURCES:
        missing = missing_due_periods(context.instance, source, today)
        if missing:
            requests.append(periods_partitions(source).build_add_request(missing))
    if not requests:
        return dg.SkipReason(f"every period due by {today} is a partition")
    return dg.SensorResult(dynamic_partitions_requests=requests)


schedules = [calendar_schedule(source) for source in SOURCES]
sensors = [landing_folder_sensor, due_periods_sensor]


# Declarative automation: staging, linkage, marts and the publication carry
# AutomationCondition.eager() (orchestration/dbt/translator.py, linkage and publish assets), so
# once a source period loads, everything downstream refreshes. This sensor evaluates them.
refresh_downstream_sensor = dg.AutomationConditionSensorDefinition(
    "refresh_downstream",
    target=dg.AssetSelection.all() - dg.AssetSelection.groups("landing", "raw"),
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Refreshes staging, linkage, marts and the publication after any source loads.",
)
sensors.append(refresh_downstream_sensor)

"""When loads happen: a schedule per source that follows its collection calendar, and a sensor
that loads a period as soon as its files land.

Schedules run daily at 06:00 and ask ``linkage_ops.census_calendar`` whether a period of their
source fell due that day (a week after a School Census or SEN2 census day, the day after the
31 March year end for CIN and SSDA903, the 5th of the month for the month before for health
feeds). Both start stopped: turn them on in the UI (Automation).
"""

import hashlib
from pathlib import Path

import dagster as dg

from linkage_ops.census_calendar import cadence_of, periods_due_on
from linkage_ops.ingest import landing_periods
from orchestration.jobs import ingest_job_name, ingest_jobs
from orchestration.resources import WarehouseResource
from orchestration.settings import SOURCES
from orchestration.sources.partitions import periods_partitions

CADENCE_WORDS = {
    "school_census": "a week after each census day",
    "sen2": "a week after the January census day",
    "annual": "the day after the 31 March year end",
    "monthly": "on the 5th, for the month before",
}


def calendar_schedule(source: str) -> dg.ScheduleDefinition:
    partitions = periods_partitions(source)

    @dg.schedule(
        name=f"{source}_calendar",
        cron_schedule="0 6 * * *",
        job_name=ingest_job_name(source),
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Load {source} {CADENCE_WORDS[cadence_of(source)]}.",
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


@dg.sensor(
    name="landing_folder",
    jobs=ingest_jobs,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Loads a source period as soon as its files appear (or change) in the landing "
    "folder, adding the period as a partition first.",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    run_requests = []
    partition_requests = []
    for source in SOURCES:
        partitions = periods_partitions(source)
        new_periods = []
        for period in landing_periods(warehouse.landing_dir, source):
            period_dir = warehouse.landing_dir / source / period
            if not any(p.is_file() for p in period_dir.rglob("*")):
                continue  # an empty folder: the delivery has not started
            if not context.instance.has_dynamic_partition(partitions.name, period):
                new_periods.append(period)
            run_requests.append(
                dg.RunRequest(
                    # A redelivery (files changed) loads the period again; the same files never.
                    run_key=f"{source}/{period}/{delivery_fingerprint(period_dir)}",
                    job_name=ingest_job_name(source),
                    partition_key=period,
                )
            )
        if new_periods:
            partition_requests.append(partitions.build_add_request(new_periods))
    return dg.SensorResult(
        run_requests=run_requests, dynamic_partitions_requests=partition_requests
    )


schedules = [calendar_schedule(source) for source in SOURCES]
sensors = [landing_folder_sensor]


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

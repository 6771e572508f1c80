"""Materialise the warehouse in order from code: every landing period, then the refresh.

Used by ``make demo``, the benchmarks and the tests. Runs go through a real Dagster instance,
so they show in the UI's run history. Source partitions and the unpartitioned refresh cannot
share one job (different partitions definitions), hence one job per source period, then one
refresh job.
"""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from linkage_ops.ingest import landing_periods
from orchestration.jobs import REFRESH_JOB, ingest_job_name
from orchestration.settings import SOURCES
from orchestration.sources.partitions import periods_partitions


@dataclass(frozen=True)
class PeriodRun:
    """The ingestion run of one source period."""

    source: str
    period: str
    result: dg.ExecuteInProcessResult


def ingest_landing_folder(
    defs: dg.Definitions, instance: dg.DagsterInstance, landing_dir: Path
) -> list[PeriodRun]:
    """Add every period waiting in the landing folder as a partition and load it. A period
    that fails does not stop the others."""
    runs = []
    for source in SOURCES:
        periods = landing_periods(landing_dir, source)
        partitions_name = periods_partitions(source).name
        instance.add_dynamic_partitions(
            partitions_name,
            [p for p in periods if not instance.has_dynamic_partition(partitions_name, p)],
        )
        job = defs.resolve_job_def(ingest_job_name(source))
        for period in periods:
            result = job.execute_in_process(
                instance=instance, partition_key=period, raise_on_error=False
            )
            runs.append(PeriodRun(source, period, result))
    return runs


def refresh_warehouse(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """Rebuild staging, linkage and marts from every loaded period."""
    return defs.resolve_job_def(REFRESH_JOB).execute_in_process(
        instance=instance, raise_on_error=False
    )

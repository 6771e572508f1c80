"""Materialise the warehouse in order from code: every landing period, then the refresh.

Used by ``make demo``, the benchmarks and the tests. Runs go through a real Dagster instance,
so they show in the UI's run history. Source partitions and the unpartitioned refresh cannot
share one job (different partitions definitions), hence one run per source (its periods as a
partition range), then one refresh run.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from linkage_ops.ingest import landing_periods
from orchestration.jobs import REFRESH_JOB, ingest_job_name
from orchestration.settings import SOURCES
from orchestration.sources.partitions import describe_periods, periods_partitions, range_tags


@dataclass(frozen=True)
class PeriodRun:
    """The ingestion run of a source's periods (one run loads a range of them)."""

    source: str
    periods: list[str]
    result: dg.ExecuteInProcessResult

    @property
    def period(self) -> str:
        return describe_periods(self.periods)


def ingest_landing_folder(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    landing_dir: Path,
    progress: Callable[[PeriodRun], None] | None = None,
) -> list[PeriodRun]:
    """Add every period waiting in the landing folder as a partition and load each source's
    periods in one run (a run per stretch of periods that are next to each other among the
    source's partitions). A source that fails does not stop the others; within a run, a
    period that fails does not stop the others either. ``progress`` hears of each run."""
    runs = []
    for source in SOURCES:
        periods = landing_periods(landing_dir, source)
        partitions_name = periods_partitions(source).name
        instance.add_dynamic_partitions(
            partitions_name,
            [p for p in periods if not instance.has_dynamic_partition(partitions_name, p)],
        )
        job = defs.resolve_job_def(ingest_job_name(source))
        for stretch in _stretches(instance.get_dynamic_partitions(partitions_name), periods):
            result = job.execute_in_process(
                instance=instance,
                tags=range_tags(stretch[0], stretch[-1]),
                raise_on_error=False,
            )
            run = PeriodRun(source, stretch, result)
            runs.append(run)
            if progress is not None:
                progress(run)
    return runs


def _stretches(partitions: list[str], wanted: list[str]) -> list[list[str]]:
    """``wanted`` cut where a period between them among ``partitions`` is not wanted."""
    wanted_set = set(wanted)
    stretches: list[list[str]] = []
    current: list[str] = []
    for partition in partitions:
        if partition in wanted_set:
            current.append(partition)
        elif current:
            stretches.append(current)
            current = []
    if current:
        stretches.append(current)
    return stretches


def refresh_warehouse(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    """Rebuild staging, linkage and marts from every loaded period."""
    return defs.resolve_job_def(REFRESH_JOB).execute_in_process(
        instance=instance, raise_on_error=False
    )

"""Collection periods arrive when the data does, so each source's periods are dynamic: the
demo (and later a landing-folder sensor) adds a period when its folder appears. A run loads
one period or a range of them (the demo and backfills load a source's periods in one run)."""

from __future__ import annotations

import dagster as dg

# The tags Dagster puts on a run of one partition, and on a run of a range of partitions.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def periods_partitions(source: str) -> dg.DynamicPartitionsDefinition:
    """The partitions definition of a source's collection periods (e.g. ``2024-autumn``)."""
    return dg.DynamicPartitionsDefinition(name=f"{source}_periods")


def range_tags(first: str, last: str) -> dict[str, str]:
    """The tags of a run that loads the periods from ``first`` to ``last``."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def run_periods(run: dg.DagsterRun, instance: dg.DagsterInstance, source: str) -> list[str]:
    """The periods a run of ``source``'s ingestion loads: its partition, or each period of its
    range in the order the periods were added."""
    if PARTITION_TAG in run.tags:
        return [run.tags[PARTITION_TAG]]
    first, last = run.tags.get(RANGE_START_TAG), run.tags.get(RANGE_END_TAG)
    if first is None or last is None:
        return []
    periods = instance.get_dynamic_partitions(periods_partitions(source).name)
    if first not in periods or last not in periods:
        return [first] if first == last else [first, last]
    return periods[periods.index(first) : periods.index(last) + 1]


def describe_periods(periods: list[str]) -> str:
    """``2024-04`` for one period, ``2024-04..2025-03 (12 periods)`` for several."""
    if len(periods) == 1:
        return periods[0]
    return f"{periods[0]}..{periods[-1]} ({len(periods)} periods)" if periods else "(none)"

"""Collection periods arrive when the data does, so each source's periods are dynamic: the
demo (and later a landing-folder sensor) adds a period when its folder appears."""

from __future__ import annotations

import dagster as dg


def periods_partitions(source: str) -> dg.DynamicPartitionsDefinition:
    """The partitions definition of a source's collection periods (e.g. ``2024-autumn``)."""
    return dg.DynamicPartitionsDefinition(name=f"{source}_periods")

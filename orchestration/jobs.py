"""Jobs: one ingestion job per source (partitioned by period) and one warehouse refresh."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import SOURCES


def ingest_job_name(source: str) -> str:
    return f"ingest_{source}"


ingest_jobs = [
    dg.define_asset_job(
        ingest_job_name(source),
        selection=dg.AssetSelection.key_prefixes(["raw", source]),
        description=f"Load one {source} collection period from the landing folder.",
    )
    for source in SOURCES
]

REFRESH_JOB = "refresh_warehouse"
refresh_job = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("landing", "raw"),
    description="Rebuild staging, linkage and marts from every loaded period.",
)

"""Which engine builds the warehouse, chosen in one place: ``WAREHOUSE_ENGINE``.

``duckdb`` (the default): one DuckDB file holds raw, staging, marts and linkage; enough for an
authority or a county. ``spark``: raw and linkage tables are written as Parquet (the lake), dbt
builds the same models through dbt-spark, and linkage runs its pairwise work on Spark; for
regional and national linkage on a cluster (see ``linkage_ops.spark``).
"""

from __future__ import annotations

import os

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
# dbt's profile has one output (target) per engine (dbt_project/profiles.yml).
DBT_TARGETS = {"duckdb": "local", "spark": "spark"}


def warehouse_engine() -> str:
    """The engine named by ``WAREHOUSE_ENGINE``; ``ValueError`` naming the variable for an
    engine we do not have."""
    engine = os.environ.get("WAREHOUSE_ENGINE", "").strip().lower() or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise ValueError(f"WAREHOUSE_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
    return engine


def dbt_target(engine: str | None = None) -> str:
    """The dbt target that builds with ``engine`` (default: the configured one)."""
    return DBT_TARGETS[engine or warehouse_engine()]

"""The code location: landing files -> raw -> staging -> intermediate -> linkage -> marts
-> published."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_pyspark import LazyPySparkResource

from linkage_ops.engines import warehouse_engine
from linkage_ops.spark.session import spark_settings
from linkage_ops.warehouse_file import apply_umask
from orchestration.alerts import sensors as alert_sensors
from orchestration.automation import schedules, sensors
from orchestration.dbt.assets import dbt_marts, dbt_staging_and_intermediate
from orchestration.dbt.project import dbt_project
from orchestration.jobs import ingest_jobs, refresh_job
from orchestration.linkage.assets import person_key_bridge
from orchestration.notifications.assets import death_notifications
from orchestration.publish.assets import published_marts
from orchestration.resources import WarehouseResource
from orchestration.settings import SOURCES, data_dir
from orchestration.sources.assets import build_source_assets, landing_files_spec
from orchestration.sources.freshness import freshness_checks
from orchestration.sources.quality_checks import build_mart_quality_checks, build_quality_checks


def build_definitions(warehouse_data_dir: str) -> dg.Definitions:
    """Definitions for one warehouse folder (tests build their own in a temporary folder).
    What the runs write is the owner's only, unless ``WAREHOUSE_UMASK`` says otherwise."""
    apply_umask()
    warehouse_engine()  # a misspelt WAREHOUSE_ENGINE fails here, before any run
    return dg.Definitions(
        assets=[
            *(landing_files_spec(source) for source in SOURCES),
            *(build_source_assets(source) for source in SOURCES),
            dbt_staging_and_intermediate,
            person_key_bridge,
            dbt_marts,
            published_marts,
            death_notifications,
        ],
        asset_checks=[
            *(build_quality_checks(source) for source in SOURCES),
            build_mart_quality_checks(dbt_marts),
            freshness_checks,
        ],
        jobs=[*ingest_jobs, refresh_job],
        schedules=schedules,
        sensors=[*sensors, *alert_sensors],
        resources={
            "warehouse": WarehouseResource(data_dir=warehouse_data_dir),
            "dbt": DbtCliResource(project_dir=dbt_project),
            # Linkage's Spark session (WAREHOUSE_ENGINE=spark), started on first use only.
            "spark": LazyPySparkResource(
                spark_config=spark_settings(
                    WarehouseResource(data_dir=warehouse_data_dir).spark_dir
                )
            ),
        },
        # DuckDB has one writer per file: run the steps of a run one after another.
        executor=dg.in_process_executor,
    )


defs = build_definitions(str(data_dir()))

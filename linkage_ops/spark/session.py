"""One Spark configuration for every process that uses Spark: dbt (dbt-spark's ``session``
method starts its own SparkSession in the dbt process), linkage and tests.

The configuration is written once, as ``spark-defaults.conf`` in the warehouse's Spark folder,
and every process finds it through ``SPARK_CONF_DIR`` (Spark's own mechanism), so dbt and
Python never carry two copies. Locally, tables dbt builds live under ``warehouse/`` with their
catalogue in an embedded Derby metastore (one process at a time: dbt runs one after another);
on a cluster the cluster's own catalogue and storage take their place (README, "Running on
Spark").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Local mode: two worker threads (this machine's cores) and up to three attempts per task, so
# that a lost task is retried by Spark itself (``local[N]`` alone never retries).
DEFAULT_MASTER = "local[2,3]"


def spark_settings(spark_dir: Path) -> dict[str, str]:
    """The Spark configuration of a warehouse whose Spark folder is ``spark_dir``. Under
    ``spark-submit`` (which starts Python with ``PYSPARK_GATEWAY_PORT`` set) the master is the
    one ``--master`` gave, unless ``SPARK_MASTER`` names another."""
    spark_dir = Path(spark_dir).resolve()
    # Spark's Python workers run PYSPARK_PYTHON (else whatever `python3` is on PATH, which may
    # lack pandas and pyarrow): this interpreter, unless the deployment names another.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ and "SPARK_MASTER" not in os.environ
    master = {} if submitted else {"spark.master": os.environ.get("SPARK_MASTER", DEFAULT_MASTER)}
    return {
        **master,
        "spark.app.name": "children-linkage-warehouse",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        # The catalogue of dbt's tables (Hive metastore on embedded Derby), kept beside them.
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # A small machine: few shuffle partitions; a cluster sets its own.
        "spark.sql.shuffle.partitions": os.environ.get("SPARK_SHUFFLE_PARTITIONS", "8"),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # dbt-built tables are plain Parquet, read back by path (lake.read_table).
        "spark.sql.sources.default": "parquet",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        # Disclosure control writes its rounds out as nested queries (dbt_project/macros/
        # disclosure_control.sql): more than the analyser's default 100 passes.
        "spark.sql.analyzer.maxIterations": "1000",
        "spark.sql.optimizer.maxIterations": "1000",
        "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", "4g"),
    }


def write_spark_defaults(spark_dir: Path) -> Path:
    """Write ``spark-defaults.conf`` for ``spark_dir`` and return its folder (``conf/``)."""
    conf_dir = Path(spark_dir).resolve() / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"{key} {value}" for key, value in spark_settings(spark_dir).items()]
    (conf_dir / "spark-defaults.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (conf_dir / "log4j2.properties").write_text(_QUIET_LOGGING, encoding="utf-8")
    return conf_dir


def spark_environment(spark_dir: Path) -> dict[str, str]:
    """Environment variables a process needs to use the warehouse's Spark configuration (dbt's
    profile reads ``WAREHOUSE_SPARK_DIR`` for where the lake is)."""
    return {
        "SPARK_CONF_DIR": str(write_spark_defaults(spark_dir)),
        "WAREHOUSE_SPARK_DIR": str(Path(spark_dir).resolve()),
    }


@contextmanager
def spark_session(spark_dir: Path, **extra: str) -> Iterator[object]:
    """A SparkSession with the warehouse's configuration (plus ``extra`` settings), stopped on
    leaving. Plain Parquet catalogue (no Hive): linkage reads and writes the lake by path, so it
    never holds the metastore dbt uses."""
    from pyspark.sql import SparkSession

    os.environ.update(spark_environment(spark_dir))
    builder = SparkSession.builder
    for key, value in {**spark_settings(spark_dir), **extra}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        yield session
    finally:
        session.stop()


# Spark logs at INFO to the console by default; warnings and errors are what a run needs.
# (Not WindowExec's warning on every window over a whole table: disclosure control's windows
# over a small aggregate are meant to be one partition.)
_QUIET_LOGGING = """\
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.hive.name = org.apache.hadoop.hive
logger.hive.level = error
logger.datanucleus.name = DataNucleus
logger.datanucleus.level = error
logger.window.name = org.apache.spark.sql.execution.window.WindowExec
logger.window.level = error
"""

"""The warehouse resource: where files land and which DuckDB file the pipeline writes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.settings import APP_DATABASE


class WarehouseResource(dg.ConfigurableResource):
    """Paths of one warehouse. Open connections late and close them early: DuckDB allows one
    writer per file, and dbt opens the same file between steps."""

    data_dir: str

    @property
    def landing_dir(self) -> Path:
        return Path(self.data_dir) / "landing"

    @property
    def truth_dir(self) -> Path:
        """Ground truth of a synthetic authority; read only by linkage evaluation."""
        return Path(self.data_dir) / "truth"

    @property
    def database_path(self) -> Path:
        return Path(self.data_dir) / "warehouse.duckdb"

    @property
    def spark_dir(self) -> Path:
        """With the Spark engine: its configuration, the lake of Parquet tables the Python
        steps write, and the tables dbt builds (see ``linkage_ops.spark``)."""
        return Path(self.data_dir) / "spark"

    @property
    def published_dir(self) -> Path:
        """Where BI tools read the published marts (see ``linkage_ops.publish``)."""
        return Path(self.data_dir) / "published"

    @property
    def reports_dir(self) -> Path:
        """Data-quality reports (HTML), one folder per run."""
        return Path(self.data_dir) / "reports"

    @property
    def alerts_log_path(self) -> Path:
        """Every alert, one JSON line each (also in the operations.alerts table)."""
        return Path(self.data_dir) / "logs" / "alerts.log"

    @property
    def model_path(self) -> Path:
        """The linkage model trained on the latest run, as JSON."""
        return Path(self.data_dir) / "linkage" / "model.json"

    @property
    def dbt_dir(self) -> Path:
        """dbt's folder for this warehouse: each recent dbt invocation's artefacts and log
        (``runs/``), and dbt's parse of the project, kept between refreshes (see
        ``orchestration.dbt.assets``)."""
        return Path(self.data_dir) / "dbt"

    @property
    def app_database(self) -> Path:
        """The review web app's own database (users, decisions, audit); the linkage step reads
        reviewers' decisions from it (``linkage_ops.linkage.store.read_app_decisions``)."""
        return Path(self.data_dir) / APP_DATABASE

    @contextmanager
    def read_only(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection, or None before the warehouse exists. Raises
        duckdb.IOException while a run is writing to it."""
        if not self.database_path.exists():
            yield None
            return
        con = duckdb.connect(str(self.database_path), read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.database_path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.database_path))
        try:
            yield con
        finally:
            con.close()

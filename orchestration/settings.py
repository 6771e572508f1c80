"""Where the warehouse lives. An authority points these at its own folders with env vars."""

from __future__ import annotations

import os
from pathlib import Path

from linkage_ops.ingest import available_sources

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# dbt models that read what linkage wrote (the person keys): they build with the marts, after
# linkage, not with staging and intermediate before it.
LINKED_MODELS = "path:models/intermediate/linked"

# Every source with a schema in linkage_ops/schemas (and staging models in dbt_project).
SOURCES = tuple(available_sources())


def data_dir() -> Path:
    """Root of the landing folder, the DuckDB file and the (synthetic) truth."""
    return Path(os.environ.get("WAREHOUSE_DATA_DIR", PROJECT_ROOT / "data")).resolve()


# The review web app's own database (users, sessions, decisions, audit), under the data folder:
# the app writes it, the linkage step reads reviewers' decisions from it.
APP_DATABASE = Path("app") / "app.sqlite3"


def app_address() -> tuple[str, int]:
    """Where the web app listens: ``APP_HOST`` (127.0.0.1) and ``APP_PORT`` (8000)."""
    return os.environ.get("APP_HOST", "127.0.0.1"), int(os.environ.get("APP_PORT", "8000"))


def app_base_url() -> str:
    """The web app's address as its users reach it, for links in alerts: ``APP_BASE_URL``
    (behind a proxy, e.g. https://warehouse.example.gov.uk), or the address it listens on."""
    host, port = app_address()
    return (os.environ.get("APP_BASE_URL") or f"http://{host}:{port}").rstrip("/")

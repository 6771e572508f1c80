"""Shared fixtures: the dbt manifest must exist before the Dagster definitions load."""

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from orchestration.dbt.project import dbt_project


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    # `make test` runs the suite in two processes (pytest-xdist): one prepares the manifest at
    # a time, so neither reads a half-written one.
    target = dbt_project.project_dir / "target"
    target.mkdir(exist_ok=True)
    with FileLock(str(target / ".prepare.lock")):
        dbt_project.preparer.prepare(dbt_project)


@pytest.fixture
def run_dbt(tmp_path) -> Callable[..., subprocess.CompletedProcess]:
    """Runs one dbt command on the DuckDB file ``database`` (targets and logs in the test's
    folder) and fails the test, with dbt's output, unless it succeeds."""
    dbt = shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))

    def run(database: Path, *command: str) -> subprocess.CompletedProcess:
        paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
        done = subprocess.run(
            [dbt, *command, *paths],
            cwd=dbt_project.project_dir,
            env={**os.environ, "WAREHOUSE_DUCKDB_PATH": str(database)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:]
        return done

    return run


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory) -> None:
    """The web app's test database is a file, as in use, so that the linkage step's reader
    (plain sqlite3) can open it in tests."""
    from django.conf import settings

    test_database = tmp_path_factory.mktemp("webapp") / "app.sqlite3"
    settings.DATABASES["default"]["TEST"]["NAME"] = str(test_database)


# The longest files, longest first, as measured (`make test`, three processes, 2026-12-06: 555,
# 374, 287, 260, 241, 140, 127, 119, 76 and 41 s; every other file 20 s or less). xdist hands
# files out in the order given, so the longest start first and the short ones fill the gaps at
# the end. Only the schedule depends on this list: a file missing from it runs after them.
LONGEST_FILES = (
    "test_spark_engine.py",
    "test_blocked_refresh.py",
    "test_death_notifications.py",
    "test_pipeline.py",
    "test_automation.py",
    "test_years.py",
    "test_disclosure.py",
    "test_webapp_browser.py",
    "test_spark_linkage.py",
    "test_attainment_sources.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (``LONGEST_FILES``), then the rest as collected, each file's
    tests kept together in their order: a long file started last would leave the other
    processes idle at the end (the Makefile keeps xdist from reordering files)."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)

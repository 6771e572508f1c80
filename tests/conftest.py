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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest files first (the whole graph on Spark, then the other end-to-end runs and
    Spark tests), each file's tests kept together in their order: with two processes, a long
    file started last would leave the other process idle at the end (the Makefile keeps xdist
    from reordering files). Only one file builds the graph on Spark, so two Spark JVMs do not
    start together."""

    def rank(item: pytest.Item) -> int:
        spark, integration = (
            item.get_closest_marker(name) is not None for name in ("spark", "integration")
        )
        return 0 if spark and integration else 1 if spark or integration else 2

    by_file: dict[str, int] = {}
    for item in items:
        by_file[item.fspath.strpath] = min(by_file.get(item.fspath.strpath, 2), rank(item))
    items.sort(key=lambda item: by_file[item.fspath.strpath])

"""Shared fixtures: the dbt manifest must exist before the Dagster definitions load."""

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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory) -> None:
    """The web app's test database is a file, as in use, so that the linkage step's reader
    (plain sqlite3) can open it in tests."""
    from django.conf import settings

    test_database = tmp_path_factory.mktemp("webapp") / "app.sqlite3"
    settings.DATABASES["default"]["TEST"]["NAME"] = str(test_database)

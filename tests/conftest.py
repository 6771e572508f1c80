"""Shared fixtures: the dbt manifest must exist before the Dagster definitions load."""

import pytest

from orchestration.dbt.project import dbt_project


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    dbt_project.preparer.prepare(dbt_project)

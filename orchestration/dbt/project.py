"""The dbt project and its manifest."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """Parse the dbt project if it has no manifest yet (a fresh clone). ``make`` targets parse
    it up front; ``dagster dev`` re-parses on start through ``prepare_if_dev``."""
    if dbt_project.manifest_path.exists():
        dbt_project.prepare_if_dev()
    else:
        dbt_project.preparer.prepare(dbt_project)

"""The dbt project and its manifest."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

# dagster-dbt runs `dbt` from PATH. Put this interpreter's bin first so that an un-activated
# `.venv/bin/python` (tests, the demo, CI) uses the dbt installed beside it.
_interpreter_bin = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _interpreter_bin:
    os.environ["PATH"] = os.pathsep.join([_interpreter_bin, os.environ.get("PATH", "")])

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """Parse the dbt project if it has no manifest yet (a fresh clone). ``make`` targets parse
    it up front; ``dagster dev`` re-parses on start through ``prepare_if_dev``."""
    if dbt_project.manifest_path.exists():
        dbt_project.prepare_if_dev()
    else:
        dbt_project.preparer.prepare(dbt_project)

"""Asset keys and groups of dbt resources, decided in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.conditions import REFRESH_WHEN_UPSTREAM_CHANGES


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Models take their layer's folder as their group (staging, intermediate, marts); seeds
    are reference data. Sources keep the asset keys their ``meta.dagster.asset_key`` gives, so
    they join the raw and linkage assets that write them."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=False))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1]
        return super().get_group_name(dbt_resource_props)

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        """Everything downstream of the raw tables refreshes once any upstream changes
        (declarative automation, evaluated by Dagster's automation sensor)."""
        return REFRESH_WHEN_UPSTREAM_CHANGES


translator = WarehouseDbtTranslator()

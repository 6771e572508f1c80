"""Asset keys and groups of dbt resources, decided in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.conditions import REFRESH_WHEN_UPSTREAM_CHANGES
from orchestration.ownership import owners_of, tags_of


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Models take their layer's folder as their group (staging, intermediate, marts; the
    identifiable marts are ``restricted``); seeds are reference data. Owners and the personal
    data tag follow the group (``orchestration.ownership``). Sources keep the asset keys their
    ``meta.dagster.asset_key`` gives, so they join the raw and linkage assets that write
    them."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=False))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        if dbt_resource_props["resource_type"] == "model":
            layer = dbt_resource_props["fqn"][1]
            # Identifiable marts (models/marts/restricted) are a group of their own.
            if layer == "marts" and dbt_resource_props["fqn"][2] == "restricted":
                return "restricted"
            return layer
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        group = self.get_group_name(dbt_resource_props)
        return owners_of(group) if group else None

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        group = self.get_group_name(dbt_resource_props)
        return {**super().get_tags(dbt_resource_props), **(tags_of(group) if group else {})}

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        """Everything downstream of the raw tables refreshes once any upstream changes
        (declarative automation, evaluated by Dagster's automation sensor)."""
        return REFRESH_WHEN_UPSTREAM_CHANGES


translator = WarehouseDbtTranslator()

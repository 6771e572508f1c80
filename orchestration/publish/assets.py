"""Publish the marts after every successful refresh (see ``linkage_ops.publish``)."""

import dagster as dg

from linkage_ops.publish import publish
from orchestration.conditions import REFRESH_WHEN_UPSTREAM_CHANGES
from orchestration.dbt.assets import dbt_marts
from orchestration.ownership import owners_of, tags_of
from orchestration.resources import WarehouseResource


@dg.asset(
    key=["published", "marts"],
    deps=[dbt_marts],
    group_name="published",
    owners=owners_of("published"),
    tags=tags_of("published"),
    kinds={"duckdb", "parquet", "excel"},
    automation_condition=REFRESH_WHEN_UPSTREAM_CHANGES,
    description="The marts copied for their audiences: for BI tools, the marts about no one "
    "child (aggregates, code lists, quality) in data/published/marts.duckdb and one Parquet "
    "file per mart in data/published/parquet/, the aggregates also as "
    "data/published/csv/<mart>.csv and one workbook, data/published/marts.xlsx; the "
    "pseudonymous person-level marts in data/published/person_level/ and the restricted marts "
    "in data/published/restricted/ (both the owner's only). Tables and columns carry their "
    "descriptions. The whole publication is switched at once; runs only when the marts and "
    "their blocking checks succeeded, so a failed refresh leaves the last publication in place.",
)
def published_marts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    publication = publish(warehouse.database_path, warehouse.published_dir, context.run.run_id)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(warehouse.published_dir)),
            "files": dg.MetadataValue.json(publication.files),
            # Rows published in all, every audience's tables.
            "dagster/row_count": sum(
                rows for tables in publication.tables.values() for rows in tables.values()
            ),
            **{
                f"rows/{schema}/{table}": rows
                for schema, tables in publication.tables.items()
                for table, rows in tables.items()
            },
        }
    )

"""Tell the services when a child they know has died (see ``linkage_ops.death_notifications``),
in the same refresh that linked the death, once the do-not-contact list is published."""

import dagster as dg

from linkage_ops.alerts import AlertSettings
from linkage_ops.death_notifications import NOTIFICATIONS_TABLE, notify_deaths
from orchestration.conditions import REFRESH_WHEN_UPSTREAM_CHANGES
from orchestration.ownership import owners_of, tags_of
from orchestration.publish.assets import published_marts
from orchestration.resources import WarehouseResource
from orchestration.settings import app_base_url


@dg.asset(
    key=["restricted", "death_notifications"],
    deps=[published_marts],
    group_name="restricted",
    owners=owners_of("restricted"),
    tags=tags_of("restricted"),
    kinds={"duckdb", "email"},
    automation_condition=REFRESH_WHEN_UPSTREAM_CHANGES,
    description="Each child the deaths feed reports as having died, linked to records of "
    "another source, notified once through the alert sinks (webhook; email to "
    "ALERT_SMTP_RECIPIENTS and to each holding service's ALERT_SMTP_RECIPIENTS_<SERVICE>) with "
    "the person key, the services and a link to the restricted do-not-contact list in the web "
    f"app; never a name or an identifier. Recorded in {NOTIFICATIONS_TABLE}.",
)
def death_notifications(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    notified = notify_deaths(
        warehouse.database_path,
        AlertSettings.from_env(),
        warehouse.alerts_log_path,
        app_base_url(),
        run_id=context.run.run_id,
    )
    for notice in notified:
        context.log.info(f"death notification: {notice.person_key} to {', '.join(notice.services)}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(notified),
            "notified": dg.MetadataValue.json(
                [{"person_key": n.person_key, "services": list(n.services)} for n in notified]
            ),
        }
    )

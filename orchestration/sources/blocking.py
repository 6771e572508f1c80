"""Which loaded periods failed a blocking check, so that no refresh builds from them.

Declarative automation already waits while a raw table's blocking check fails
(``all_deps_blocking_checks_passed``); this applies the same rule to a refresh launched by hand
or by ``make demo``: the staging step fails, naming the period and what the check saw, so
linkage, the marts and the publication keep their last good state. Fixing the delivery and
reloading the period clears it (its newest evaluation then passes).
"""

import dagster as dg
import duckdb

from linkage_ops.ingest.raw_store import loaded_periods
from orchestration.settings import SOURCES
from orchestration.sources.assets import ROWS_RECONCILE, raw_asset_key, raw_assets
from orchestration.sources.quality_checks import EXPECTATIONS

BLOCKING_RAW_CHECKS = (EXPECTATIONS, ROWS_RECONCILE)
HISTORY_LIMIT = 1000  # evaluations read per check: decades of monthly periods


def failed_blocking_checks(
    instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection
) -> list[str]:
    """'<asset> <period>: <check> (<what it saw>)' for each period in the raw tables whose
    newest evaluation of a blocking check failed. (Periods no longer in the warehouse, e.g.
    after it was rebuilt, do not count.)"""
    failures = []
    reported: set[tuple[str, str | None, str, str]] = set()  # the same finding, once per period
    for source in SOURCES:
        loaded = loaded_periods(con, source)
        for table in raw_assets(source):
            for check in BLOCKING_RAW_CHECKS:
                key = dg.AssetCheckKey(raw_asset_key(source, table), check)
                newest = {}
                for record in instance.event_log_storage.get_asset_check_execution_history(
                    key, limit=HISTORY_LIMIT
                ):  # newest first
                    if record.status.value == "PLANNED":  # still running
                        continue
                    evaluation = record.event.dagster_event.asset_check_evaluation_data
                    # The checks run in the period's load and record it in their metadata.
                    period = evaluation.metadata.get("period")
                    newest.setdefault(period.value if period else None, evaluation)
                for period, evaluation in sorted(newest.items(), key=lambda item: str(item[0])):
                    if evaluation.passed or (period and period not in loaded):
                        continue
                    seen = evaluation.metadata.get("seen")
                    # A file that failed fails the check of every table of its source: once.
                    finding = (source, period, check, seen.value if seen else "")
                    if seen and finding in reported:
                        continue
                    reported.add(finding)
                    failures.append(
                        f"{key.asset_key.to_user_string()} {period or ''}: {check}"
                        + (f" ({seen.value})" if seen else "")
                    )
    return failures

"""Freshness: each source declares, through the census calendar, when its next period falls due
and how many days late it may be (``max_days_late`` in its schema, or its cadence's default in
``linkage_ops.census_calendar.MAX_DAYS_LATE``). A
``freshness`` check on each source's landing asset says whether its latest loaded period is
the one expected; it fails (WARN: the other sources still refresh) once a period is overdue.

The ``source_freshness`` sensor (``orchestration.alerts``) evaluates these checks every hour and
reports each change of state, so the Dagster UI shows an overdue source on its landing asset;
the checks can also be executed from the UI.
"""

from datetime import date

import dagster as dg

from linkage_ops.census_calendar import cadence_of, max_days_late, newest_period, overdue_period
from linkage_ops.ingest.raw_store import loaded_files
from orchestration.resources import WarehouseResource
from orchestration.settings import SOURCES
from orchestration.sources.assets import landing_files_spec

FRESHNESS = "freshness"


def latest_loaded_periods(warehouse: WarehouseResource) -> dict[str, str]:
    """Each source's newest loaded period, from raw.load_log (read-only)."""
    with warehouse.read_only() as con:
        loaded = loaded_files(con) if con is not None else {}
    periods: dict[str, list[str]] = {}
    for source, period in loaded:
        periods.setdefault(source, []).append(period)
    return {source: newest_period(source, found) for source, found in periods.items()}


def freshness_key(source: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(landing_files_spec(source).key, FRESHNESS)


def describe_freshness(source: str, latest: str | None, overdue: str | None) -> str:
    days = max_days_late(source)
    loaded = f"latest period loaded is {latest or 'none'}"
    if overdue is None:
        return f"{loaded}: fresh"
    return f"{loaded}; {overdue} fell due more than {days} days ago"


def freshness_evaluation(
    source: str, latest: str | None, overdue: str | None
) -> dg.AssetCheckEvaluation:
    """The outcome of ``source``'s freshness check, as the sensor reports it."""
    key = freshness_key(source)
    return dg.AssetCheckEvaluation(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=overdue is None,
        severity=dg.AssetCheckSeverity.WARN,
        description=describe_freshness(source, latest, overdue),
        metadata={
            "latest_loaded": latest or "none",
            "overdue_period": overdue or "none",
            "cadence": cadence_of(source),
            "max_days_late": max_days_late(source),
        },
    )


def evaluate_freshness(
    warehouse: WarehouseResource, today: date
) -> dict[str, tuple[str | None, str | None]]:
    """Each source's latest loaded period and, if it is overdue on ``today``, the period
    expected."""
    latest = latest_loaded_periods(warehouse)
    return {
        source: (latest.get(source), overdue_period(source, latest.get(source), today))
        for source in SOURCES
    }


@dg.multi_asset_check(
    name="source_freshness_checks",
    specs=[
        dg.AssetCheckSpec(
            FRESHNESS,
            asset=landing_files_spec(source).key,
            description=f"The latest {source} period loaded is the one the census calendar "
            f"expects, at most {max_days_late(source)} days after it fell due "
            f"({cadence_of(source)}). WARN: the other sources still refresh.",
        )
        for source in SOURCES
    ],
    can_subset=True,
)
def freshness_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    selected = context.selected_asset_check_keys
    for source, (latest, overdue) in evaluate_freshness(warehouse, date.today()).items():
        if freshness_key(source) not in selected:
            continue
        evaluation = freshness_evaluation(source, latest, overdue)
        yield dg.AssetCheckResult(
            asset_key=evaluation.asset_key,
            check_name=evaluation.check_name,
            passed=evaluation.passed,
            severity=evaluation.severity,
            description=evaluation.description,
            metadata=evaluation.metadata,
        )

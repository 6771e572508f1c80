"""The linkage quality and dashboard pages: which pseudonymous marts each shows, how it is
filtered and charted. Only ``published/marts.duckdb`` is read here (disclosure-controlled
aggregates and pseudonymous quality marts), never the restricted file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from django.utils.safestring import SafeString, mark_safe

from linkage_ops.linkage.engine import LINKED_DECISIONS, REVIEW_DECISIONS
from webapp import charts, published

TABLE_ROWS = 300
# Where a mart holds a year, a district or a group, the filter applies to that column.
YEAR_COLUMNS = ("academic_year",)
DISTRICT_COLUMNS = ("postcode_district",)
GROUP_COLUMNS = ("outcome_group", "cohort", "child_group", "presenting_need")


@dataclass(frozen=True)
class Section:
    """One mart on a page: its table, and a bar chart of ``value`` labelled by ``labels`` over
    the rows ``chart_rows`` selects (a pandas query)."""

    mart: str
    title: str
    labels: tuple[str, ...]
    value: str
    chart_rows: str = ""
    unit: str = ""


DASHBOARD = (
    Section("dashboard_kpis", "Key indicators at the as-at date", ("kpi",), "children"),
    Section(
        "planning_cohort_counts",
        "Cohorts (planning)",
        ("cohort",),
        "children",
        "is_total and breakdown == 'sex'",
    ),
    Section(
        "planning_cohort_overlaps",
        "Cohort overlaps (planning)",
        ("cohort", "other_cohort"),
        "percent_also_in_other",
        unit="%",
    ),
    Section(
        "commissioning_demand_by_district",
        "Demand by district (commissioning)",
        ("postcode_district", "category"),
        "children",
        "not is_total",
    ),
    Section(
        "commissioning_camhs_waits",
        "CAMHS waits (commissioning)",
        ("child_group",),
        "median_waiting_days",
        unit=" days",
    ),
    Section(
        "send_health_profile",
        "SEND health profile",
        ("presenting_need", "indicator"),
        "children",
        "status == 'yes'",
    ),
    Section(
        "outcomes_attendance_and_exclusions",
        "Attendance and exclusions (outcomes)",
        ("academic_year", "measure"),
        "rate_per_100",
    ),
    Section(
        "outcomes_by_group",
        "Outcomes by group",
        ("outcome_group", "measure"),
        "rate_per_100",
        "is_total and breakdown == 'key_stage'",
    ),
)


@dataclass(frozen=True)
class Filters:
    year: str = ""
    district: str = ""
    group: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        return cls(query.get("year", ""), query.get("district", ""), query.get("group", ""))


def _filter(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    for wanted, columns in (
        (filters.year, YEAR_COLUMNS),
        (filters.district, DISTRICT_COLUMNS),
        (filters.group, GROUP_COLUMNS),
    ):
        column = next((c for c in columns if c in frame.columns), None)
        if wanted and column:
            frame = frame[frame[column].astype(str) == wanted]
        elif (
            wanted
            and columns is DISTRICT_COLUMNS
            and {"breakdown", "breakdown_value"} <= set(frame.columns)
        ):
            frame = frame[
                (frame.breakdown == "postcode_district") & (frame.breakdown_value == wanted)
            ]
    return frame


def _options(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> list[str]:
    values: set[str] = set()
    for frame in frames:
        for column in columns:
            if column in frame.columns:
                values |= set(frame[column].dropna().astype(str))
        if columns is DISTRICT_COLUMNS and {"breakdown", "breakdown_value"} <= set(frame.columns):
            values |= set(frame[frame.breakdown == "postcode_district"].breakdown_value.dropna())
    return sorted(values - {"all", "all districts", "not known"})


def _shown(value: object) -> object:
    if value is None or (not isinstance(value, str | bool) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return (
            f"{value:.4g}"
            if abs(value) < 1e-3 and value
            else f"{value:,.4f}".rstrip("0").rstrip(".")
        )
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def table(frame: pd.DataFrame) -> dict[str, object]:
    shown = frame.head(TABLE_ROWS).astype(object).map(_shown)
    return {
        "columns": list(frame.columns),
        "rows": shown.to_numpy().tolist(),
        "total": len(frame),
        "cut": len(frame) > TABLE_ROWS,
    }


def _chart(frame: pd.DataFrame, section: Section) -> SafeString | None:
    if section.value not in frame.columns or not set(section.labels) <= set(frame.columns):
        return None
    rows = frame.query(section.chart_rows) if section.chart_rows else frame
    rows = rows.sort_values(list(section.labels)).head(40)
    if rows.empty:
        return None
    labels = rows[list(section.labels)].astype(str).agg(" / ".join, axis=1).tolist()
    values = [None if pd.isna(v) else float(v) for v in rows[section.value]]
    return mark_safe(charts.bars(labels, values, section.unit, title=section.title))


def dashboard_context(query: Mapping[str, str]) -> dict[str, object]:
    """Each dashboard mart filtered by year, district and group, as a chart and a table."""
    filters = Filters.of(query)
    available = set(published.tables(published.PSEUDONYMOUS))
    frames = {
        section.mart: published.query(published.PSEUDONYMOUS, f"select * from {section.mart}")
        for section in DASHBOARD
        if section.mart in available
    }
    sections = []
    for section in DASHBOARD:
        if section.mart not in frames:
            continue
        frame = _filter(frames[section.mart], filters)
        sections.append(
            {"section": section, "chart": _chart(frame, section), "table": table(frame)}
        )
    every = list(frames.values())
    return {
        "filters": filters,
        "years": _options(every, YEAR_COLUMNS),
        "districts": _options(every, DISTRICT_COLUMNS),
        "groups": _options(every, GROUP_COLUMNS),
        "sections": sections,
    }


def _link_rates(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Percent of records linked, from the disclosure-controlled link-status counts."""
    status = frame[frame.measure == "link_status"]
    totals = status[status.is_total].set_index(by).records
    linked = status[status.status == "linked"].set_index(by).records
    rates = (linked / totals * 100).round(1).rename("percent_linked")
    return pd.concat(
        [totals.rename("records"), linked.rename("linked"), rates], axis=1
    ).reset_index()


def quality_context(query: Mapping[str, str]) -> dict[str, object]:
    """Match weight distribution, link rates by source and period and by subgroup (bias), the
    model's parameters and key changes per run."""

    def read(mart: str) -> pd.DataFrame:
        return published.query(published.PSEUDONYMOUS, f"select * from {mart}")

    weights = read("quality_match_weights")
    context: dict[str, object] = {}
    if not weights.empty:
        outcome = weights.decision.map(
            lambda d: (
                "linked"
                if d in LINKED_DECISIONS
                else "review"
                if d in REVIEW_DECISIONS
                else "not linked"
            )
        )
        by_bin = weights.assign(outcome=outcome).pivot_table(
            index="weight_from", columns="outcome", values="pairs", aggfunc="sum", fill_value=0
        )
        low, high = int(by_bin.index.min()), int(by_bin.index.max()) + 1
        counts = by_bin.sum(axis=1).reindex(range(low, high), fill_value=0)
        context["weight_histogram"] = mark_safe(
            charts.histogram(list(range(low, high + 1)), counts.astype(int).tolist())
        )
        context["weight_table"] = table(by_bin.reset_index())
    by_source = read("quality_linkage_by_source")
    rates = _link_rates(by_source, ["source", "period"]).sort_values(["source", "period"])
    # Per source and period as published: summing suppressed cells would mislead.
    context["source_chart"] = _percent_linked_chart(
        rates.source + " " + rates.period, rates.percent_linked, "by source and period"
    )
    context["source_table"] = table(rates)
    bias = read("quality_linkage_bias").sort_values(["breakdown", "breakdown_value"])
    context["bias_chart"] = _percent_linked_chart(
        bias.breakdown + ": " + bias.breakdown_value, bias.percent_linked, "by subgroup"
    )
    context["bias_table"] = table(bias)
    parameters = read("quality_model_parameters")
    context["parameters_table"] = table(
        parameters.drop(columns=["prior_probability", "prior_weight", "run_id"])
    )
    context["prior"] = None if parameters.empty else parameters.iloc[0]
    context["key_changes_table"] = table(read("quality_key_changes"))
    return context


def _percent_linked_chart(labels: pd.Series, percents: pd.Series, by: str) -> str:
    """Bars of the share of records linked, one per label (a withheld cell has no bar)."""
    return mark_safe(
        charts.bars(
            labels.tolist(),
            [None if pd.isna(v) else float(v) for v in percents],
            "%",
            title=f"Records linked {by}",
        )
    )

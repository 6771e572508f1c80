"""The linkage quality and dashboard pages: which pseudonymous marts each shows, how it is
filtered and charted. Only ``published/marts.duckdb`` is read here (disclosure-controlled
aggregates and pseudonymous quality marts), never the restricted file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
from django.utils.safestring import SafeString, mark_safe

from linkage_ops.linkage.engine import LINKED_DECISIONS, REVIEW_DECISIONS
from webapp import charts, published

TABLE_ROWS = 300
# Columns of quality_model_parameters that hold one value for the whole run, shown above its
# table rather than on every row.
RUN_COLUMNS = ("prior_probability", "prior_weight", "run_id")
THRESHOLD_COLUMNS = {"match": "match_threshold", "review": "review_threshold"}
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


def academic_year(day: date) -> str:
    """The academic year a date falls in (1 September to 31 August), as the marts write it:
    2024-25."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _kpi_trend(history: pd.DataFrame, filters: Filters) -> dict[str, object] | None:
    """dashboard_kpis_history as one small chart per KPI over the as-at dates, with the filters
    that mean something for it: the year keeps the as-at dates of that academic year, a group
    that is a KPI keeps that KPI. The KPIs are the authority's: no district filter applies."""
    if history.empty:
        return None
    history = history.assign(as_at_date=pd.to_datetime(history.as_at_date).dt.date)
    applied = []
    if filters.year:
        history = history[history.as_at_date.map(academic_year) == filters.year]
        applied.append("year")
    if filters.group and filters.group in set(history.kpi):
        history = history[history.kpi == filters.group]
        applied.append("group")
    if history.empty:
        return {"chart": None, "applied": applied, "dates": 0}
    history = history.sort_values("as_at_date")
    # The largest KPI first (children known to any service), by its latest published count.
    latest = history.dropna(subset=["children"]).groupby("kpi").children.last()
    order = sorted(set(history.kpi), key=lambda kpi: (-latest.get(kpi, -1), kpi))
    series = {
        str(kpi): [
            (day, None if pd.isna(children) else float(children))
            for day, children in history.loc[
                history.kpi == kpi, ["as_at_date", "children"]
            ].itertuples(index=False)
        ]
        for kpi in order
    }
    chart = charts.trends(series, chart_id="kpi-trend", title="Key indicators over time")
    return {"chart": mark_safe(chart), "applied": applied, "dates": history.as_at_date.nunique()}


def dashboard_context(query: Mapping[str, str]) -> dict[str, object]:
    """Each dashboard mart filtered by year, district and group, as a chart and a table; the
    KPIs over time (dashboard_kpis_history) as a trend chart."""
    filters = Filters.of(query)
    available = set(published.tables(published.PSEUDONYMOUS))
    history = (
        published.query(
            published.PSEUDONYMOUS, "select * from dashboard_kpis_history order by as_at_date"
        )
        if "dashboard_kpis_history" in available
        else pd.DataFrame()
    )
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
    history_years = (
        {academic_year(day) for day in pd.to_datetime(history.as_at_date).dt.date}
        if not history.empty
        else set()
    )
    return {
        "filters": filters,
        "trend": _kpi_trend(history, filters),
        "years": sorted(set(_options(every, YEAR_COLUMNS)) | history_years),
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
    parameters = read("quality_model_parameters")
    thresholds = _thresholds(parameters)
    context: dict[str, object] = {"thresholds": thresholds}
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
            charts.histogram(
                list(range(low, high + 1)),
                counts.astype(int).tolist(),
                {f"{name} threshold {value:.2f}": value for name, value in thresholds.items()},
                chart_id="weight-histogram",
            )
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
    context["parameters_table"] = table(
        parameters.drop(columns=[*RUN_COLUMNS, *THRESHOLD_COLUMNS.values()], errors="ignore")
    )
    context["prior"] = None if parameters.empty else parameters.iloc[0]
    context["key_changes_table"] = table(read("quality_key_changes"))
    return context


def _thresholds(parameters: pd.DataFrame) -> dict[str, float]:
    """The match and review thresholds the linkage run used, as quality_model_parameters
    publishes them (one value per run, on every row); none where the mart has no such
    columns or values (a publication from before they were recorded)."""
    found = {}
    for name, column in THRESHOLD_COLUMNS.items():
        if column in parameters.columns and parameters[column].notna().any():
            found[name] = float(parameters[column].dropna().iloc[0])
    return found


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

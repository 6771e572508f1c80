"""Disclosure control holds across the published aggregate marts: a differencing attack.

The aggregate marts (those with is_suppressed) are built with dbt into a copy of a real
warehouse, then attacked with what they publish: every count published in more than one mart,
and every total with its parts, whether in one mart or across marts that count the same
children (the dashboard's KPIs and the planning marts' cohorts, the need counts by district of
commissioning and planning, the spring census pupils of planning_census_trends and
outcomes_by_group, ...). A withheld count is recovered when another mart publishes it, or when
the equations "total = sum of its parts" leave it one value only (linear algebra over all of
them together), or when the withheld parts of a total must all be 1 (n of them adding up to n,
each at least 1). None may be.

The marts are also built with every count shown (rounded to 1), to check that each relation
the attack relies on holds, and to report the true value of anything recovered.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"
WAREHOUSE = ROOT / "data" / "warehouse.duckdb"
DBT = Path(sys.executable).parent / "dbt"
# A model is an aggregate mart when disclosure control makes it one.
CONTROLLED = re.compile(r"\b(disclosure_control|controlled_outcome_measures)\(")

Key = tuple


@dataclass
class Publication:
    """What the aggregate marts publish, as an attacker reads it: each count under a key
    naming what it counts (the same key in every mart that publishes it), and the equations
    total = sum(parts) that hold by definition between them."""

    # key -> [(mart, value; None where withheld)]
    counts: dict[Key, list[tuple[str, int | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    equations: list[tuple[Key, list[Key]]] = field(default_factory=list)
    # Counts no mart publishes (e.g. a cohort's children not in another cohort): working one
    # out is a disclosure when it is 1-4.
    hidden: set[Key] = field(default_factory=set)
    # Unpublished terms that make an equation hold but are no cell of disclosure control.
    outside_control: set[Key] = field(default_factory=set)
    # Withheld counts that may be 0 (blanked with another count, not withheld for themselves).
    may_be_zero: set[Key] = field(default_factory=set)
    marts: set[str] = field(default_factory=set)

    def see(self, mart: str, key: Key, value, is_suppressed: bool, blanked: bool = False):
        self.marts.add(mart)
        if value is None and not is_suppressed:
            return  # not a count (e.g. no numerator for an average)
        self.counts[key].append((mart, None if value is None else int(value)))
        if value is None and blanked:
            self.may_be_zero.add(key)

    def equation(self, total: Key, parts: list[Key]) -> None:
        self.equations.append((total, sorted(set(parts), key=repr)))


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def long_form(
    pub: Publication,
    con: duckdb.DuckDBPyConnection,
    mart: str,
    count: str,
    table: list[str],
    part_key: Callable[[dict], Key],
    total_key: Callable[[dict], Key],
) -> None:
    """A long-form mart: one row per cell of each table, the total on the is_total row."""
    parts = defaultdict(list)
    totals = {}
    for row in rows(con, f"select * from marts.{mart}"):
        name = tuple(row[c] for c in table)
        key = total_key(row) if row["is_total"] else part_key(row)
        pub.see(mart, key, row[count], row["is_suppressed"])
        if row["is_total"]:
            totals[name] = key
        else:
            parts[name].append(key)
    for name, total in totals.items():
        pub.equation(total, parts[name])


def spring_census(academic_year: str) -> str:
    return f"{int(academic_year[:4]) + 1}-spring"


def academic_year(spring_census_period: str) -> str:
    year = int(spring_census_period[:4])
    return f"{year - 1}-{str(year)[2:]}"


def ethnicity_group(code: str) -> str:
    # macros/outcome_groups.sql ethnicity_group
    if code in ("REFU", "NOBT", "not known"):
        return "Unclassified"
    if code == "CHNE":
        return "Asian"
    return {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "O": "Other"}.get(
        code[0], "Unclassified"
    )


def key_stage(nc_year: str) -> str:
    # macros/outcome_groups.sql key_stage
    stages = {
        "early years": ("E1", "E2", "N1", "N2", "R"),
        "key stage 1": ("1", "2"),
        "key stage 2": ("3", "4", "5", "6"),
        "key stage 3": ("7", "8", "9"),
        "key stage 4": ("10", "11"),
        "post-16": ("12", "13", "14"),
        "national curriculum not followed": ("X",),
    }
    return next((stage for stage, years in stages.items() if nc_year in years), "not known")


# The children an outcome measure counts (its pupils): measures sharing them share the count.
OUTCOME_PUPILS = {
    "pupils": "pupils",
    "sessions_overall_absence": "with possible sessions",
    "persistent_absentees": "with possible sessions",
    "severe_absentees": "with possible sessions",
    "suspensions": "on roll in January",
    "permanent_exclusions": "on roll in January",
    "good_level_of_development": "EYFSP",
    "met_phonics_standard": "phonics",
    "expected_standard_rwm": "key stage 2",
    "attainment_8": "key stage 4",
    "english_maths_grade_4_or_above": "key stage 4",
    "english_maths_grade_5_or_above": "key stage 4",
}
# planning_census_trends' spring census measures: the pupils on roll in January of an outcome
# group (fct_pupil_outcomes takes a pupil's characteristics from the spring census).
CENSUS_GROUPS = {"on_roll": "all pupils", "fsm_eligible": "free school meals"}


def planning_and_commissioning(pub: Publication, con) -> None:
    long_form(
        pub,
        con,
        "planning_cohort_counts",
        "children",
        ["cohort", "breakdown"],
        lambda r: ("cohort", r["cohort"], r["breakdown"], r["breakdown_value"]),
        lambda r: ("cohort", r["cohort"]),
    )
    services = defaultdict(list)
    for r in rows(con, "select * from marts.commissioning_demand_by_district"):
        district = r["postcode_district"]
        if r["measure"] == "need":
            key = ("cohort", r["category"], "postcode_district", district)
        elif r["is_total"]:
            key = ("cohort", "all children", "postcode_district", district)
        else:
            key = ("services known to", district, r["category"])
            services[district].append(key)
        pub.see("commissioning_demand_by_district", key, r["children"], r["is_suppressed"])
    for district, parts in services.items():
        pub.equation(("cohort", "all children", "postcode_district", district), parts)


def overlaps_and_dashboard(pub: Publication, con) -> None:
    def both(a: str, b: str) -> Key:
        return ("both", *sorted([a, b]))

    mart = "planning_cohort_overlaps"
    for r in rows(con, f"select * from marts.{mart}"):
        cohort, other = r["cohort"], r["other_cohort"]
        pub.see(mart, ("cohort", cohort), r["cohort_children"], r["is_suppressed"])
        pub.see(mart, both(cohort, other), r["children_also_in_other"], r["is_suppressed"])
        pub.hidden.add(("only", cohort, other))
        pub.equation(("cohort", cohort), [both(cohort, other), ("only", cohort, other)])
    kpis = {
        "children known to any service": ("cohort", "all children"),
        "looked after with an EHC plan": both("looked after", "EHC plan"),
        "children in need eligible for free school meals": both(
            "children in need", "free school meals"
        ),
        "SEND (EHC plan or SEN support) known to CAMHS": ("SEND", "known_to_camhs", "yes"),
    }
    for mart in ("dashboard_kpis", "dashboard_kpis_history"):
        for r in rows(con, f"select * from marts.{mart}"):
            key = kpis.get(r["kpi"], ("cohort", r["kpi"]))
            pub.see(mart, key, r["children"], r["is_suppressed"])
    # EHC plan and SEN support never overlap (dim_child): together they are SEND.
    pub.hidden.add(("SEND",))
    pub.equation(("SEND",), [("cohort", "EHC plan"), ("cohort", "SEN support")])
    pub.equation(
        ("SEND", "known_to_camhs", "yes"),
        [both("EHC plan", "known to CAMHS"), both("SEN support", "known to CAMHS")],
    )


def send(pub: Publication, con) -> None:
    long_form(
        pub,
        con,
        "send_health_profile",
        "children",
        ["presenting_need", "indicator"],
        lambda r: ("SEND", r["presenting_need"], r["indicator"], r["status"]),
        lambda r: ("SEND", r["presenting_need"]),
    )
    columns, needs = defaultdict(list), set()
    for r in rows(con, "select * from marts.send_health_profile"):
        if r["is_total"]:
            needs.add(("SEND", r["presenting_need"]))
        else:
            key = ("SEND", r["presenting_need"], r["indicator"], r["status"])
            columns[(r["indicator"], r["status"])].append(key)
    # Over the needs: each indicator's yes (and no), and the needs' totals.
    for (indicator, status), parts in columns.items():
        total = ("SEND", indicator, status)
        if (indicator, status) != ("known_to_camhs", "yes"):  # dashboard_kpis publishes it
            pub.hidden.add(total)
        pub.equation(total, parts)
    pub.equation(("SEND",), list(needs))


def census_and_outcomes(pub: Publication, con) -> None:
    def census_key(r: dict) -> Key:
        period, measure, breakdown = r["census_period"], r["measure"], r["breakdown"]
        if period.endswith("-spring") and measure in CENSUS_GROUPS:
            group = (
                "outcomes",
                academic_year(period),
                CENSUS_GROUPS[measure],
                "on roll in January",
            )
            if r["is_total"]:
                return group
            if breakdown in ("sex", "postcode_district"):
                return (*group, breakdown, r["breakdown_value"])
        if r["is_total"]:
            return ("census", period, measure)
        return ("census", period, measure, breakdown, r["breakdown_value"])

    long_form(
        pub,
        con,
        "planning_census_trends",
        "pupils",
        ["census_period", "measure", "breakdown"],
        census_key,
        census_key,
    )
    # Ethnicities add up to ethnicity groups, year groups to key stages.
    grouped = defaultdict(list)
    for r in rows(
        con,
        "select * from marts.planning_census_trends where census_period like '%-spring' "
        "and breakdown in ('ethnicity', 'nc_year') and not is_total",
    ):
        if r["measure"] not in CENSUS_GROUPS:
            continue
        if r["breakdown"] == "ethnicity":
            group = ("ethnicity_group", ethnicity_group(r["breakdown_value"]))
        else:
            group = ("key_stage", key_stage(r["breakdown_value"]))
        total = (
            "outcomes",
            academic_year(r["census_period"]),
            CENSUS_GROUPS[r["measure"]],
            "on roll in January",
            *group,
        )
        grouped[total].append(census_key(r))
    for total, parts in grouped.items():
        pub.equation(total, parts)

    # outcomes_by_group: the pupils of each measure, and its count, by breakdown.
    mart = "outcomes_by_group"
    parts = defaultdict(lambda: defaultdict(set))
    for r in rows(con, f"select * from marts.{mart}"):
        cell = () if r["is_total"] else (r["breakdown"], r["breakdown_value"])
        head = (r["academic_year"], r["outcome_group"])
        for column, base in (
            ("pupils", ("outcomes", *head, OUTCOME_PUPILS[r["measure"]])),
            ("numerator", ("outcomes", *head, r["measure"])),
        ):
            if column == "numerator" and r["measure"] in ("pupils", "attainment_8"):
                continue  # the pupils again; an average has no count
            blanked = column == "numerator" and r["pupils"] is None
            pub.see(mart, base + cell, r[column], r["is_suppressed"], blanked)
            if cell:
                parts[base][r["breakdown"]].add(base + cell)
    for base, breakdowns in parts.items():
        for breakdown, keys in breakdowns.items():
            if base[-1] in ("suspensions", "permanent_exclusions"):
                # A cell with no pupil on roll in January has no row, but its pupils'
                # exclusions count in the total (outcome_measure_cells).
                rest = (*base, breakdown, "cells with no pupil on roll in January")
                pub.hidden.add(rest)
                pub.outside_control.add(rest)
                keys.add(rest)
            pub.equation(base, list(keys))

    mart = "outcomes_attendance_and_exclusions"
    names = {
        "pupils_on_roll_in_january": "on roll in January",
        "pupils_with_possible_sessions": "with possible sessions",
    }
    for r in rows(con, f"select * from marts.{mart}"):
        key = ("outcomes", r["academic_year"], "all pupils", names.get(r["measure"], r["measure"]))
        pub.see(mart, key, r["numerator"], r["is_suppressed"])
    for year in {r["academic_year"] for r in rows(con, f"select * from marts.{mart}")}:
        pub.equation(
            ("outcomes", year, "all pupils", "sessions_overall_absence"),
            [
                ("outcomes", year, "all pupils", "sessions_authorised_absence"),
                ("outcomes", year, "all pupils", "sessions_unauthorised_absence"),
            ],
        )

    mart = "outcomes_life_events"
    for r in rows(con, f"select * from marts.{mart}"):
        head = ("life event", r["life_event"], r["relative_year"])
        pub.see(mart, (*head, OUTCOME_PUPILS[r["measure"]]), r["pupils"], r["is_suppressed"])
        if r["measure"] not in ("pupils", "attainment_8"):
            blanked = r["pupils"] is None
            pub.see(mart, (*head, r["measure"]), r["numerator"], r["is_suppressed"], blanked)


def other_marts(pub: Publication, con) -> None:
    long_form(
        pub,
        con,
        "service_review_gaps",
        "children",
        ["gap"],
        lambda r: ("gap", r["gap"], r["postcode_district"]),
        lambda r: ("gap", r["gap"]),
    )
    mart = "commissioning_camhs_waits"
    for r in rows(con, f"select * from marts.{mart}"):
        pub.see(mart, ("CAMHS", r["child_group"]), r["children"], r["is_suppressed"])
        for column in ("referrals", "referrals_seen"):
            key = ("CAMHS", r["child_group"], column)
            pub.see(mart, key, r[column], r["is_suppressed"], blanked=True)
    long_form(
        pub,
        con,
        "quality_linkage_by_source",
        "records",
        ["source", "period", "measure"],
        lambda r: ("records", r["source"], r["period"], r["measure"], r["status"]),
        lambda r: ("records", r["source"], r["period"]),
    )
    # Records and linked records by each breakdown add up to the same (unpublished) totals.
    mart = "quality_linkage_bias"
    by_breakdown = defaultdict(list)
    for r in rows(con, f"select * from marts.{mart}"):
        cell = ("linkage bias", r["breakdown"], r["breakdown_value"])
        pub.see(mart, cell, r["records"], r["is_suppressed"])
        pub.see(mart, (*cell, "linked"), r["linked_records"], r["is_suppressed"])
        pub.hidden.add((*cell, "unlinked"))
        pub.equation(cell, [(*cell, "linked"), (*cell, "unlinked")])
        by_breakdown[r["breakdown"]].append(cell)
    pub.hidden.update({("linkage bias",), ("linkage bias", "linked")})
    for cells in by_breakdown.values():
        pub.equation(("linkage bias",), cells)
        pub.equation(("linkage bias", "linked"), [(*c, "linked") for c in cells])


def read_publication(database: Path) -> Publication:
    pub = Publication()
    with duckdb.connect(str(database), read_only=True) as con:
        for read in (
            planning_and_commissioning,
            overlaps_and_dashboard,
            send,
            census_and_outcomes,
            other_marts,
        ):
            read(pub, con)
    return pub


@dataclass
class Recovery:
    key: Key
    value: int
    how: str
    withheld_in: list[str]

    def __str__(self) -> str:
        where = ", ".join(self.withheld_in) or "never published"
        return f"{self.key} = {self.value} ({self.how}; withheld in {where})"


def attack(pub: Publication) -> list[Recovery]:
    """Every withheld count the publication gives away, and every unpublished count of 1-4."""
    known, withheld = {}, defaultdict(list)
    for key, seen in pub.counts.items():
        for mart, value in seen:
            if value is None:
                withheld[key].append(mart)
            else:
                known.setdefault(key, value)
    keys = {k for total, parts in pub.equations for k in (total, *parts)}
    # A count no mart has a row for, and no mart withholds, is 0 (e.g. no such district).
    for key in keys - set(pub.counts) - pub.hidden:
        known[key] = 0
    found: dict[Key, Recovery] = {}

    def recovered(key: Key, value: int, how: str) -> None:
        if key in withheld or (
            key in pub.hidden and key not in pub.outside_control and 1 <= value <= 4
        ):
            found.setdefault(key, Recovery(key, value, how, sorted(set(withheld.get(key, [])))))

    for key in withheld:
        if key in known:
            published = sorted({m for m, v in pub.counts[key] if v is not None})
            recovered(key, known[key], "published in " + ", ".join(published))

    # The equations, one connected set at a time: a count is determined when every solution
    # gives it the same value (its component of the null space is 0).
    parent: dict[Key, Key] = {}

    def root(key: Key) -> Key:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    equations = []
    for total, parts in pub.equations:
        terms = [(total, 1)] + [(p, -1) for p in parts]
        unknown = [k for k, _ in terms if k not in known]
        if unknown:
            for key in unknown[1:]:
                parent[root(key)] = root(unknown[0])
            equations.append(terms)
    components = defaultdict(list)
    for terms in equations:
        components[root(next(k for k, _ in terms if k not in known))].append(terms)
    solved = dict(known)
    for component in components.values():
        unknown = sorted({k for terms in component for k, _ in terms if k not in known}, key=repr)
        column = {k: i for i, k in enumerate(unknown)}
        a = np.zeros((len(component), len(unknown)))
        b = np.zeros(len(component))
        for row, terms in enumerate(component):
            for key, sign in terms:
                if key in known:
                    b[row] -= sign * known[key]
                else:
                    a[row, column[key]] += sign
        _, singular, vt = np.linalg.svd(a)
        rank = int((singular > 1e-9).sum())
        null_space = vt[rank:]
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
        for key, i in column.items():
            if np.all(np.abs(null_space[:, i]) < 1e-9):
                solved[key] = round(solution[i])
                recovered(key, solved[key], "differencing")
    # Withheld parts of a known total, each at least 1, adding up to their number: all 1.
    for total, parts in pub.equations:
        unknown = [p for p in parts if p not in solved]
        if total not in solved or not unknown:
            continue
        if any(p not in withheld or p in pub.may_be_zero for p in unknown):
            continue
        if solved[total] - sum(solved[p] for p in parts if p in solved) == len(unknown):
            for key in unknown:
                recovered(key, 1, "each withheld part at least 1")
    return sorted(found.values(), key=lambda r: repr(r.key))


def truth_of(pub: Publication) -> dict[Key, int]:
    values = {}
    for key, seen in pub.counts.items():
        published = {v for _, v in seen if v is not None}
        assert len(published) <= 1, f"{key} counted differently by {seen}"
        if published:
            values[key] = published.pop()
    return values


def dbt(command: str, models: list[str], database: Path, tmp: Path, *extra: str) -> None:
    result = subprocess.run(
        [
            str(DBT),
            command,
            "--select",
            *models,
            "--target-path",
            str(tmp / f"target_{database.stem}"),
            "--log-path",
            str(tmp / f"logs_{database.stem}"),
            *extra,
        ],
        cwd=DBT_PROJECT,
        env={**os.environ, "WAREHOUSE_DUCKDB_PATH": str(database)},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def aggregate_marts() -> list[str]:
    """The models disclosure control makes aggregates, and the marts built from them."""
    names = [
        path.stem
        for path in sorted((DBT_PROJECT / "models" / "marts").rglob("*.sql"))
        if CONTROLLED.search(path.read_text())
    ]
    return [f"{name}+" for name in names]


def small_authority(tmp: Path) -> Path:
    """Without a built warehouse (a fresh checkout): a small synthetic authority, built end
    to end as tests/test_pipeline.py builds it."""
    import dagster as dg

    from linkage_ops.synthetic import generate_authority
    from orchestration.definitions import build_definitions
    from orchestration.runner import ingest_landing_folder, refresh_warehouse

    data_dir = tmp / "authority"
    generate_authority(children=800, seed=11, out_dir=data_dir, months=2)
    defs = build_definitions(str(data_dir))
    with dg.DagsterInstance.ephemeral() as instance:
        ingest_landing_folder(defs, instance, data_dir / "landing")
        assert refresh_warehouse(defs, instance).success
    return data_dir / "warehouse.duckdb"


@dataclass
class Build:
    published: Publication  # what the marts publish
    truth: Publication  # the same marts with every count shown
    aggregates: set[str]  # the marts with is_suppressed


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    tmp = tmp_path_factory.mktemp("disclosure")
    source = WAREHOUSE if WAREHOUSE.exists() else small_authority(tmp)
    published, truth = tmp / "published.duckdb", tmp / "truth.duckdb"
    shutil.copyfile(source, published)
    shutil.copyfile(source, truth)
    models = aggregate_marts()
    dbt("build", models, published, tmp)
    dbt("run", models, truth, tmp, "--vars", "{disclosure_control: round, rounding_base: 1}")
    with duckdb.connect(str(published), read_only=True) as con:
        aggregates = {
            table
            for (table,) in con.execute(
                "select table_name from duckdb_columns() "
                "where schema_name = 'marts' and column_name = 'is_suppressed'"
            ).fetchall()
        }
    return Build(read_publication(published), read_publication(truth), aggregates)


def test_the_attack_reads_every_aggregate_mart(build) -> None:
    # A new aggregate mart needs its relations declared above (read_publication).
    assert build.aggregates - build.published.marts == set()


def test_each_relation_the_attack_uses_holds_on_the_true_counts(build) -> None:
    truth = build.truth
    values = truth_of(truth)  # and a count published twice is the same count
    checked, wrong = 0, []
    for total, parts in truth.equations:
        members = [total, *parts]
        if any(k in truth.hidden for k in members):
            continue
        if total not in values:
            continue
        checked += 1
        if values[total] != sum(values.get(p, 0) for p in parts):
            wrong.append((total, values[total], {p: values.get(p) for p in parts}))
    assert checked > 100
    assert wrong == []


# The linkage quality marts (models/marts/quality) count records, not children, and share no
# total with the other marts: attacked on their own below.
QUALITY = ("records", "linkage bias")


def recoveries(build: Build, quality: bool) -> tuple[list[Recovery], int]:
    recovered = [r for r in attack(build.published) if (r.key[0] in QUALITY) == quality]
    true_values = truth_of(build.truth)
    # The attack is right about what it recovers.
    assert [r for r in recovered if r.key in true_values and true_values[r.key] != r.value] == []
    withheld = sum(
        1
        for key, seen in build.published.counts.items()
        if (key[0] in QUALITY) == quality and any(v is None for _, v in seen)
    )
    return recovered, withheld


def test_no_withheld_count_can_be_recovered_from_the_published_marts(build) -> None:
    recovered, withheld = recoveries(build, quality=False)
    assert withheld > 0
    assert recovered == [], f"{len(recovered)} of {withheld} withheld counts recovered:\n" + (
        "\n".join(map(str, recovered))
    )


def test_no_withheld_linkage_quality_count_can_be_recovered(build) -> None:
    recovered, withheld = recoveries(build, quality=True)
    assert recovered == [], f"{len(recovered)} of {withheld} withheld counts recovered:\n" + (
        "\n".join(map(str, recovered))
    )

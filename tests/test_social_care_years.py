"""Social care and SEND over several collection years: a case goes on from one year's returns
to the next, as the authority's case-management system reports it.

One authority of about 3,000 children over 2023-24 to 2025-26 is written once by the four
social-care writers. The tests read the files as the landing folder holds them (the CIN XML,
the SSDA903 CSVs) and the truth the writers return; EHC plans and case endings are checked on
the events behind the files.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.ingest import load_period
from linkage_ops.synthetic.children_in_need import cin_file, write_children_in_need
from linkage_ops.synthetic.looked_after import looked_after_file, write_looked_after
from linkage_ops.synthetic.population import build_populations
from linkage_ops.synthetic.school_year import CollectionYear, birthday
from linkage_ops.synthetic.sen2 import (
    REQUEST_WEEKS_BEFORE_PLAN,
    sen2_file,
    sen2_period,
    write_sen2,
)
from linkage_ops.synthetic.social_care import CARE_ENDINGS_AT_18, social_care_events
from linkage_ops.synthetic.social_care_clients import write_social_care_clients

YEARS = [CollectionYear(2023), CollectionYear(2024), CollectionYear(2025)]
CHILDREN = 3000
WRITERS = {
    "children_in_need": write_children_in_need,
    "looked_after": write_looked_after,
    "social_care_clients": write_social_care_clients,
    "sen2": write_sen2,
}
UNBORN = "UN6"


@pytest.fixture(scope="module")
def populations():
    return build_populations(CHILDREN, YEARS, np.random.default_rng(15))


@pytest.fixture(scope="module")
def written(populations, tmp_path_factory):
    """The landing folder and each (source, year)'s truth records."""
    landing = tmp_path_factory.mktemp("social_care_years") / "landing"
    truth = {}
    for population in populations:
        year = population.year
        # The first and last client extracts of the year are enough here.
        months = [year.months[0], year.months[-1]]
        for seed, (source, writer) in enumerate(WRITERS.items()):
            rng = np.random.default_rng([seed, year.start_year])
            truth[source, year.label] = writer(population, year, months, landing, rng)[1]
    return landing, truth


def uk_date(text: str) -> date:
    day, month, year = (int(part) for part in text.split("/"))
    return date(year, month, day)


def episodes_by_child(landing: Path, year: CollectionYear) -> dict[str, list[dict[str, str]]]:
    """The 903 episode rows of each CHILD, in file order (the order of care)."""
    path = looked_after_file(landing, year, "episodes")
    with path.open(encoding="utf-8", newline="") as handle:
        found: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in csv.DictReader(handle):
            found[row["CHILD"]].append(row)
    return found


def keyed_overlapping(rows: list[dict[str, str]]) -> bool:
    """A return's recording fault: an episode keyed as starting before the previous ended."""
    return any(
        before["DEC"] and uk_date(after["DECOM"]) < uk_date(before["DEC"])
        for before, after in pairwise(rows)
    )


def open_at_year_end(landing: Path, year: CollectionYear) -> set[tuple[str, str]]:
    """(CHILD, DECOM) of each child's last episode where it has no end date."""
    return {
        (child, rows[-1]["DECOM"])
        for child, rows in episodes_by_child(landing, year).items()
        if not rows[-1]["DEC"] and not keyed_overlapping(rows)
    }


def cin_episodes(landing: Path, year: CollectionYear) -> list[dict[str, str]]:
    """One dict per ``CINdetails`` of the year's CIN XML, with the child's ids."""
    root = ET.parse(cin_file(landing, year)).getroot()
    found = []
    for child in root.iter("Child"):
        ids = {
            "LAchildID": child.findtext("ChildIdentifiers/LAchildID") or "",
            "UPNunknown": child.findtext("ChildIdentifiers/UPNunknown") or "",
        }
        for details in child.findall("CINdetails"):
            found.append(
                {
                    **ids,
                    "referral": details.findtext("CINreferralDate") or "",
                    "closure": details.findtext("CINclosureDate") or "",
                }
            )
    return found


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def blade_day(text: str) -> date:
    """Blade's ``2025-Jan-24 00:00:00``."""
    return datetime.strptime(text, "%Y-%b-%d %H:%M:%S").date()


def active_plan_starts(landing: Path, year: CollectionYear, truth: list) -> dict[str, date]:
    """From the SEN2 export: each child with a plan active on census day, and its start date,
    the named plan's where the return has one (a plan issued in the calendar year), else
    ``REQUEST_WEEKS_BEFORE_PLAN`` after the request behind the plan (an earlier plan)."""

    def module(name: str) -> list[dict[str, str]]:
        return read_csv(sen2_file(landing, year, name))

    child_of = {str(t.record_id): t.child_id for t in truth}
    requests = {r["requeststableid"]: r for r in module("requests")}
    request_of = {a["assessmenttableid"]: a["requeststableid"] for a in module("assessment")}
    named = {request_of[n["assessmenttableid"]]: n for n in module("namedplan")}
    starts = {}
    for active in module("activeplans"):
        request = requests[active["requeststableid"]]
        plan = named.get(active["requeststableid"])
        start = (
            blade_day(plan["startdate"])
            if plan is not None
            else blade_day(request["receiveddate"]) + timedelta(weeks=REQUEST_WEEKS_BEFORE_PLAN)
        )
        starts[child_of[request["persontableid"]]] = start
    return starts


def test_a_care_episode_open_on_31_march_goes_on_in_the_next_903(written) -> None:
    landing, _ = written
    for earlier, later in pairwise(YEARS):
        still_open = open_at_year_end(landing, earlier)
        later_rows = {
            (child, row["DECOM"])
            for child, rows in episodes_by_child(landing, later).items()
            for row in rows
        }
        assert still_open
        assert still_open <= later_rows, sorted(still_open - later_rows)


def test_no_care_from_before_a_later_year_that_the_earlier_903_lacks(written) -> None:
    landing, _ = written
    for earlier, later in pairwise(YEARS):
        before = episodes_by_child(landing, earlier)
        keyed = {(child, row["DECOM"]) for child, rows in before.items() for row in rows}
        for child, rows in episodes_by_child(landing, later).items():
            first = rows[0]  # the episode the child was in when the year began, if any
            if uk_date(first["DECOM"]) >= later.first_day:
                continue
            assert (child, first["DECOM"]) in keyed or keyed_overlapping(before[child]), child


def test_a_cin_case_open_at_the_year_end_goes_on_in_the_next_census(written) -> None:
    landing, _ = written
    for earlier, later in pairwise(YEARS):
        before = cin_episodes(landing, earlier)
        # Pre-birth referrals are not carried: the unborn baby is not a population child.
        still_open = {
            (e["LAchildID"], e["referral"])
            for e in before
            if not e["closure"] and e["UPNunknown"] != UNBORN
        }
        after = {(e["LAchildID"], e["referral"]) for e in cin_episodes(landing, later)}
        assert len(still_open) > 20
        assert still_open <= after, sorted(still_open - after)
        # And the later census has no case from before its year that the earlier lacked.
        from_before = {
            (e["LAchildID"], e["referral"])
            for e in cin_episodes(landing, later)
            if date.fromisoformat(e["referral"]) < later.first_day
        }
        assert from_before <= still_open, sorted(from_before - still_open)


def test_children_come_into_care_in_later_years_who_were_not_looked_after_before(
    written,
) -> None:
    landing, truth = written
    for earlier, later in pairwise(YEARS):
        before = {t.child_id for t in truth["looked_after", earlier.label]}
        child_of = {str(t.record_id): t.child_id for t in truth["looked_after", later.label]}
        entered = [
            child_of[child]
            for child, rows in episodes_by_child(landing, later).items()
            if rows[0]["RNE"] == "S" and uk_date(rows[0]["DECOM"]) >= later.first_day
        ]
        assert [child for child in entered if child not in before]


def test_a_child_keeps_their_local_id_from_year_to_year(written) -> None:
    _, truth = written
    ids_of: dict[str, set[str]] = defaultdict(set)
    children_of: dict[str, set[str]] = defaultdict(set)
    years_of: dict[str, set[str]] = defaultdict(set)
    for (source, year), records in truth.items():
        if source == "sen2":  # SEN2 ids are table ids, numbered afresh in each export
            continue
        for record in records:
            ids_of[record.child_id].add(str(record.record_id))
            children_of[str(record.record_id)].add(record.child_id)
            years_of[record.child_id].add(year)
    assert all(len(ids) == 1 for ids in ids_of.values())
    assert all(len(children) == 1 for children in children_of.values())
    assert sum(len(years) >= 2 for years in years_of.values()) > 50


def test_an_ehc_plans_start_date_is_the_same_in_every_years_sen2(written) -> None:
    landing, truth = written
    for earlier, later in pairwise(YEARS):
        before = active_plan_starts(landing, earlier, truth["sen2", earlier.label])
        after = active_plan_starts(landing, later, truth["sen2", later.label])
        kept = before.keys() & after.keys()
        assert len(kept) > 0.8 * len(before)
        assert {child: before[child] for child in kept} == {child: after[child] for child in kept}


def test_an_ehc_plan_keeps_its_start_date_and_needs_while_it_lasts(populations) -> None:
    for earlier, later in pairwise(populations):
        before = {
            s.child.child_id: s.plan
            for s in social_care_events(earlier, earlier.year).send
            if s.plan is not None and s.plan.cease_date is None
        }
        after = {
            s.child.child_id: s.plan
            for s in social_care_events(later, later.year).send
            if s.plan is not None
        }
        kept = before.keys() & after.keys()
        assert len(kept) > 0.8 * len(before)
        for child_id in kept:
            assert after[child_id].start == before[child_id].start, child_id
            if after[child_id].cease_date is None and not after[child_id].urn:
                assert after[child_id].needs == before[child_id].needs, child_id
        # A plan new to a child known the year before started in the calendar year.
        known = {c.child_id for c in earlier.children}
        calendar_first = date(social_care_events(later, later.year).sen2_census_day.year - 1, 1, 1)
        new = [plan for child_id, plan in after.items() if child_id not in before]
        assert new
        for child_id, plan in after.items():
            if child_id in known and child_id not in before:
                assert plan.start >= calendar_first, child_id


def test_cases_end_when_the_family_moves_away_or_the_child_turns_18(populations) -> None:
    """Nothing stays open after the family leaves or the child's 18th birthday, and what
    closes that day closes for that reason."""
    reasons: dict[str, list[str]] = defaultdict(list)
    for population in populations:
        year = population.year
        for record in social_care_events(population, year).children:
            child = record.child
            if record.unborn or child.died_on is not None:
                continue
            left = child.household.left_on
            adult = birthday(child.date_of_birth, 18)
            ending = min(d for d in (left, adult, year.last_day) if d)
            if ending == year.last_day:
                continue
            why = "left" if ending == left else "adult"
            for episode in record.episodes:
                assert episode.closure_date is not None and episode.closure_date <= ending
                if episode.closure_date == ending and not episode.referral_nfa:
                    reasons[why].append(episode.closure_reason)
            care = record.care
            if care is not None:
                assert care.end is not None and care.end <= ending
                if care.end == ending:
                    reasons[f"{why} care"].append(care.episodes[-1].reason_ceased)
    assert reasons["left"] and reasons["adult"]
    expected = {"left": {"RC5"}, "adult": {"RC7"}, "left care": {"E3"}}
    expected["adult care"] = set(CARE_ENDINGS_AT_18)
    for why, found in reasons.items():
        assert set(found) <= expected[why], why


def test_every_years_returns_load_with_no_rejected_rows(written) -> None:
    landing, _ = written
    with duckdb.connect() as con:
        for year in YEARS:
            for source, period in (
                ("children_in_need", year.label),
                ("looked_after", year.label),
                ("sen2", sen2_period(year)),
            ):
                load = load_period(con, landing, source, period, run_id="t")
                assert [f for f in load.findings if f.action == "rejected"] == [], source
                assert load.failed == [], source


def test_children_in_need_per_year_do_not_pile_up(written, populations) -> None:
    """A guard against carried cases never closing (or being counted twice): each later
    year's children in need per 10,000 stay within 40% of the first year's. At 3,000
    children a year's count varies by up to about 30% on its own; the exact continuity is
    what the tests above check."""
    landing, _ = written
    per_10000 = [
        len({e["LAchildID"] for e in cin_episodes(landing, p.year)}) / len(p.children) * 10000
        for p in populations
    ]
    assert all(abs(rate / per_10000[0] - 1) < 0.4 for rate in per_10000[1:]), per_10000


def test_each_years_events_are_built_once_per_population(populations) -> None:
    later = populations[-1]
    events = social_care_events(later, later.year)
    assert social_care_events(later, later.year) is events
    earlier = populations[-2]
    assert social_care_events(earlier, earlier.year).la_child_ids.items() <= (
        events.la_child_ids.items()
    )

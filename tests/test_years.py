"""Two collection years refreshed one after the other, as an authority does: the second
year's returns arrive, the warehouse refreshes, and the children it already knew keep their
person keys, while a child who came into care in the second year shows in the life-event
view of outcomes."""

import csv
import shutil
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from linkage_ops.synthetic import generate_authority
from linkage_ops.synthetic.school_year import parse_collection_year
from orchestration.definitions import build_definitions
from orchestration.runner import ingest_landing_folder, refresh_warehouse

pytestmark = pytest.mark.integration


def refresh(defs: dg.Definitions, instance: dg.DagsterInstance, landing: Path) -> None:
    runs = ingest_landing_folder(defs, instance, landing)
    assert all(run.result.success for run in runs), [r.source for r in runs if not r.result.success]
    assert refresh_warehouse(defs, instance).success


def keys_of_records(database: Path) -> dict[tuple[str, str], str]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        rows = con.execute(
            "select source, source_record_id, person_key from linkage.person_key_bridge"
        ).fetchall()
    finally:
        con.close()
    return {(source, record): key for source, record, key in rows}


def child_keys(records: dict[tuple[str, str], str], truth: dict) -> dict[str, str]:
    """Each child's key: the key most of their records carry."""
    votes: dict[str, Counter] = defaultdict(Counter)
    for record, key in records.items():
        if record in truth:
            votes[truth[record]][key] += 1
    return {child: counted.most_common(1)[0][0] for child, counted in votes.items()}


def first_care_starts(landing: Path) -> dict[tuple[str, str], datetime]:
    """(year, SSDA903 CHILD) -> the earliest episode start in that year's return."""
    starts = {}
    for episodes in sorted(landing.glob("looked_after/*/episodes.csv")):
        with episodes.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                day = datetime.strptime(row["DECOM"], "%d/%m/%Y")
                key = (episodes.parent.name, row["CHILD"])
                starts[key] = min(day, starts.get(key, day))
    return starts


def test_a_second_year_keeps_the_keys_of_the_first_and_its_events_reach_the_outcomes(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "authority"
    summary = generate_authority(children=700, seed=5, out_dir=data_dir, years=2)
    first, second = summary.years
    truth = {}
    with (data_dir / "truth" / "records.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            truth[(row["source"], row["source_record_id"])] = row["child_id"]

    # The second year's files are held back until the first year has been refreshed.
    held = tmp_path / "held"
    for path in summary.files_by_year[second]:
        target = held / path.relative_to(data_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    for folder in sorted((data_dir / "landing").glob("*/*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()

    defs = build_definitions(str(data_dir))
    database = data_dir / "warehouse.duckdb"
    with dg.instance_for_test() as instance:
        refresh(defs, instance, data_dir / "landing")
        first_records = keys_of_records(database)
        before = child_keys(first_records, truth)
        shutil.copytree(held / "landing", data_dir / "landing", dirs_exist_ok=True)
        refresh(defs, instance, data_dir / "landing")
        both_records = keys_of_records(database)

    # Children in both years keep their key, on their old records and their new ones.
    new_records = {r: k for r, k in both_records.items() if r not in first_records}
    children_in_second = {truth[r] for r in new_records if r in truth}
    in_both = sorted(children_in_second & set(before))
    assert len(in_both) > 500
    after_old = child_keys({r: both_records[r] for r in first_records}, truth)
    after_new = child_keys(new_records, truth)
    kept_old = sum(after_old[child] == before[child] for child in in_both)
    kept_new = sum(after_new[child] == before[child] for child in in_both)
    assert kept_old == len(in_both)
    assert kept_new >= 0.99 * len(in_both)

    # A child who came into care during the second year: their first period of care starts
    # then, and the life-event view has them entering care on that day.
    starts = first_care_starts(data_dir / "landing")
    year_two = parse_collection_year(second)
    entered = {
        child: day
        for (year, child), day in starts.items()
        if year == second
        and (first, child) not in starts
        and year_two.first_day <= day.date() <= year_two.last_day
    }
    assert entered, "the synthetic second year has children coming into care"
    con = duckdb.connect(str(database), read_only=True)
    try:
        events = {
            person_key: event_date
            for person_key, event_date in con.execute(
                "select person_key, event_date from marts.fct_life_events "
                "where life_event = 'entering care'"
            ).fetchall()
        }
    finally:
        con.close()
    for child, day in entered.items():
        key = both_records[("looked_after", f"{second}/{child}")]
        assert events.get(key) == day.date(), child

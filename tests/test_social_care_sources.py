"""Social care and SEND sources: CIN census XML, SSDA903, the client extract and SEN2.

One small population is written once; the tests check formats, the loader round trip, the
truth and the consistency of the one social-care event model behind all four sources.
"""

from __future__ import annotations

import csv
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.identifiers import is_valid_nhs_number, is_valid_upn
from linkage_ops.ingest import load_period, load_schema
from linkage_ops.ingest.schema import load_codelist
from linkage_ops.synthetic.children_in_need import (
    child_sex_element,
    cin_file,
    write_children_in_need,
)
from linkage_ops.synthetic.looked_after import write_looked_after
from linkage_ops.synthetic.population import build_population
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.sen2 import write_sen2
from linkage_ops.synthetic.social_care import social_care_events
from linkage_ops.synthetic.social_care_clients import write_social_care_clients

YEAR = CollectionYear(2024)
MONTHS = ["2024-04", "2024-09", "2025-03"]
WRITERS = {
    "children_in_need": write_children_in_need,
    "looked_after": write_looked_after,
    "social_care_clients": write_social_care_clients,
    "sen2": write_sen2,
}
SEEDS = {"children_in_need": 11, "looked_after": 12, "social_care_clients": 13, "sen2": 14}


def write_all(population, landing: Path) -> dict:
    return {
        source: writer(population, YEAR, MONTHS, landing, np.random.default_rng(SEEDS[source]))
        for source, writer in WRITERS.items()
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def population():
    return build_population(1200, YEAR.label, np.random.default_rng(5))


@pytest.fixture(scope="module")
def written(population, tmp_path_factory):
    landing = tmp_path_factory.mktemp("social_care") / "landing"
    return landing, write_all(population, landing)


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def children_by_id(population) -> dict:
    return {c.child_id: c for c in population.children}


def test_paths_and_period_folders(written) -> None:
    landing, results = written
    names = {
        source: [p.relative_to(landing).as_posix() for p in r[0]] for source, r in results.items()
    }
    assert names["children_in_need"] == ["children_in_need/2024-25/CIN_2024-25.xml"]
    assert names["social_care_clients"] == [
        f"social_care_clients/{m}/clients_{m}.csv" for m in MONTHS
    ]
    assert "looked_after/2024-25/header.csv" in names["looked_after"]
    assert "looked_after/2024-25/episodes.csv" in names["looked_after"]
    assert len(names["looked_after"]) == 11
    assert "sen2/2025/Blade-Export_16-01-2025_sen2.csv" in names["sen2"]
    assert "sen2/2025/Blade-Export_16-01-2025_person.csv" in names["sen2"]
    assert len(names["sen2"]) == 9


@pytest.mark.parametrize(
    ("source", "periods"),
    [
        ("children_in_need", ["2024-25"]),
        ("looked_after", ["2024-25"]),
        ("social_care_clients", MONTHS),
        ("sen2", ["2025"]),
    ],
)
def test_files_load_with_no_rejected_rows(written, con, source, periods) -> None:
    landing, results = written
    for period in periods:
        load = load_period(con, landing, source, period, run_id="t")
        loads, findings = load.tables, load.findings
        assert sum(load.rows_read for load in loads) > 0
        assert [f for f in findings if f.action == "rejected"] == []
    # One truth row per person record, with the same ids as the loaded rows.
    person_table = {
        "children_in_need": ("child", "LAchildID"),
        "looked_after": ("header", "CHILD"),
        "social_care_clients": ("clients", "LAchildID"),
        "sen2": ("person", "persontableid"),
    }[source]
    loaded = {
        f"{period}/{record_id}"
        for period, record_id in con.execute(
            f"select _period, {person_table[1]} from raw.{source}__{person_table[0]}"
        ).fetchall()
    }
    truth = [t.source_record_id for t in results[source][1]]
    assert len(truth) == len(set(truth)) == len(loaded)
    assert set(truth) == loaded


def test_same_seed_gives_identical_files_and_reruns_replace_old_files(
    population, written, tmp_path
) -> None:
    landing, results = written
    again = tmp_path / "landing"
    stale = again / "looked_after" / "2024-25" / "old_extract.csv"
    stale.parent.mkdir(parents=True)
    stale.write_text("CHILD\nLA000001\n")
    write_all(population, again)
    assert not stale.exists()
    for paths, _ in results.values():
        for path in paths:
            assert (again / path.relative_to(landing)).read_bytes() == path.read_bytes()


def test_formats(written) -> None:
    landing, _ = written
    uk_date = re.compile(r"^\d{2}/\d{2}/\d{4}$")
    for row in read_csv(landing / "looked_after/2024-25/episodes.csv"):
        assert re.fullmatch(r"LA\d{6}", row["CHILD"])
        assert uk_date.match(row["DECOM"])
        assert row["DEC"] == "" or uk_date.match(row["DEC"])
    # The 2024-25 return codes SEX M/F/U (1/2 up to 2023-24).
    for row in read_csv(landing / "looked_after/2024-25/header.csv"):
        assert row["SEX"] in {"M", "F", "U"}
    for month in MONTHS:
        for row in read_csv(landing / f"social_care_clients/{month}/clients_{month}.csv"):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["DOB"])
            assert row["NHSNumber"] == "" or row["NHSNumber"].startswith("999")
    for row in read_csv(landing / "sen2/2025/Blade-Export_16-01-2025_person.csv"):
        assert re.fullmatch(r"\d{4}-[A-Z][a-z]{2}-\d{2} 00:00:00", row["personbirthdate"])
        assert bool(row["upn"]) != bool(row["upnunknown"])
    root = ET.parse(landing / "children_in_need/2024-25/CIN_2024-25.xml").getroot()
    assert root.tag == "Message"
    assert root.findtext("Header/CollectionDetails/Collection") == "CIN"
    assert root.findtext("Header/CollectionDetails/Year") == "2025"
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2025-03-31"
    assert root.findtext("Header/Source/LEA") == "884"
    children = root.findall("Children/Child")
    assert children and all(c.find("ChildIdentifiers/Sex") is not None for c in children)
    assert all(c.find("ChildIdentifiers/GenderCurrent") is None for c in children)
    assert all(c.find("CINdetails/CINreferralDate") is not None for c in children)


def test_identifiers_valid_unless_an_error_is_recorded(population, written) -> None:
    landing, results = written
    truth = {t.source_record_id: t for t in results["sen2"][1]}
    children = children_by_id(population)
    for row in read_csv(landing / "sen2/2025/Blade-Export_16-01-2025_person.csv"):
        record = truth[f"2025/{row['persontableid']}"]
        child = children[record.child_id]
        if row["upn"]:
            assert is_valid_upn(row["upn"]) != ("upn_wrong_check_letter" in record.errors)
            if "upn_wrong_check_letter" not in record.errors:
                assert row["upn"] == child.upn
        if "surname" not in record.errors:
            assert row["surname"] == child.surname
    for month in MONTHS:
        truth = {t.source_record_id: t for t in results["social_care_clients"][1]}
        for row in read_csv(landing / f"social_care_clients/{month}/clients_{month}.csv"):
            record = truth[f"{month}/{row['LAchildID']}"]
            child = children[record.child_id]
            assert child.date_of_birth <= date.fromisoformat(f"{month}-28") + timedelta(days=3)
            if "missing_nhs_number" in record.errors:
                assert row["NHSNumber"] == ""
            elif "nhs_number_invalid" in record.errors:
                assert not is_valid_nhs_number(row["NHSNumber"])
            else:
                assert row["NHSNumber"] == child.nhs_number
            if "dob" not in record.errors:
                assert row["DOB"] == child.date_of_birth.isoformat()
    share = np.mean([r["NHSNumber"] != "" for r in read_csv(
        landing / "social_care_clients/2025-03/clients_2025-03.csv")])  # fmt: skip
    assert 0.4 < share < 0.8


def test_recording_errors_persist_across_months(written) -> None:
    landing, results = written
    seen: dict[str, tuple] = {}
    for month in MONTHS:
        for row in read_csv(landing / f"social_care_clients/{month}/clients_{month}.csv"):
            fields = (row["Forename"], row["Surname"], row["DOB"], row["NHSNumber"])
            assert seen.setdefault(row["LAchildID"], fields) == fields
    errors: dict[str, str] = {}
    for record in results["social_care_clients"][1]:
        assert errors.setdefault(str(record.record_id), record.errors) == record.errors


def test_one_la_child_id_per_child_across_cin_903_and_clients(written) -> None:
    _, results = written
    owner: dict[str, str] = {}
    for source in ("children_in_need", "looked_after", "social_care_clients"):
        for record in results[source][1]:
            assert owner.setdefault(str(record.record_id), record.child_id) == record.child_id
    cin = {str(t.record_id) for t in results["children_in_need"][1]}
    looked_after = {str(t.record_id) for t in results["looked_after"][1]}
    clients = {str(t.record_id) for t in results["social_care_clients"][1]}
    # Every looked-after child has CIN history; clients are CIN or CLA children.
    assert looked_after and looked_after <= cin
    assert clients and clients <= cin


def test_looked_after_children_have_an_open_cin_case_while_in_care(population) -> None:
    events = social_care_events(population, YEAR)
    assert events.looked_after
    for record in events.looked_after:
        care = record.care
        assert any(e.open_on(care.start) for e in record.episodes)
        assert any(e.open_on(care.end or YEAR.last_day) for e in record.episodes)
        starts = [e.start for e in care.episodes]
        assert starts == sorted(starts)
        assert all(e.reason_ceased == "X1" for e in care.episodes[:-1])


def test_ehc_plans_match_census_sen_provision(population, written) -> None:
    landing, results = written
    events = social_care_events(population, YEAR)
    with_plan = {s.child.child_id for s in events.send if s.plan is not None}
    pupils_e = {
        c.child_id
        for c in population.children
        if c.sen_provision == "E" and (c.died_on is None or c.died_on > events.sen2_census_day)
    }
    assert pupils_e and pupils_e <= with_plan
    for send in events.send:
        if send.plan is not None and send.child.is_pupil:
            assert send.child.sen_provision == "E"
    person_children = {t.child_id for t in results["sen2"][1]}
    # An active plan hangs off the request that led to it; the request names the person.
    request_people = {
        row["requeststableid"]: row["persontableid"]
        for row in read_csv(landing / "sen2/2025/Blade-Export_16-01-2025_requests.csv")
    }
    active_people = {
        request_people[row["requeststableid"]]
        for row in read_csv(landing / "sen2/2025/Blade-Export_16-01-2025_activeplans.csv")
    }
    truth = {str(t.record_id): t.child_id for t in results["sen2"][1]}
    assert pupils_e <= {truth[p] for p in active_people} <= person_children
    weeks = [
        row["week20"]
        for row in read_csv(landing / "sen2/2025/Blade-Export_16-01-2025_assessment.csv")
    ]
    assert set(weeks) <= {"True", "False", ""}


def test_a_child_who_dies_has_their_cases_closed(population) -> None:
    events = social_care_events(population, YEAR)
    record = next(c for c in events.children if c.care is None and not c.unborn
                  and any(e.closure_date is None for e in c.episodes))  # fmt: skip
    died_on = max(YEAR.first_day + timedelta(days=200), record.episodes[-1].referral_date)
    died_on = min(died_on + timedelta(days=10), YEAR.last_day - timedelta(days=1))
    children = list(population.children)
    children[record.child.index] = replace(record.child, died_on=died_on)
    dead = replace(population, children=children)
    after = next(
        c
        for c in social_care_events(dead, YEAR).children
        if c.child.child_id == record.child.child_id
    )
    for episode in after.episodes:
        assert episode.closure_date is not None and episode.closure_date <= died_on
        assert all(p.end is not None and p.end <= died_on for p in episode.protection_plans)
    assert after.episodes[-1].closure_reason == "RC2"


def test_cin_sex_element_follows_the_return_year(tmp_path, con) -> None:
    assert child_sex_element(CollectionYear(2023))[0] == "GenderCurrent"
    assert child_sex_element(CollectionYear(2024))[0] == "Sex"
    year = CollectionYear(2023)
    population = build_population(600, year, np.random.default_rng(5))
    paths, _ = write_children_in_need(population, year, [], tmp_path, np.random.default_rng(1))
    root = ET.parse(paths[0]).getroot()
    genders = {c.findtext("ChildIdentifiers/GenderCurrent") for c in root.iter("Child")}
    assert genders and genders <= {"1", "2", "0"}
    assert root.find("Children/Child/ChildIdentifiers/Sex") is None
    findings = load_period(con, tmp_path, "children_in_need", year.label, run_id="t").findings
    assert [f for f in findings if f.action == "rejected"] == []


def copy_period(written, source: str, period: str, tmp_path: Path) -> Path:
    landing, _ = written
    target = tmp_path / "landing"
    shutil.copytree(landing / source / period, target / source / period)
    return target


# DoLo orders are rare (a few in a hundred looked-after children aged 10+): 2026-27 is written
# for a county-sized population so that some are drawn.
@pytest.mark.parametrize(
    ("start_year", "children"), [(2023, 1500), (2024, 1500), (2025, 1500), (2026, 40000)]
)
def test_the_903_follows_the_layout_and_codes_of_its_year(tmp_path, start_year, children) -> None:
    """The writer takes each year's tables and code lists from the loader's schema of that
    year: SEX 1/2 up to 2023-24 and M/F/U after, placements valid in the year, OC3 ACTIV and
    ACCOM 0 for a leaver who died or went home, DoLo from 2026-27; and the loader accepts
    every row it writes."""
    year = CollectionYear(start_year)
    schema = load_schema("looked_after").for_period(year.label)
    population = build_population(children, year.label, np.random.default_rng(start_year))
    landing = tmp_path / "landing"
    paths, _ = write_looked_after(population, year, [], landing, np.random.default_rng(3))
    assert sorted(p.stem for p in paths) == sorted(schema.tables)
    assert ("dolo" in schema.tables) == (start_year >= 2026)
    folder = landing / "looked_after" / year.label

    def column(table: str, name: str) -> list[str]:
        return [row[name] for row in read_csv(folder / f"{table}.csv")]

    def codes(table: str, name: str) -> frozenset[str]:
        return next(r.codes for r in schema.tables[table].columns if r.name == name)

    sexes = set(column("header", "SEX"))
    assert sexes and sexes <= ({"M", "F", "U"} if start_year >= 2024 else {"1", "2"})
    places = set(column("episodes", "PLACE"))
    assert places and places <= codes("episodes", "PLACE")
    assert places <= load_codelist("placement").codes(start_year + 1)
    for row in read_csv(folder / "oc3.csv"):
        nothing_recorded = row["IN_TOUCH"] in {"DIED", "RHOM"}
        assert (row["ACTIV"] == row["ACCOM"] == "0") == nothing_recorded
    reasons = {r for r in column("swepisodes", "SW_REASON") if r}
    assert reasons and reasons <= codes("swepisodes", "SW_REASON")
    if "dolo" in schema.tables:
        dolo = read_csv(folder / "dolo.csv")
        assert dolo and {r["CHILD"] for r in dolo} <= set(column("header", "CHILD"))
    with duckdb.connect() as con:
        load = load_period(con, landing, "looked_after", year.label, run_id="t")
    assert [f for f in load.findings if f.action == "rejected"] == []
    assert load.unmodelled == [] and load.failed == []


def test_bad_903_rows_are_quarantined_or_flagged(written, tmp_path, con) -> None:
    landing = copy_period(written, "looked_after", "2024-25", tmp_path)
    folder = landing / "looked_after" / "2024-25"
    # File names do not matter: tables are recognised by their columns.
    (folder / "episodes.csv").rename(folder / "EPI_2025_export.csv")
    episodes = (folder / "EPI_2025_export.csv").read_text().splitlines()
    header_rows = (folder / "header.csv").read_text().splitlines()
    episodes.append("LA999991,31/02/2024,S,C2,N1,U1,PR1,,,,HR1 2AB,HR1 2AB,XXXXXXX")
    episodes.append("LA999992,01/02/2024,S,ZZ,N1,U1,PR1,,,,HR1 2AB,HR1 2AB,XXXXXXX")
    header_rows.append("LA999993,1,01/02/2014,WBRI,R247962919251,,")
    (folder / "EPI_2025_export.csv").write_text("\n".join(episodes) + "\n")
    (folder / "header.csv").write_text("\n".join(header_rows) + "\n")
    findings = load_period(con, landing, "looked_after", "2024-25", run_id="t").findings
    rejected = {(f.field, f.value) for f in findings if f.action == "rejected"}
    assert rejected == {("DECOM", "31/02/2024"), ("LS", "ZZ")}
    assert ("UPN", "R247962919251") in {
        (f.field, f.value) for f in findings if f.action == "flagged"
    }


def test_903_file_lacking_a_required_column_fails_alone_naming_it(written, tmp_path, con) -> None:
    landing = copy_period(written, "looked_after", "2024-25", tmp_path)
    folder = landing / "looked_after" / "2024-25"
    (folder / "reviews.csv").write_text("CHILD,DOB,REVIEW_DATE\nLA000001,01/01/2015,01/06/2024\n")
    load = load_period(con, landing, "looked_after", "2024-25", run_id="t")
    (failed,) = load.failed
    assert failed.source_file == "reviews.csv"
    assert "missing required columns for table reviews" in failed.problem
    assert "REVIEW" in failed.problem
    assert "episodes" in {t.table for t in load.tables}


def test_clients_with_missing_column_or_bad_values(written, tmp_path, con) -> None:
    landing = copy_period(written, "social_care_clients", "2024-09", tmp_path)
    path = landing / "social_care_clients" / "2024-09" / "clients_2024-09.csv"
    lines = path.read_text().splitlines()
    lines.append("LA999991,Amy,Price,2015-13-01,F,HR1 2AB,")
    lines.append("LA999992,Tom,Jones,2015-01-01,X,HR1 2AB,9434765918")
    path.write_text("\n".join(lines) + "\n")
    findings = load_period(con, landing, "social_care_clients", "2024-09", run_id="t").findings
    assert {
        (f.field, f.action) for f in findings if f.value in {"2015-13-01", "X", "9434765918"}
    } == {
        ("DOB", "rejected"),
        ("Sex", "rejected"),
        ("NHSNumber", "flagged"),
    }
    path.write_text("LAchildID,Forename,Surname,DOB,Sex\nLA1,A,B,2015-01-01,F\n")
    (failed,) = load_period(con, landing, "social_care_clients", "2024-09", run_id="t").failed
    assert failed.source_file == "clients_2024-09.csv"
    assert "missing required columns" in failed.problem


def test_cin_bad_values_are_quarantined_and_malformed_xml_fails(written, tmp_path, con) -> None:
    landing = copy_period(written, "children_in_need", "2024-25", tmp_path)
    path = cin_file(landing, YEAR)
    text = path.read_text()
    first_need = re.search(r"<PrimaryNeedCode>N\d</PrimaryNeedCode>", text).group(0)
    text = text.replace(first_need, "<PrimaryNeedCode>N77</PrimaryNeedCode>", 1)
    path.write_text(text)
    findings = load_period(con, landing, "children_in_need", "2024-25", run_id="t").findings
    assert [(f.table, f.field, f.value) for f in findings if f.action == "rejected"] == [
        ("cin_details", "PrimaryNeedCode", "N77")
    ]
    path.write_text(text.replace("</Children>", "", 1))
    (failed,) = load_period(con, landing, "children_in_need", "2024-25", run_id="t").failed
    assert failed.source_file == path.name
    assert "malformed XML" in failed.problem

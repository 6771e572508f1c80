"""The synthetic authority writes the promised files, identifiers and truth for a year of life."""

from __future__ import annotations

import csv
import random
import re
import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.identifiers import (
    is_valid_nhs_number,
    is_valid_upn,
    normalise_nhs_number,
)
from linkage_ops.ingest import load_period, load_schema
from linkage_ops.synthetic import GenerationSummary, generate_authority
from linkage_ops.synthetic import authority as authority_module
from linkage_ops.synthetic.gp import write_gp_registrations
from linkage_ops.synthetic.names import nicknames
from linkage_ops.synthetic.population import (
    DEATHS_PER_1000_A_YEAR,
    Population,
    build_population,
)
from linkage_ops.synthetic.recording_errors import (
    corrupt_nhs_number,
    one_digit_off,
    swap_day_month,
    typo,
)
from linkage_ops.synthetic.school_census import write_school_census
from linkage_ops.synthetic.school_year import (
    academic_year_start,
    age_on,
    first_school_day,
    nc_year_label,
    nc_year_number,
    parse_census_period,
    parse_collection_year,
    parse_month_period,
)
from linkage_ops.synthetic.sources import SOURCE_WRITERS

YEAR = parse_collection_year("2024-25")
AUTUMN, SPRING = "2024-autumn", "2025-spring"
AUTUMN_DAY, SPRING_DAY = date(2024, 10, 3), date(2025, 1, 16)
CENSUS_DAYS = {AUTUMN: AUTUMN_DAY, SPRING: SPRING_DAY}
MONTHS = YEAR.months
BLADE_DATE = re.compile(r"\d{4}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} 00:00:00")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NHS_LAYOUT = re.compile(r"\d{10}|\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4}")
SEN_TYPES = {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH"}
# Columns a school's record of a pupil repeats in every term (not the per-export table ids);
# ethnicity and youngcarer are spring only.
PUPIL_DETAILS = (
    "upn",
    "formerupn",
    "uniquelearnernumber",
    "surname",
    "forename",
    "middlenames",
    "preferredsurname",
    "formersurname",
    "dob",
    "sex",
    "language",
    "enrolstatus",
    "senprovision",
    "ncyearactual",
    "entrydate",
    "parttime",
    "plaa",
    "servicechild",
)
# The pupil columns a spring leaver row repeats.
LEAVER_DETAILS = (
    "upn",
    "formerupn",
    "uniquelearnernumber",
    "surname",
    "forename",
    "middlenames",
    "formersurname",
    "dob",
    "sex",
    "ethnicity",
    "language",
    "entrydate",
    "parttime",
)
AUTUMN_TABLES = [
    "addressesoffroll",
    "addressesonroll",
    "fsmperiodsonroll",
    "pupilnolongeronroll",
    "pupilonroll",
    "schoolcensus",
    "senneeds",
    "summerhalfterm2sessiondetailsoffroll",
    "summerhalfterm2sessiondetailsonroll",
    "termlyexclusionsoffroll",
    "termlyexclusionsonroll",
    "termlysessiondetailsoffroll",
    "termlysessiondetailsonroll",
]
SPRING_TABLES = [
    "addresses",
    "fsmperiod",
    "pupilnolongeronroll",
    "pupilonroll",
    "schoolcensus",
    "senneeds",
    "termlyexclusionsoffroll",
    "termlyexclusionsonroll",
    "termlysessiondetailsoffroll",
    "termlysessiondetailsonroll",
]
ADDRESSES = {AUTUMN: "addressesonroll", SPRING: "addresses"}
FSM_PERIODS = {AUTUMN: "fsmperiodsonroll", SPRING: "fsmperiod"}
AUTHORISED = {"C", "C1", "C2", "E", "H", "I", "J", "J1", "M", "R", "S", "T"}
UNAUTHORISED = {"G", "N", "O", "U"}
GP_DETAILS = (
    "NHS_NUMBER",
    "FORENAME",
    "SURNAME",
    "DATE_OF_BIRTH",
    "SEX",
    "PRACTICE_CODE",
    "REGISTRATION_START_DATE",
)


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def census_table(root: Path, period: str, table: str) -> list[dict[str, str]]:
    year, term = period.split("-")
    return read(root / "landing" / "school_census" / period / f"{year}_{term}_{table}.csv")


def gp_rows(root: Path, month: str) -> list[dict[str, str]]:
    return read(root / "landing" / "gp" / month / f"gp_registrations_{month}.csv")


def iso(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def blade(text: str) -> date:
    return date(int(text[:4]), BLADE_MONTHS.index(text[5:8]) + 1, int(text[9:11]))


BLADE_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def errors_of(records: dict[str, dict[str, str]], record_id: str) -> set[str]:
    return set(filter(None, records[record_id]["errors"].split(";")))


def all_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    root = tmp_path_factory.mktemp("authority")
    summary = generate_authority(children=1500, seed=7, out_dir=root)
    return root, summary


@pytest.fixture(scope="module")
def truth(authority) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    root, _ = authority
    children = {row["child_id"]: row for row in read(root / "truth" / "children.csv")}
    # This module checks the School Census and GP writers; their ids never collide.
    records = {
        row["source_record_id"]: row
        for row in read(root / "truth" / "records.csv")
        if row["source"] in ("school_census", "gp")
    }
    return children, records


@pytest.fixture(scope="module")
def gp_months(authority) -> dict[str, list[dict[str, str]]]:
    root, _ = authority
    return {month: gp_rows(root, month) for month in MONTHS}


# --- Files, headers and the truth ------------------------------------------------------------


def test_files_are_written_where_the_readers_look(authority) -> None:
    root, summary = authority
    landing = root / "landing"
    assert sorted(p.name for p in (landing / "school_census" / AUTUMN).iterdir()) == [
        f"2024_autumn_{table}.csv" for table in AUTUMN_TABLES
    ]
    assert sorted(p.name for p in (landing / "school_census" / SPRING).iterdir()) == [
        f"2025_spring_{table}.csv" for table in SPRING_TABLES
    ]
    assert sorted(p.name for p in (landing / "gp").iterdir()) == MONTHS
    assert summary.files["gp"] == [
        landing / "gp" / m / f"gp_registrations_{m}.csv" for m in YEAR.months
    ]
    assert sorted(summary.files["school_census"]) == sorted(
        (landing / "school_census").glob("*/*.csv")
    )
    assert list(summary.files) == list(SOURCE_WRITERS) == list(summary.records)
    assert summary.truth_dir == root / "truth"
    assert summary.children == 1500 == len(read(root / "truth" / "children.csv"))
    assert 1500 / 4 <= summary.households < 1500


def test_headers_are_exactly_the_published_columns(authority) -> None:
    root, _ = authority
    gp_path = root / "landing" / "gp" / "2024-10" / "gp_registrations_2024-10.csv"
    assert header(gp_path) == [
        "REGISTRATION_ID",
        "NHS_NUMBER",
        "FORENAME",
        "SURNAME",
        "DATE_OF_BIRTH",
        "SEX",
        "POSTCODE",
        "PRACTICE_CODE",
        "REGISTRATION_START_DATE",
        "REGISTRATION_END_DATE",
    ]
    assert b"\r" not in gp_path.read_bytes()
    census = root / "landing" / "school_census"
    spring, autumn = census / SPRING, census / AUTUMN
    # Each term's own columns: autumn and summer have no ethnicity or young carer; autumn
    # has the second half of the summer term's sessions.
    autumn_pupils = header(autumn / "2024_autumn_pupilonroll.csv")
    spring_pupils = header(spring / "2025_spring_pupilonroll.csv")
    for pupil_columns in (autumn_pupils, spring_pupils):
        assert pupil_columns[:5] == [
            "pupilonrolltableid",
            "NativeId",
            "pupilonrollorderseqcolumn",
            "sourceid",
            "schoolcensustableid",
        ]
        assert set(PUPIL_DETAILS) <= set(pupil_columns)
        assert all(c == c.lower() for c in pupil_columns if c != "NativeId")
    assert {"ethnicity", "youngcarer"}.isdisjoint(autumn_pupils)
    assert {"ethnicity", "youngcarer"} <= set(spring_pupils)
    assert "summerhalfterm2sessionspossible" in autumn_pupils
    assert "summerhalfterm2sessionspossible" not in spring_pupils
    assert autumn_pupils != spring_pupils[: len(autumn_pupils)]  # their own order too
    autumn_leavers = header(autumn / "2024_autumn_pupilnolongeronroll.csv")
    spring_leavers = header(spring / "2025_spring_pupilnolongeronroll.csv")
    assert {"leavingdate", "upn", "surname", "dob"} <= set(autumn_leavers) & set(spring_leavers)
    # Leavers carry no enrolment, SEN or care codes.
    for leaver_columns in (autumn_leavers, spring_leavers):
        assert {"enrolstatus", "senprovision", "ncyearactual", "plaa", "youngcarer"}.isdisjoint(
            leaver_columns
        )
    assert "ncyearleaving" in autumn_leavers and "ethnicity" in spring_leavers
    assert header(autumn / "2024_autumn_addressesoffroll.csv")[4:] == [
        "pupilnolongeronrolltableid",
        "uniquepropertyreferencenumber",
        "postcode",
    ]
    for folder, year, term in ((autumn, 2024, "autumn"), (spring, 2025, "spring")):
        for path in folder.iterdir():
            table = path.stem.removeprefix(f"{year}_{term}_")
            assert header(path)[:4] == [
                f"{table}tableid",
                "NativeId",
                f"{table}orderseqcolumn",
                "sourceid",
            ], path.name
    for table in ("termlysessiondetailsonroll", "termlysessiondetailsoffroll"):
        assert header(spring / f"2025_spring_{table}.csv")[5:] == ["sessions", "attendancereason"]
    assert set(header(spring / "2025_spring_termlyexclusionsonroll.csv")[5:]) == {
        "startdate",
        "sessions",
        "reason1",
        "reason2",
        "reason3",
        "category",
        "senprovision",
    }
    assert header(spring / "2025_spring_senneeds.csv")[4:] == [
        "pupilonrolltableid",
        "sentyperank",
        "sentype",
    ]


def test_records_csv_matches_every_landing_file(authority, truth, gp_months) -> None:
    root, summary = authority
    children, _ = truth
    census_ids = [
        f"{period}/{r['pupilonrolltableid']}"
        for period in CENSUS_DAYS
        for r in census_table(root, period, "pupilonroll")
    ]
    census_ids += [
        f"{period}/leaver-{r['pupilnolongeronrolltableid']}"
        for period in CENSUS_DAYS
        for r in census_table(root, period, "pupilnolongeronroll")
    ]
    gp_ids = [f"{m}/{r['REGISTRATION_ID']}" for m, rows in gp_months.items() for r in rows]
    truth_rows = read(root / "truth" / "records.csv")
    assert len(truth_rows) == sum(summary.records.values())
    for source, landing_ids in (("school_census", census_ids), ("gp", gp_ids)):
        truth_ids = [r["source_record_id"] for r in truth_rows if r["source"] == source]
        assert len(landing_ids) == len(set(landing_ids)) == len(truth_ids)
        assert set(landing_ids) == set(truth_ids)
        assert summary.records[source] == len(landing_ids)
    # Unborn children in the CIN census are not (yet) children of the population.
    assert all(r["child_id"] in children or r["child_id"].startswith("UNBORN") for r in truth_rows)
    assert all(r["source_record_id"].startswith(r["period"] + "/") for r in truth_rows)
    # Event tables (needs, attendance, suspensions) point at a person record and have no truth
    # rows of their own.
    event_ids = {
        r[f"{table}tableid"]
        for period in CENSUS_DAYS
        for table in ("senneeds", "termlysessiondetailsonroll", "termlyexclusionsonroll")
        for r in census_table(root, period, table)
    }
    assert not any(r["source_record_id"].split("/")[-1] in event_ids for r in truth_rows)


def test_every_file_loads_through_the_reader_with_nothing_rejected(authority, tmp_path) -> None:
    root, _ = authority
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        for source, period in [("school_census", AUTUMN), ("school_census", SPRING)] + [
            ("gp", m) for m in ("2024-04", "2025-03")
        ]:
            load = load_period(con, root / "landing", source, period, run_id="test")
            assert load.unmodelled == [] and load.failed == [], (source, period)
            loads = load.tables
            assert loads and all(load.rows_rejected == 0 for load in loads), (source, period)
            if source == "school_census":
                # Every file is recognised as the table it is named for.
                assert {f"{period.replace('-', '_')}_{t.table}.csv" for t in loads} == {
                    p.name for p in (root / "landing" / source / period).iterdir()
                }
        counts = dict(
            con.execute(
                "select _period, count(*) from raw.school_census__pupilonroll group by 1"
            ).fetchall()
        )
        assert counts == {p: len(census_table(root, p, "pupilonroll")) for p in CENSUS_DAYS}
        leavers = dict(
            con.execute(
                "select _period, count(*) from raw.school_census__pupilnolongeronroll group by 1"
            ).fetchall()
        )
        assert leavers == {
            p: len(census_table(root, p, "pupilnolongeronroll")) for p in CENSUS_DAYS
        }
        needs = con.execute("select count(*) from raw.school_census__senneeds").fetchone()[0]
        assert needs == sum(len(census_table(root, p, "senneeds")) for p in CENSUS_DAYS) > 0
        # Autumn's tables land in their own raw tables, spring's in theirs.
        fsm = dict(
            con.execute(
                "select 'fsmperiodsonroll', count(*) from raw.school_census__fsmperiodsonroll "
                "union all select 'fsmperiod', count(*) from raw.school_census__fsmperiod"
            ).fetchall()
        )
        assert fsm == {
            "fsmperiodsonroll": len(census_table(root, AUTUMN, "fsmperiodsonroll")),
            "fsmperiod": len(census_table(root, SPRING, "fsmperiod")),
        }


def test_bad_new_census_tables_are_quarantined_or_fail_naming_the_file(authority, tmp_path) -> None:
    root, _ = authority
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing" / "school_census" / SPRING, landing / "school_census" / SPRING)
    folder = landing / "school_census" / SPRING
    needs = folder / "2025_spring_senneeds.csv"
    lines = needs.read_text().splitlines()
    lines[1] = re.sub(r",[A-Z]+$", ",DYSL", lines[1])
    needs.write_text("\n".join(lines) + "\n")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        load = load_period(con, landing, "school_census", SPRING, run_id="test")
        loads, findings = load.tables, load.findings
        by_table = {load.table: load for load in loads}
        assert by_table["senneeds"].rows_rejected == 1
        assert [(f.field, f.value, f.action) for f in findings if f.table == "senneeds"] == [
            ("sentype", "DYSL", "rejected")
        ]
        leavers = folder / "2025_spring_pupilnolongeronroll.csv"
        rows = read(leavers)
        with leavers.open("w", encoding="utf-8", newline="") as handle:
            columns = [c for c in rows[0] if c != "leavingdate"]
            writer = csv.DictWriter(handle, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        (failed,) = load_period(con, landing, "school_census", SPRING, run_id="test").failed
        assert failed.source_file == leavers.name
        assert "leavingdate" in failed.problem
    finally:
        con.close()


# --- Identifiers -------------------------------------------------------------------------------


def test_upns_are_valid_unless_recorded_with_an_error(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    for period in CENSUS_DAYS:
        pupils = census_table(root, period, "pupilonroll")
        wrong = missing = 0
        for pupil in pupils:
            errors = errors_of(records, f"{period}/{pupil['pupilonrolltableid']}")
            child = children[records[f"{period}/{pupil['pupilonrolltableid']}"]["child_id"]]
            if "upn_wrong_check_letter" in errors:
                assert not is_valid_upn(pupil["upn"])
                wrong += 1
            elif "missing_upn" in errors:
                assert pupil["upn"] == ""
                missing += 1
            else:
                assert is_valid_upn(pupil["upn"]), pupil
                assert pupil["upn"] == child["upn"]
                # Issued here, unless the family arrived from another authority after the
                # child started school.
                day = CENSUS_DAYS[period]
                born = date.fromisoformat(child["date_of_birth"])
                started = first_school_day(
                    academic_year_start(day) - nc_year_number(born, day)
                ).isoformat()
                arrived = child["moved_into_authority_on"]
                assert (pupil["upn"][1:4] == "884") != (arrived > started)
            if pupil["formerupn"]:
                assert is_valid_upn(pupil["formerupn"])
                assert pupil["formerupn"] != pupil["upn"]
        assert wrong + missing < 0.03 * len(pupils)
        upns = [p["upn"] for p in pupils if p["upn"]]
        assert len(upns) == len(set(upns))


def test_truth_upns_are_unique_and_valid(truth) -> None:
    children, _ = truth
    upns = [c["upn"] for c in children.values() if c["upn"]]
    assert len(upns) == len(set(upns))
    assert all(is_valid_upn(u) for u in upns)
    # Babies and toddlers have never been at school.
    for child in children.values():
        if nc_year_number(date.fromisoformat(child["date_of_birth"]), AUTUMN_DAY) < 0:
            assert child["upn"] == ""


def test_nhs_numbers_are_valid_synthetic_unless_flagged(truth, gp_months) -> None:
    children, records = truth
    flagged = total = 0
    for month, rows in gp_months.items():
        for row in rows:
            record_id = f"{month}/{row['REGISTRATION_ID']}"
            errors = errors_of(records, record_id)
            number = normalise_nhs_number(row["NHS_NUMBER"])
            total += 1
            if "missing_nhs_number" in errors:
                assert row["NHS_NUMBER"] == ""
                flagged += 1
            elif "nhs_number_invalid" in errors:
                assert not is_valid_nhs_number(number)
                flagged += 1
            else:
                assert NHS_LAYOUT.fullmatch(row["NHS_NUMBER"]), row
                assert number == children[records[record_id]["child_id"]]["nhs_number"]
    assert 0 < flagged < 0.05 * total
    truth_numbers = [c["nhs_number"] for c in children.values()]
    assert len(set(truth_numbers)) == len(truth_numbers)
    assert all(is_valid_nhs_number(n) and n.startswith("999") for n in truth_numbers)


def test_nhs_numbers_come_in_all_three_layouts(gp_months) -> None:
    numbers = [r["NHS_NUMBER"] for r in gp_months["2024-10"] if r["NHS_NUMBER"]]
    spaced = sum(" " in n for n in numbers) / len(numbers)
    dashed = sum("-" in n for n in numbers) / len(numbers)
    assert 0.18 < spaced < 0.32
    assert 0.005 < dashed < 0.07


# --- The population ----------------------------------------------------------------------------


def test_twins_share_birth_household_and_surname_but_not_forename(truth) -> None:
    children, _ = truth
    twins = [c for c in children.values() if c["twin_of"]]
    assert twins
    for child in twins:
        twin = children[child["twin_of"]]
        assert twin["twin_of"] == child["child_id"]
        assert twin["date_of_birth"] == child["date_of_birth"]
        assert twin["household_id"] == child["household_id"]
        assert twin["surname"] == child["surname"]
        assert twin["forename"] != child["forename"]
    assert 0.005 <= len(twins) / len(children) <= 0.03


def test_population_is_the_children_of_the_collection_year(truth) -> None:
    children, _ = truth
    births = [date.fromisoformat(c["date_of_birth"]) for c in children.values()]
    # Aged 0-17 at some point in the year: 17 on its first day at the oldest.
    assert all(age_on(b, YEAR.first_day) <= 17 and b <= YEAR.last_day for b in births)
    assert max(age_on(b, YEAR.first_day) for b in births) == 17
    born_in_year = [b for b in births if b >= YEAR.first_day]
    # About one child in 19 is born during the year, spread over its months.
    assert 0.03 < len(born_in_year) / len(births) < 0.08
    assert len({b.strftime("%Y-%m") for b in born_in_year}) == 12
    households: dict[str, list[dict[str, str]]] = defaultdict(list)
    for child in children.values():
        households[child["household_id"]].append(child)
    assert max(len(h) for h in households.values()) <= 4
    for members in households.values():
        assert len({m["postcode"] for m in members}) == 1
        assert len({m["moved_into_authority_on"] for m in members}) == 1
    moved = [h for h in households.values() if h[0]["moved_on"]]
    assert 0.03 < len(moved) / len(households) < 0.15
    assert all(h[0]["previous_postcode"] for h in moved)
    assert all("2023-03-31" <= h[0]["moved_on"] < "2025-03-31" for h in moved)
    assert any(h[0]["moved_on"] > "2024-04-01" for h in moved)  # some move during the year
    arrived = [h for h in households.values() if h[0]["moved_into_authority_on"]]
    left = [h for h in households.values() if h[0]["moved_out_of_authority_on"]]
    assert 0.01 < len(arrived) / len(households) < 0.06
    assert 0.01 < len(left) / len(households) < 0.06
    # Nobody is born after their family has left.
    for members in left:
        assert all(m["date_of_birth"] < m["moved_out_of_authority_on"] for m in members)


def test_deaths_happen_at_about_the_stated_rate(tmp_path: Path) -> None:
    population = build_population(20_000, YEAR, np.random.default_rng(3))
    died = [c for c in population.children if c.died_on is not None]
    # About 0.8 per 1,000 a year: some 16 expected; Poisson bounds that almost never fail.
    assert 5 <= len(died) <= 32
    assert DEATHS_PER_1000_A_YEAR["infant"] > DEATHS_PER_1000_A_YEAR["child"]
    for child in died:
        assert YEAR.first_day <= child.died_on <= YEAR.last_day
        assert child.died_on > child.date_of_birth
        assert not child.is_alive_on(child.died_on)
        assert child.is_alive_on(child.died_on - timedelta(days=1))


def test_long_tail_of_names(truth) -> None:
    children, _ = truth
    surnames = {c["surname"] for c in children.values()}
    assert len(surnames) > 300
    assert len({c["forename"] for c in children.values()}) > 300
    assert 0.005 < sum("-" in c["surname"] for c in children.values()) / len(children) < 0.08


# --- School Census: both terms -----------------------------------------------------------------


def test_ncyearactual_is_right_on_both_census_days(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    year_of: dict[str, dict[str, str]] = defaultdict(dict)
    for period, day in CENSUS_DAYS.items():
        for pupil in census_table(root, period, "pupilonroll"):
            child = children[records[f"{period}/{pupil['pupilonrolltableid']}"]["child_id"]]
            year = nc_year_number(date.fromisoformat(child["date_of_birth"]), day)
            assert pupil["ncyearactual"] == nc_year_label(year)
            assert 0 <= year <= 13
            year_of[child["child_id"]][period] = pupil["ncyearactual"]
        years = {p["ncyearactual"] for p in census_table(root, period, "pupilonroll")}
        assert {"R", "1", "6", "7", "11", "12", "13"} <= years
    # Autumn and spring are the same academic year: nobody changes year group.
    assert all(len(set(terms.values())) == 1 for terms in year_of.values())


def test_national_curriculum_year_rules() -> None:
    # Age on the 31 August before the census decides the year; Reception is age four.
    assert nc_year_number(date(2020, 8, 31), AUTUMN_DAY) == 0
    assert nc_year_number(date(2019, 9, 1), AUTUMN_DAY) == 0
    assert nc_year_number(date(2020, 9, 1), AUTUMN_DAY) == -1
    assert nc_year_number(date(2019, 8, 31), AUTUMN_DAY) == 1
    assert nc_year_label(0) == "R"
    assert nc_year_number(date(2008, 9, 1), AUTUMN_DAY) == 11
    assert nc_year_number(date(2007, 8, 31), AUTUMN_DAY) == 13
    # The spring census belongs to the academic year that began the previous September.
    assert nc_year_number(date(2020, 8, 31), SPRING_DAY) == 0


def test_census_days_and_collection_year_are_computed_not_hard_coded() -> None:
    assert parse_census_period("2024-autumn").census_day == AUTUMN_DAY
    assert parse_census_period("2023-autumn").census_day == date(2023, 10, 5)
    assert parse_census_period("2025-spring").census_day == SPRING_DAY
    assert parse_census_period("2025-summer").census_day == date(2025, 5, 15)
    assert parse_census_period("2025-spring").term_code == "SPR"
    for bad in ("2024-winter", "autumn-2024", "2024"):
        with pytest.raises(ValueError):
            parse_census_period(bad)
    assert YEAR.months[0] == "2024-04" and YEAR.months[-1] == "2025-03" and len(YEAR.months) == 12
    assert [p.label for p in YEAR.census_periods] == [AUTUMN, SPRING]
    assert parse_month_period("2025-02") == date(2025, 2, 28)
    with pytest.raises(ValueError):
        parse_collection_year("2024-26")


def test_school_census_rows_point_at_real_schools_and_pupils(authority) -> None:
    root, _ = authority
    for period, day in CENSUS_DAYS.items():
        schools = census_table(root, period, "schoolcensus")
        pupils = census_table(root, period, "pupilonroll")
        school_ids = {s["schoolcensustableid"] for s in schools}
        estab_of = {s["schoolcensustableid"]: s["estab"] for s in schools}
        term, year = ("AUT", "2024") if period == AUTUMN else ("SPR", "2025")
        assert all(s["term"] == term and s["year"] == year and s["lea"] == "884" for s in schools)
        reference = f"{day.year}-{BLADE_MONTHS[day.month - 1]}-{day.day:02d} 00:00:00"
        assert all(s["referencedate"] == reference for s in schools)
        assert all(re.fullmatch(r"[247]\d{3}", s["estab"]) for s in schools)
        # Table ids are opaque text, unique within the export.
        ids = [p["pupilonrolltableid"] for p in pupils]
        assert len(set(ids)) == len(ids) and not any(i.isdigit() for i in ids)
        assert [p["pupilonrollorderseqcolumn"] for p in pupils] == [
            str(n) for n in range(1, len(pupils) + 1)
        ]
        for pupil in pupils:
            assert pupil["sourceid"] == pupil["schoolcensustableid"] in school_ids
            estab = estab_of[pupil["schoolcensustableid"]]
            year_group = pupil["ncyearactual"]
            if estab.startswith("2"):
                assert year_group == "R" or int(year_group) <= 6
            elif estab.startswith("4"):
                assert year_group != "R" and int(year_group) >= 7
            assert blade(pupil["entrydate"]) <= day
        addresses = census_table(root, period, ADDRESSES[period])
        assert [a["pupilonrolltableid"] for a in addresses] == ids
        pupil_ids = set(ids)
        fsm = census_table(root, period, FSM_PERIODS[period])
        assert {f["pupilonrolltableid"] for f in fsm} <= pupil_ids
        assert 0.1 < len({f["pupilonrolltableid"] for f in fsm}) / len(pupils) < 0.3
        assert any(f["fsmenddate"] == "" for f in fsm) and any(f["fsmenddate"] for f in fsm)
        # Nothing after census day is known yet.
        assert all(blade(f["fsmstartdate"]) <= day for f in fsm)
        assert all(blade(f["fsmenddate"]) <= day for f in fsm if f["fsmenddate"])
        leaver_ids = {
            r["pupilnolongeronrolltableid"]
            for r in census_table(root, period, "pupilnolongeronroll")
        }
        for table, key, people in (
            ("termlysessiondetailsonroll", "pupilonrolltableid", pupil_ids),
            ("termlysessiondetailsoffroll", "pupilnolongeronrolltableid", leaver_ids),
            ("termlyexclusionsonroll", "pupilonrolltableid", pupil_ids),
            ("termlyexclusionsoffroll", "pupilnolongeronrolltableid", leaver_ids),
        ):
            assert {r[key] for r in census_table(root, period, table)} <= people, table
    off_roll = census_table(root, AUTUMN, "addressesoffroll")
    autumn_leavers = census_table(root, AUTUMN, "pupilnolongeronroll")
    assert [a["pupilnolongeronrolltableid"] for a in off_roll] == [
        r["pupilnolongeronrolltableid"] for r in autumn_leavers
    ]


def test_school_census_formats(authority) -> None:
    root, _ = authority
    for period in CENSUS_DAYS:
        for pupil in census_table(root, period, "pupilonroll"):
            assert BLADE_DATE.fullmatch(pupil["dob"])
            assert BLADE_DATE.fullmatch(pupil["entrydate"])
            assert pupil["sex"] in {"M", "F"}
            assert pupil["senprovision"] in {"N", "K", "E"}
            assert pupil["enrolstatus"] in {"C", "M"}
            assert pupil["parttime"] in {"True", "False"}
            # Blade codes, not booleans.
            assert pupil["servicechild"] in {"Y", "N", "U", "R"}
            assert pupil["plaa"] in {"", "A", "G", "R", "C"}
            if period == SPRING:
                assert pupil["youngcarer"] in {"P", "S", "N"}
                assert re.fullmatch(r"[A-Z]{4}", pupil["ethnicity"])
            assert pupil["uniquelearnernumber"] == "" or re.fullmatch(
                r"\d{10}", pupil["uniquelearnernumber"]
            )
        for address in census_table(root, period, ADDRESSES[period]):
            assert re.fullmatch(r"HR[1-9] [1-9][ABD-HJLNP-UW-Z]{2}", address["postcode"])
            assert re.fullmatch(r"\d{12}", address["uniquepropertyreferencenumber"])
        for fsm in census_table(root, period, FSM_PERIODS[period]):
            assert BLADE_DATE.fullmatch(fsm["fsmstartdate"])
            assert fsm["fsmenddate"] == "" or BLADE_DATE.fullmatch(fsm["fsmenddate"])
            assert fsm["ukcountry"] == "ENG"
        for leaver in census_table(root, period, "pupilnolongeronroll"):
            assert BLADE_DATE.fullmatch(leaver["leavingdate"])
        for exclusion in census_table(root, period, "termlyexclusionsonroll"):
            assert BLADE_DATE.fullmatch(exclusion["startdate"])
            assert exclusion["category"] in {"FIXD", "LNCH"}
            assert exclusion["reason1"] and exclusion["reason1"] != exclusion["reason2"]
    services = [p["servicechild"] for p in census_table(root, SPRING, "pupilonroll")]
    assert {"Y", "N"} <= set(services)
    carers = [p["youngcarer"] for p in census_table(root, SPRING, "pupilonroll")]
    assert carers.count("N") > 0.9 * len(carers) and {"P", "S"} & set(carers)


def test_sen_needs_belong_to_pupils_with_sen_provision(authority) -> None:
    root, _ = authority
    for period in CENSUS_DAYS:
        pupils = {p["pupilonrolltableid"]: p for p in census_table(root, period, "pupilonroll")}
        needs: dict[str, list[dict[str, str]]] = defaultdict(list)
        rows = census_table(root, period, "senneeds")
        assert len({r["senneedstableid"] for r in rows}) == len(rows)
        for row in rows:
            needs[row["pupilonrolltableid"]].append(row)
            assert row["sourceid"] == pupils[row["pupilonrolltableid"]]["schoolcensustableid"]
        with_provision = {i for i, p in pupils.items() if p["senprovision"] in {"K", "E"}}
        assert set(needs) == with_provision
        for pupil_id, found in needs.items():
            assert [r["sentyperank"] for r in found] == [str(n) for n in range(1, len(found) + 1)]
            assert len(found) in (1, 2)
            types = [r["sentype"] for r in found]
            assert len(set(types)) == len(types)
            allowed = SEN_TYPES | ({"NSA"} if pupils[pupil_id]["senprovision"] == "K" else set())
            assert set(types) <= allowed
        assert any(len(found) == 2 for found in needs.values())


def test_a_pupils_record_is_the_same_in_both_terms(authority, truth) -> None:
    root, _ = authority
    _, records = truth
    by_child: dict[str, dict[str, tuple]] = defaultdict(dict)
    for period in CENSUS_DAYS:
        for pupil in census_table(root, period, "pupilonroll"):
            record = records[f"{period}/{pupil['pupilonrolltableid']}"]
            details = tuple(pupil[c] for c in PUPIL_DETAILS)
            by_child[record["child_id"]][period] = (details, record["errors"])
    in_both = [terms for terms in by_child.values() if len(terms) == 2]
    assert len(in_both) > 0.9 * len(by_child)
    assert all(terms[AUTUMN] == terms[SPRING] for terms in in_both)
    # Some of those records carry errors, persistently.
    assert sum(1 for terms in in_both if terms[AUTUMN][1]) > 0.02 * len(in_both)


def test_leavers_were_on_roll_in_autumn_and_left_before_spring(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    autumn = {
        records[f"{AUTUMN}/{p['pupilonrolltableid']}"]["child_id"]: p
        for p in census_table(root, AUTUMN, "pupilonroll")
    }
    spring = {
        records[f"{SPRING}/{p['pupilonrolltableid']}"]["child_id"]
        for p in census_table(root, SPRING, "pupilonroll")
    }
    leavers = census_table(root, SPRING, "pupilnolongeronroll")
    leaver_ids = set()
    for leaver in leavers:
        record_id = f"{SPRING}/leaver-{leaver['pupilnolongeronrolltableid']}"
        child_id = records[record_id]["child_id"]
        leaver_ids.add(child_id)
        assert child_id in autumn and child_id not in spring
        # The school's record of the pupil, errors and all, as in autumn.
        autumn_record = autumn[child_id]
        assert all(leaver[c] == autumn_record[c] for c in LEAVER_DETAILS if c in autumn_record)
        assert (
            records[record_id]["errors"]
            == records[f"{AUTUMN}/{autumn_record['pupilonrolltableid']}"]["errors"]
        )
        left = blade(leaver["leavingdate"])
        assert AUTUMN_DAY < left <= SPRING_DAY
        child = children[child_id]
        reasons = {
            child["died_on"],
            child["moved_out_of_authority_on"],
            child["left_la_school_on"],
        }
        assert left.isoformat() in reasons
    # Everyone on roll in autumn and not in spring is a leaver.
    assert leaver_ids == set(autumn) - spring
    assert 0.005 < len(leavers) / len(autumn) < 0.04


def test_a_few_in_year_admissions_appear_in_spring_only(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    autumn = {
        records[f"{AUTUMN}/{p['pupilonrolltableid']}"]["child_id"]
        for p in census_table(root, AUTUMN, "pupilonroll")
    }
    spring = census_table(root, SPRING, "pupilonroll")
    new = [
        p
        for p in spring
        if records[f"{SPRING}/{p['pupilonrolltableid']}"]["child_id"] not in autumn
    ]
    assert 0 < len(new) < 0.03 * len(spring)
    for pupil in new:
        child = children[records[f"{SPRING}/{pupil['pupilonrolltableid']}"]["child_id"]]
        assert AUTUMN_DAY < blade(pupil["entrydate"]) <= SPRING_DAY
        # A family that arrived during the year, after the autumn census or just before it.
        assert "2024-04-01" <= child["moved_into_authority_on"] <= SPRING_DAY.isoformat()


def test_autumn_leavers_were_on_roll_in_the_summer_term(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    schools = {
        s["schoolcensustableid"]: s["estab"] for s in census_table(root, AUTUMN, "schoolcensus")
    }
    autumn = {
        records[f"{AUTUMN}/{p['pupilonrolltableid']}"]["child_id"]: p
        for p in census_table(root, AUTUMN, "pupilonroll")
    }
    leavers = census_table(root, AUTUMN, "pupilnolongeronroll")
    summer_end = date(2024, 7, 23)
    moved_on = {"6": 0, "11": 0}
    for leaver in leavers:
        child_id = records[f"{AUTUMN}/leaver-{leaver['pupilnolongeronrolltableid']}"]["child_id"]
        left = blade(leaver["leavingdate"])
        assert date(2024, 4, 8) < left <= AUTUMN_DAY
        estab = schools[leaver["schoolcensustableid"]]
        if leaver["ncyearleaving"] in moved_on and left == summer_end:
            # Finished Year 6 at a primary (now in Year 7 at a secondary) or Year 11.
            moved_on[leaver["ncyearleaving"]] += 1
            assert estab.startswith("2" if leaver["ncyearleaving"] == "6" else "4")
            if leaver["ncyearleaving"] == "6" and child_id in autumn:
                assert autumn[child_id]["ncyearactual"] == "7"
        else:
            # Moved out of the authority or died before the autumn census.
            child = children[child_id]
            assert left.isoformat() in {child["died_on"], child["moved_out_of_authority_on"]}
            assert child_id not in autumn
    assert moved_on["6"] > 0 and moved_on["11"] > 0
    # Their last address: UPRN and postcode.
    off_roll = census_table(root, AUTUMN, "addressesoffroll")
    assert all(re.fullmatch(r"HR[1-9] [1-9][A-Z]{2}", a["postcode"]) for a in off_roll)


def attendance(root: Path, period: str, roll: str = "onroll") -> dict[str, dict[str, int]]:
    """Sessions by reason for each pupil id, previous term."""
    by_pupil: dict[str, dict[str, int]] = defaultdict(dict)
    key = "pupilonrolltableid" if roll == "onroll" else "pupilnolongeronrolltableid"
    for row in census_table(root, period, f"termlysessiondetails{roll}"):
        by_pupil[row[key]][row["attendancereason"]] = int(row["sessions"])
    return by_pupil


def test_attendance_is_plausible_and_adds_up(authority) -> None:
    root, _ = authority
    pupils = census_table(root, SPRING, "pupilonroll")
    reasons = attendance(root, SPRING)
    rates = {}
    for pupil in pupils:
        if not pupil["termlysessionspossible"]:
            assert pupil["pupilonrolltableid"] not in reasons
            continue
        possible = int(pupil["termlysessionspossible"])
        # The autumn term 2024 met on 75 days: 150 sessions for a pupil there all term.
        assert 0 < possible <= 150 and possible % 2 == 0
        missed = reasons.get(pupil["pupilonrolltableid"], {})
        assert all(n > 0 for n in missed.values())
        assert int(pupil["termlysessionsauthorised"]) == sum(
            n for r, n in missed.items() if r in AUTHORISED
        )
        assert int(pupil["termlysessionsunauthorised"]) == sum(
            n for r, n in missed.items() if r in UNAUTHORISED
        )
        rates[pupil["pupilonrolltableid"]] = sum(missed.values()) / possible
    assert sum(1 for p in pupils if p["termlysessionspossible"] == "150") > 0.8 * len(pupils)
    persistent = sum(r >= 0.1 for r in rates.values()) / len(rates)
    severe = sum(r >= 0.5 for r in rates.values()) / len(rates)
    assert 0.12 < persistent < 0.3 and 0.003 < severe < 0.05
    # Higher among pupils with SEN provision.
    sen = [
        rates[p["pupilonrolltableid"]] >= 0.1
        for p in pupils
        if p["pupilonrolltableid"] in rates and p["senprovision"] != "N"
    ]
    others = [
        rates[p["pupilonrolltableid"]] >= 0.1
        for p in pupils
        if p["pupilonrolltableid"] in rates and p["senprovision"] == "N"
    ]
    assert sum(sen) / len(sen) > sum(others) / len(others)
    # Spring reports the autumn term 2024, registered with the codes of August 2024; autumn
    # the summer term 2024, with the old ones.
    spring_codes = {r for found in reasons.values() for r in found}
    assert {"I", "O"} <= spring_codes and spring_codes.isdisjoint({"H", "J", "Y"})
    assert spring_codes & {"C1", "C2", "J1"}
    autumn_codes = {
        row["attendancereason"]
        for table in ("termlysessiondetailsonroll", "summerhalfterm2sessiondetailsonroll")
        for row in census_table(root, AUTUMN, table)
    }
    assert {"I", "O"} <= autumn_codes and autumn_codes.isdisjoint({"C1", "C2", "J1", "K", "Q"})
    # Autumn: pupils new in September (Reception, Year 7) have no summer-term attendance.
    for pupil in census_table(root, AUTUMN, "pupilonroll"):
        if blade(pupil["entrydate"]) > date(2024, 7, 22):
            assert pupil["termlysessionspossible"] == pupil["summerhalfterm2sessionspossible"] == ""
    # Leavers' sessions stop when they left (the term ended on 20 December).
    for leaver in census_table(root, SPRING, "pupilnolongeronroll"):
        if blade(leaver["leavingdate"]) <= date(2024, 12, 20):
            assert int(leaver["termlysessionspossible"] or 0) < 150


def test_a_few_secondary_pupils_are_suspended(authority) -> None:
    root, _ = authority
    for period in CENSUS_DAYS:
        schools = {
            s["schoolcensustableid"]: s["estab"] for s in census_table(root, period, "schoolcensus")
        }
        pupils = {p["pupilonrolltableid"]: p for p in census_table(root, period, "pupilonroll")}
        secondary = {i for i, p in pupils.items() if schools[p["schoolcensustableid"]][0] == "4"}
        exclusions = census_table(root, period, "termlyexclusionsonroll")
        suspended = {e["pupilonrolltableid"] for e in exclusions}
        assert 0.005 < len(suspended & secondary) / len(secondary) < 0.1
        for exclusion in exclusions:
            assert (
                exclusion["senprovision"] == pupils[exclusion["pupilonrolltableid"]]["senprovision"]
            )
            if exclusion["category"] == "FIXD" and period == SPRING:
                # A suspension's sessions are registered E, unless every session was missed.
                pupil = pupils[exclusion["pupilonrolltableid"]]
                missed = attendance(root, period)[exclusion["pupilonrolltableid"]]
                assert "E" in missed or sum(missed.values()) == int(pupil["termlysessionspossible"])


def test_nobody_is_in_a_census_before_birth_or_after_death_or_departure(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    for period, day in CENSUS_DAYS.items():
        for pupil in census_table(root, period, "pupilonroll"):
            child = children[records[f"{period}/{pupil['pupilonrolltableid']}"]["child_id"]]
            assert not child["died_on"] or iso(child["died_on"]) > day
            assert not child["moved_out_of_authority_on"] or (
                iso(child["moved_out_of_authority_on"]) > day
            )
            assert not child["moved_into_authority_on"] or (
                iso(child["moved_into_authority_on"]) <= day
            )


# --- GP registrations, month by month ----------------------------------------------------------


def test_gp_registration_formats_and_history(truth, gp_months) -> None:
    children, records = truth
    for month, rows in gp_months.items():
        extract_day = parse_month_period(month)
        current: dict[str, dict[str, str]] = {}
        ended: list[tuple[str, dict[str, str]]] = []
        ids = [int(r["REGISTRATION_ID"]) for r in rows]
        assert len(ids) == len(set(ids))
        for row in rows:
            for column in ("DATE_OF_BIRTH", "REGISTRATION_START_DATE"):
                assert ISO_DATE.fullmatch(row[column])
            assert row["SEX"] in {"1", "2", "9", "0"}
            assert re.fullmatch(r"[A-Z]\d{5}", row["PRACTICE_CODE"])
            assert iso(row["REGISTRATION_START_DATE"]) <= extract_day
            child_id = records[f"{month}/{row['REGISTRATION_ID']}"]["child_id"]
            assert age_on(iso(children[child_id]["date_of_birth"]), extract_day) < 18
            if row["REGISTRATION_END_DATE"]:
                assert ISO_DATE.fullmatch(row["REGISTRATION_END_DATE"])
                end = iso(row["REGISTRATION_END_DATE"])
                assert iso(row["REGISTRATION_START_DATE"]) < end <= extract_day
                ended.append((child_id, row))
            else:
                assert child_id not in current  # one current registration per child
                current[child_id] = row
        living_here = [
            c
            for c in children.values()
            if iso(c["date_of_birth"]) <= extract_day - timedelta(days=42)
            and age_on(iso(c["date_of_birth"]), extract_day) < 18
            and not (c["died_on"] and iso(c["died_on"]) <= extract_day)
            and not (
                c["moved_out_of_authority_on"]
                and iso(c["moved_out_of_authority_on"]) <= extract_day
            )
            and not (
                c["moved_into_authority_on"]
                and iso(c["moved_into_authority_on"]) > extract_day - timedelta(days=60)
            )
        ]
        registered_here = sum(1 for c in living_here if c["child_id"] in current)
        assert 0.94 < registered_here / len(living_here) < 0.995, month
        assert 0.01 < len(ended) / len(current) < 0.1
        for child_id, row in ended:
            if child_id in current:
                assert row["PRACTICE_CODE"] != current[child_id]["PRACTICE_CODE"]
        # Health feeds carry no UPN anywhere.
        assert not any(is_valid_upn(v) for row in rows for v in row.values())


def test_a_registration_keeps_its_id_and_recorded_details_every_month(truth, gp_months) -> None:
    _, records = truth
    seen: dict[str, dict[str, tuple]] = defaultdict(dict)
    for month, rows in gp_months.items():
        for row in rows:
            record = records[f"{month}/{row['REGISTRATION_ID']}"]
            errors = set(filter(None, record["errors"].split(";"))) - {"stale_postcode"}
            details = tuple(row[c] for c in GP_DETAILS)
            seen[row["REGISTRATION_ID"]][month] = (details, record["child_id"], frozenset(errors))
    assert sum(1 for months in seen.values() if len(months) == 12) > 0.8 * len(seen)
    for months in seen.values():
        assert len(set(months.values())) == 1
    with_errors = sum(1 for months in seen.values() if next(iter(months.values()))[2])
    assert with_errors > 0.05 * len(seen)
    # Ids are positive and stable, so months never reuse one for a different registration.
    assert all(int(i) > 0 for i in seen)


def test_births_appear_in_gp_only_from_their_month(truth, gp_months) -> None:
    children, records = truth
    first_seen: dict[str, str] = {}
    for month, rows in gp_months.items():
        for row in rows:
            child_id = records[f"{month}/{row['REGISTRATION_ID']}"]["child_id"]
            first_seen.setdefault(child_id, month)
            born = iso(children[child_id]["date_of_birth"])
            assert born.strftime("%Y-%m") <= month
            assert iso(row["REGISTRATION_START_DATE"]) >= born
    babies = [
        c
        for c in children.values()
        if "2024-04-01" <= c["date_of_birth"] <= "2025-01-31"
        and not c["moved_into_authority_on"] > c["date_of_birth"]
    ]
    registered = [c for c in babies if c["child_id"] in first_seen]
    assert len(registered) > 0.9 * len(babies) > 0
    for baby in registered:
        born = iso(baby["date_of_birth"])
        # Registered within a few weeks: in the month of birth or one of the next two.
        latest = (born.replace(day=1) + timedelta(days=70)).strftime("%Y-%m")
        assert first_seen[baby["child_id"]] <= latest


def test_recording_errors_are_what_truth_says(truth, gp_months) -> None:
    children, records = truth
    known = nicknames()
    counts: dict[str, int] = defaultdict(int)
    for month in ("2024-04", "2025-03"):
        for row in gp_months[month]:
            truth_row = records[f"{month}/{row['REGISTRATION_ID']}"]
            child = children[truth_row["child_id"]]
            errors = set(filter(None, truth_row["errors"].split(";")))
            for error in errors:
                counts[error] += 1
            if "names_swapped" in errors:
                assert (row["FORENAME"], row["SURNAME"]) == (child["surname"], child["forename"])
            elif "forename_nickname" in errors:
                assert row["FORENAME"] in known[child["forename"]]
            elif "forename_typo" in errors:
                assert row["FORENAME"] != child["forename"]
            else:
                assert row["FORENAME"] == child["forename"]
            surname_errors = {"surname_change", "surname_typo", "hyphenation_variant"}
            if not errors & (surname_errors | {"names_swapped"}):
                assert row["SURNAME"] == child["surname"]
            if not errors & {"dob_day_month_swap", "dob_digit_off"}:
                assert row["DATE_OF_BIRTH"] == child["date_of_birth"]
            if "stale_postcode" in errors and "postcode_typo" not in errors:
                assert row["POSTCODE"] == child["previous_postcode"] != child["postcode"]
                assert child["moved_on"] <= parse_month_period(month).isoformat()
    assert counts["forename_nickname"] > 0.02 * len(gp_months["2025-03"])
    assert counts["stale_postcode"] > 0


def test_gp_ended_registrations_for_deaths_and_departures(truth, gp_months) -> None:
    children, records = truth
    for month, rows in gp_months.items():
        month_start = parse_month_period(month).replace(day=1)
        for row in rows:
            child = children[records[f"{month}/{row['REGISTRATION_ID']}"]["child_id"]]
            if child["died_on"]:
                assert iso(child["died_on"]) >= month_start
                if (
                    iso(child["died_on"]) <= parse_month_period(month)
                    and not row["REGISTRATION_END_DATE"]
                ):
                    pytest.fail(f"open registration after death: {row}")
            if child["moved_out_of_authority_on"]:
                # Deregistered within a month of moving out, then gone.
                assert iso(child["moved_out_of_authority_on"]) + timedelta(days=31) >= month_start


# --- A death, written by the writers themselves ------------------------------------------------


@pytest.fixture(scope="module")
def year_with_deaths(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Population, dict[str, date], dict]:
    """A small population in which three chosen pupils die: before, between and after the
    censuses, so every rule about deaths is exercised whatever the death rate draws."""
    population = build_population(600, YEAR, np.random.default_rng(21))
    pupils = [
        c
        for c in population.children
        if c.on_roll_on(AUTUMN_DAY)
        and c.on_roll_on(SPRING_DAY)
        and c.household.left_on is None
        and c.left_school_on is None
    ]
    deaths = {
        pupils[0].child_id: date(2024, 6, 10),
        pupils[1].child_id: date(2024, 12, 5),
        pupils[2].child_id: date(2025, 2, 20),
    }
    for child in pupils[:3]:
        child.died_on = deaths[child.child_id]
    landing = tmp_path_factory.mktemp("deaths") / "landing"
    _, census_truth = write_school_census(
        population, YEAR, MONTHS, landing, np.random.default_rng(1)
    )
    _, gp_truth = write_gp_registrations(
        population, YEAR, MONTHS, landing, np.random.default_rng(2)
    )
    truth = {t.source_record_id: t for t in census_truth + gp_truth}
    return landing, population, deaths, truth


def test_a_child_who_died_leaves_the_spring_census(year_with_deaths) -> None:
    landing, _, deaths, truth = year_with_deaths
    root = landing.parent
    on_roll = {
        period: {
            truth[f"{period}/{p['pupilonrolltableid']}"].child_id
            for p in census_table(root, period, "pupilonroll")
        }
        for period in CENSUS_DAYS
    }
    leavers = {
        truth[f"{SPRING}/leaver-{p['pupilnolongeronrolltableid']}"].child_id: p
        for p in census_table(root, SPRING, "pupilnolongeronroll")
    }
    before, between, after = deaths
    assert before not in on_roll[AUTUMN] | on_roll[SPRING] | set(leavers)
    assert between in on_roll[AUTUMN] and between not in on_roll[SPRING]
    assert leavers[between]["leavingdate"] == "2024-Dec-05 00:00:00"
    assert after in on_roll[AUTUMN] and after in on_roll[SPRING] and after not in leavers


def test_a_death_ends_the_gp_registration_and_the_child_then_disappears(year_with_deaths) -> None:
    landing, _, deaths, truth = year_with_deaths
    root = landing.parent
    for child_id, died_on in deaths.items():
        died_month = died_on.strftime("%Y-%m")
        for month in MONTHS:
            rows = [
                r
                for r in gp_rows(root, month)
                if truth[f"{month}/{r['REGISTRATION_ID']}"].child_id == child_id
            ]
            if month < died_month:
                assert all(iso(r["REGISTRATION_END_DATE"]) != died_on for r in rows)
            elif month == died_month:
                open_or_died = [
                    r for r in rows if r["REGISTRATION_END_DATE"] in ("", died_on.isoformat())
                ]
                assert open_or_died and all(
                    r["REGISTRATION_END_DATE"] == died_on.isoformat() for r in open_or_died
                )
            else:
                assert rows == [], (child_id, month)


def test_writers_refuse_a_population_of_another_year(year_with_deaths, tmp_path) -> None:
    _, population, _, _ = year_with_deaths
    other = parse_collection_year("2023-24")
    for writer in SOURCE_WRITERS.values():
        with pytest.raises(ValueError, match="2024-25"):
            writer(population, other, other.months, tmp_path, np.random.default_rng(0))
    with pytest.raises(ValueError, match="2025-04"):
        write_gp_registrations(population, YEAR, ["2025-04"], tmp_path, np.random.default_rng(0))


# --- Reruns, seeds and streams -----------------------------------------------------------------


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first, second, other = tmp_path / "first", tmp_path / "second", tmp_path / "other"
    generate_authority(children=600, seed=11, out_dir=first, months=2)
    generate_authority(children=600, seed=11, out_dir=second, months=2)
    generate_authority(children=600, seed=12, out_dir=other, months=2)
    assert all_bytes(first) == all_bytes(second)
    different = all_bytes(other)
    assert different.keys() == all_bytes(first).keys()
    mine = ("landing/school_census/", "landing/gp/", "truth/")
    # Every file with rows differs (a small authority may have a table with none, e.g. no
    # leaver excluded in a term: its header is the same whatever the seed).
    assert all(
        different[name] != content
        for name, content in all_bytes(first).items()
        if name.startswith(mine) and content.count(b"\n") > 1
    )


def test_a_months_files_do_not_depend_on_which_other_months_are_written(tmp_path: Path) -> None:
    whole, last_two = tmp_path / "whole", tmp_path / "last_two"
    generate_authority(children=400, seed=4, out_dir=whole)
    summary = generate_authority(children=400, seed=4, out_dir=last_two, months=2)
    assert [p.parent.name for p in summary.files["gp"]] == ["2025-02", "2025-03"]
    for path in (last_two / "landing").rglob("*.csv"):
        assert path.read_bytes() == (whole / path.relative_to(last_two)).read_bytes(), path
    with pytest.raises(ValueError):
        generate_authority(children=400, seed=4, out_dir=tmp_path / "bad", months=13)


def test_adding_a_source_does_not_reshuffle_the_others(tmp_path: Path, monkeypatch) -> None:
    both, census_only = tmp_path / "both", tmp_path / "census_only"
    generate_authority(children=400, seed=9, out_dir=both, months=1)
    monkeypatch.setattr(
        authority_module,
        "SOURCE_WRITERS",
        {"school_census": SOURCE_WRITERS["school_census"]},
    )
    generate_authority(children=400, seed=9, out_dir=census_only, months=1)
    census = sorted((census_only / "landing" / "school_census").rglob("*.csv"))
    assert census
    for path in census:
        assert path.read_bytes() == (both / path.relative_to(census_only)).read_bytes()
    assert (census_only / "truth" / "children.csv").read_bytes() == (
        both / "truth" / "children.csv"
    ).read_bytes()


def test_rerun_into_the_same_folder_replaces_rather_than_adds(tmp_path: Path) -> None:
    generate_authority(children=700, seed=5, out_dir=tmp_path)
    summary = generate_authority(children=600, seed=5, out_dir=tmp_path, months=2)
    files = [
        *(tmp_path / "landing" / "school_census").rglob("*.csv"),
        *(tmp_path / "landing" / "gp").rglob("*.csv"),
        *(tmp_path / "truth").rglob("*.csv"),
    ]
    # Thirteen census tables in autumn and ten in spring, two GP months and the truth files.
    assert len(files) == 27
    assert sorted(p.name for p in (tmp_path / "landing" / "gp").iterdir()) == MONTHS[-2:]
    assert len(read(tmp_path / "truth" / "children.csv")) == 600
    assert len(read(tmp_path / "truth" / "records.csv")) == sum(summary.records.values())


def test_children_know_where_they_are_on_a_day() -> None:
    population = build_population(300, "2024-25", np.random.default_rng(5))
    assert population.year == YEAR
    assert (population.autumn_census_day, population.spring_census_day) == (
        AUTUMN_DAY,
        SPRING_DAY,
    )
    child = next(c for c in population.children if c.on_roll_on(AUTUMN_DAY))
    assert child.is_alive_on(AUTUMN_DAY) and child.in_authority_on(AUTUMN_DAY)
    assert not child.is_alive_on(child.date_of_birth - timedelta(days=1))
    child.died_on = date(2024, 11, 1)
    assert child.on_roll_on(AUTUMN_DAY) and not child.on_roll_on(SPRING_DAY)
    assert not child.in_authority_on(date(2024, 11, 1))
    moved = next(h for h in population.households if h.moved_on is not None)
    assert moved.address_on(moved.moved_on - timedelta(days=1)) == moved.previous_address
    assert moved.address_on(moved.moved_on) == moved.address


def test_error_functions() -> None:
    chance = random.Random(1)
    for name in ("Olivia", "Smith-Jones", "Li", "O'Brien"):
        for _ in range(20):
            slipped = typo(name, chance)
            assert slipped != name and slipped
    assert swap_day_month(date(2015, 3, 9)) == date(2015, 9, 3)
    assert swap_day_month(date(2015, 3, 13)) is None
    assert swap_day_month(date(2015, 4, 4)) is None
    for _ in range(20):
        changed = one_digit_off(date(2010, 10, 20), chance)
        assert changed is not None and changed != date(2010, 10, 20)
        assert sum(a != b for a, b in zip(changed.isoformat(), "2010-10-20", strict=True)) == 1
        assert not is_valid_nhs_number(corrupt_nhs_number("9434765919", chance))


def test_schemas_know_every_table_the_writers_produce(authority) -> None:
    root, _ = authority
    schema = load_schema("school_census")
    for path in (root / "landing" / "school_census").rglob("*.csv"):
        year = schema.for_period(path.parent.name)
        recognised = year.recognise(header(path), path.name)
        assert recognised.table is not None and recognised.problem is None, path
        assert recognised.table.named_in(path.name), path


def test_shipped_code_does_not_use_faker() -> None:
    package = Path(__file__).resolve().parents[1] / "linkage_ops"
    for source in package.rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+faker", source.read_text(), re.M), source

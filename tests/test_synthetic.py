"""The synthetic authority writes the promised files, identifiers and truth."""

from __future__ import annotations

import csv
import random
import re
from datetime import date
from pathlib import Path

import pytest

from linkage_ops.identifiers import (
    is_valid_nhs_number,
    is_valid_upn,
    normalise_nhs_number,
)
from linkage_ops.synthetic import GenerationSummary, generate_authority
from linkage_ops.synthetic.names import nicknames
from linkage_ops.synthetic.recording_errors import (
    corrupt_nhs_number,
    one_digit_off,
    swap_day_month,
    typo,
)
from linkage_ops.synthetic.school_year import (
    age_on,
    nc_year_label,
    nc_year_number,
    parse_census_period,
)

CENSUS = "2024-autumn"
GP = "2024-10"
CENSUS_DAY = date(2024, 10, 3)
BLADE_DATE = re.compile(r"\d{4}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} 00:00:00")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
NHS_LAYOUT = re.compile(r"\d{10}|\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4}")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def census_table(root: Path, table: str) -> list[dict[str, str]]:
    return read(root / "landing" / "school_census" / CENSUS / f"2024_autumn_{table}.csv")


def gp_rows(root: Path) -> list[dict[str, str]]:
    return read(root / "landing" / "gp" / GP / f"gp_registrations_{GP}.csv")


def all_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    root = tmp_path_factory.mktemp("authority")
    summary = generate_authority(
        children=1500, seed=7, out_dir=root, census_period=CENSUS, gp_period=GP
    )
    return root, summary


@pytest.fixture(scope="module")
def truth(authority) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    root, _ = authority
    children = {row["child_id"]: row for row in read(root / "truth" / "children.csv")}
    records = {row["source_record_id"]: row for row in read(root / "truth" / "records.csv")}
    return children, records


def test_files_are_written_where_the_readers_look(authority) -> None:
    root, summary = authority
    census_dir = root / "landing" / "school_census" / CENSUS
    assert sorted(p.name for p in census_dir.iterdir()) == [
        "2024_autumn_addresses.csv",
        "2024_autumn_fsmperiod.csv",
        "2024_autumn_pupilonroll.csv",
        "2024_autumn_schoolcensus.csv",
    ]
    assert summary.files["gp"] == [root / "landing" / "gp" / GP / "gp_registrations_2024-10.csv"]
    assert sorted(summary.files["school_census"]) == sorted(census_dir.iterdir())
    assert summary.truth_dir == root / "truth"
    assert summary.children == 1500 == len(read(root / "truth" / "children.csv"))
    assert summary.records["school_census"] == len(census_table(root, "pupilonroll"))
    assert summary.records["gp"] == len(gp_rows(root))
    assert 1500 / 4 <= summary.households < 1500


def test_headers_are_exactly_the_published_columns(authority) -> None:
    root, _ = authority
    gp_path = root / "landing" / "gp" / GP / f"gp_registrations_{GP}.csv"
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
    census_dir = root / "landing" / "school_census" / CENSUS
    assert header(census_dir / "2024_autumn_schoolcensus.csv") == [
        "schoolcensustableid",
        "NativeId",
        "schoolcensusorderseqcolumn",
        "sourceid",
        "term",
        "year",
        "referencedate",
        "estab",
        "lea",
    ]
    pupil_columns = header(census_dir / "2024_autumn_pupilonroll.csv")
    assert pupil_columns[:4] == [
        "pupilonrolltableid",
        "NativeId",
        "pupilonrollorderseqcolumn",
        "sourceid",
    ]
    assert pupil_columns[-1] == "schoolcensustableid"
    for name in ("upn", "formerupn", "uniquelearnernumber", "dob", "ncyearactual", "entrydate"):
        assert name in pupil_columns
    assert all(c == c.lower() for c in pupil_columns if c != "NativeId")
    assert header(census_dir / "2024_autumn_fsmperiod.csv")[-1] == "pupilonrolltableid"
    assert header(census_dir / "2024_autumn_addresses.csv")[-1] == "pupilonrolltableid"


def test_every_landing_record_has_exactly_one_truth_row(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    landing_ids = [f"{CENSUS}/{r['pupilonrolltableid']}" for r in census_table(root, "pupilonroll")]
    landing_ids += [f"{GP}/{r['REGISTRATION_ID']}" for r in gp_rows(root)]
    truth_rows = read(root / "truth" / "records.csv")
    assert len(landing_ids) == len(set(landing_ids)) == len(truth_rows) == len(records)
    assert set(landing_ids) == set(records)
    assert {r["source"] for r in truth_rows} == {"school_census", "gp"}
    assert all(r["child_id"] in children for r in truth_rows)
    assert all(r["source_record_id"].startswith(r["period"] + "/") for r in truth_rows)


def test_upns_are_valid_unless_recorded_with_a_wrong_check_letter(authority, truth) -> None:
    root, _ = authority
    _, records = truth
    pupils = census_table(root, "pupilonroll")
    wrong = missing = 0
    for pupil in pupils:
        errors = records[f"{CENSUS}/{pupil['pupilonrolltableid']}"]["errors"].split(";")
        if "upn_wrong_check_letter" in errors:
            assert not is_valid_upn(pupil["upn"])
            wrong += 1
        elif "missing_upn" in errors:
            assert pupil["upn"] == ""
            missing += 1
        else:
            assert is_valid_upn(pupil["upn"]), pupil
            assert pupil["upn"][1:4] == "884"
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
        if nc_year_number(date.fromisoformat(child["date_of_birth"]), CENSUS_DAY) < 0:
            assert child["upn"] == ""


def test_nhs_numbers_are_valid_synthetic_unless_flagged(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    flagged = 0
    for row in gp_rows(root):
        errors = records[f"{GP}/{row['REGISTRATION_ID']}"]["errors"].split(";")
        number = normalise_nhs_number(row["NHS_NUMBER"])
        if "missing_nhs_number" in errors:
            assert row["NHS_NUMBER"] == ""
            flagged += 1
        elif "nhs_number_invalid" in errors:
            assert not is_valid_nhs_number(number)
            flagged += 1
        else:
            assert NHS_LAYOUT.fullmatch(row["NHS_NUMBER"]), row
            assert is_valid_nhs_number(number)
            assert number.startswith("999")
            child = children[records[f"{GP}/{row['REGISTRATION_ID']}"]["child_id"]]
            assert number == child["nhs_number"]
    assert flagged < 0.05 * len(records)
    truth_numbers = [c["nhs_number"] for c in children.values()]
    assert len(set(truth_numbers)) == len(truth_numbers)
    assert all(is_valid_nhs_number(n) and n.startswith("999") for n in truth_numbers)


def test_nhs_numbers_come_in_all_three_layouts(authority) -> None:
    root, _ = authority
    numbers = [r["NHS_NUMBER"] for r in gp_rows(root) if r["NHS_NUMBER"]]
    spaced = sum(" " in n for n in numbers) / len(numbers)
    dashed = sum("-" in n for n in numbers) / len(numbers)
    assert 0.18 < spaced < 0.32
    assert 0.005 < dashed < 0.07


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


def test_ncyearactual_matches_the_true_date_of_birth(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    for pupil in census_table(root, "pupilonroll"):
        child = children[records[f"{CENSUS}/{pupil['pupilonrolltableid']}"]["child_id"]]
        year = nc_year_number(date.fromisoformat(child["date_of_birth"]), CENSUS_DAY)
        assert pupil["ncyearactual"] == nc_year_label(year)
        assert 0 <= year <= 13
    years = {p["ncyearactual"] for p in census_table(root, "pupilonroll")}
    assert {"R", "1", "6", "7", "11", "12", "13"} <= years


def test_national_curriculum_year_rules() -> None:
    # Age on the 31 August before the census decides the year; Reception is age four.
    assert nc_year_number(date(2020, 8, 31), CENSUS_DAY) == 0
    assert nc_year_number(date(2019, 9, 1), CENSUS_DAY) == 0
    assert nc_year_number(date(2020, 9, 1), CENSUS_DAY) == -1
    assert nc_year_number(date(2019, 8, 31), CENSUS_DAY) == 1
    assert nc_year_label(0) == "R"
    assert nc_year_number(date(2008, 9, 1), CENSUS_DAY) == 11
    assert nc_year_number(date(2007, 8, 31), CENSUS_DAY) == 13
    # The spring census belongs to the academic year that began the previous September.
    assert nc_year_number(date(2020, 8, 31), date(2025, 1, 16)) == 0


def test_census_days_are_computed_not_hard_coded() -> None:
    assert parse_census_period("2024-autumn").census_day == date(2024, 10, 3)
    assert parse_census_period("2023-autumn").census_day == date(2023, 10, 5)
    assert parse_census_period("2025-spring").census_day == date(2025, 1, 16)
    assert parse_census_period("2025-summer").census_day == date(2025, 5, 15)
    assert parse_census_period("2025-spring").term_code == "SPR"
    for bad in ("2024-winter", "autumn-2024", "2024"):
        with pytest.raises(ValueError):
            parse_census_period(bad)


def test_school_census_rows_point_at_real_schools_and_pupils(authority) -> None:
    root, _ = authority
    schools = census_table(root, "schoolcensus")
    pupils = census_table(root, "pupilonroll")
    school_ids = {s["schoolcensustableid"] for s in schools}
    estab_of = {s["schoolcensustableid"]: s["estab"] for s in schools}
    assert all(s["term"] == "AUT" and s["year"] == "2024" and s["lea"] == "884" for s in schools)
    assert all(s["referencedate"] == "2024-Oct-03 00:00:00" for s in schools)
    assert all(re.fullmatch(r"[247]\d{3}", s["estab"]) for s in schools)
    assert [int(p["pupilonrolltableid"]) for p in pupils] == list(range(1, len(pupils) + 1))
    assert all(p["pupilonrollorderseqcolumn"] == p["pupilonrolltableid"] for p in pupils)
    for pupil in pupils:
        assert pupil["sourceid"] == pupil["schoolcensustableid"] in school_ids
        estab = estab_of[pupil["schoolcensustableid"]]
        year = pupil["ncyearactual"]
        if estab.startswith("2"):
            assert year == "R" or int(year) <= 6
        elif estab.startswith("4"):
            assert year != "R" and int(year) >= 7
    addresses = census_table(root, "addresses")
    assert [a["pupilonrolltableid"] for a in addresses] == [p["pupilonrolltableid"] for p in pupils]
    pupil_ids = {p["pupilonrolltableid"] for p in pupils}
    fsm = census_table(root, "fsmperiod")
    assert {f["pupilonrolltableid"] for f in fsm} <= pupil_ids
    assert 0.1 < len({f["pupilonrolltableid"] for f in fsm}) / len(pupils) < 0.3
    assert any(f["fsmenddate"] == "" for f in fsm) and any(f["fsmenddate"] for f in fsm)


def test_school_census_formats(authority) -> None:
    root, _ = authority
    for pupil in census_table(root, "pupilonroll"):
        assert BLADE_DATE.fullmatch(pupil["dob"])
        assert BLADE_DATE.fullmatch(pupil["entrydate"])
        assert pupil["sex"] in {"M", "F"}
        assert pupil["senprovision"] in {"N", "K", "E"}
        assert pupil["enrolstatus"] in {"C", "M"}
        for flag in ("parttime", "youngcarer", "servicechild"):
            assert pupil[flag] in {"True", "False"}
        assert re.fullmatch(r"[A-Z]{4}", pupil["ethnicity"])
        assert pupil["uniquelearnernumber"] == "" or re.fullmatch(
            r"\d{10}", pupil["uniquelearnernumber"]
        )
    for address in census_table(root, "addresses"):
        assert re.fullmatch(r"HR[1-9] [1-9][ABD-HJLNP-UW-Z]{2}", address["postcode"])
        assert re.fullmatch(r"\d{12}", address["uniquepropertyreferencenumber"])
    for period in census_table(root, "fsmperiod"):
        assert BLADE_DATE.fullmatch(period["fsmstartdate"])
        assert period["fsmenddate"] == "" or BLADE_DATE.fullmatch(period["fsmenddate"])
        assert period["ukcountry"] == "ENG"


def test_gp_registration_formats_and_history(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    rows = gp_rows(root)
    assert [int(r["REGISTRATION_ID"]) for r in rows] == list(range(1, len(rows) + 1))
    current: dict[str, dict[str, str]] = {}
    ended: list[tuple[str, dict[str, str]]] = []
    for row in rows:
        for column in ("DATE_OF_BIRTH", "REGISTRATION_START_DATE"):
            assert ISO_DATE.fullmatch(row[column])
        assert row["SEX"] in {"1", "2", "9", "0"}
        assert re.fullmatch(r"[A-Z]\d{5}", row["PRACTICE_CODE"])
        child_id = records[f"{GP}/{row['REGISTRATION_ID']}"]["child_id"]
        if row["REGISTRATION_END_DATE"]:
            assert ISO_DATE.fullmatch(row["REGISTRATION_END_DATE"])
            assert row["REGISTRATION_START_DATE"] < row["REGISTRATION_END_DATE"] <= "2024-10-31"
            assert row["REGISTRATION_END_DATE"] >= "2022-10-31"
            ended.append((child_id, row))
        else:
            assert child_id not in current  # one current registration per child
            current[child_id] = row
    assert 0.94 < len(current) / len(children) < 0.995
    assert 0.015 < len(ended) / len(current) < 0.07
    for child_id, row in ended:
        assert row["PRACTICE_CODE"] != current[child_id]["PRACTICE_CODE"]
    # Health feeds carry no UPN anywhere.
    assert not any(is_valid_upn(v) for row in rows for v in row.values())


def test_recording_errors_are_what_truth_says(authority, truth) -> None:
    root, _ = authority
    children, records = truth
    known = nicknames()
    counts: dict[str, int] = {}
    for row in gp_rows(root):
        truth_row = records[f"{GP}/{row['REGISTRATION_ID']}"]
        child = children[truth_row["child_id"]]
        errors = set(filter(None, truth_row["errors"].split(";")))
        for error in errors:
            counts[error] = counts.get(error, 0) + 1
        if "forename_nickname" in errors:
            assert row["FORENAME"] in known[child["forename"]]
        elif "forename_typo" in errors:
            assert row["FORENAME"] != child["forename"]
        else:
            assert row["FORENAME"] == child["forename"]
        if not errors & {"surname_change", "surname_typo", "hyphenation_variant"}:
            assert row["SURNAME"] == child["surname"]
        if not errors & {"dob_day_month_swap", "dob_digit_off"}:
            assert row["DATE_OF_BIRTH"] == child["date_of_birth"]
        if "stale_postcode" in errors and "postcode_typo" not in errors:
            assert row["POSTCODE"] == child["previous_postcode"] != child["postcode"]
    assert counts.get("forename_nickname", 0) > 0.02 * len(records) / 2
    assert counts.get("stale_postcode", 0) > 0


def test_long_tail_of_names(truth) -> None:
    children, _ = truth
    surnames = {c["surname"] for c in children.values()}
    assert len(surnames) > 300
    assert len({c["forename"] for c in children.values()}) > 300
    assert 0.005 < sum("-" in c["surname"] for c in children.values()) / len(children) < 0.08


def test_population_shape(truth) -> None:
    children, _ = truth
    ages = [age_on(date.fromisoformat(c["date_of_birth"]), CENSUS_DAY) for c in children.values()]
    assert min(ages) == 0 and max(ages) == 17
    households: dict[str, list[dict[str, str]]] = {}
    for child in children.values():
        households.setdefault(child["household_id"], []).append(child)
    assert max(len(h) for h in households.values()) <= 4
    for members in households.values():
        assert len({m["postcode"] for m in members}) == 1
    moved = [h for h in households.values() if h[0]["moved_on"]]
    assert 0.03 < len(moved) / len(households) < 0.15
    assert all(h[0]["previous_postcode"] for h in moved)
    assert all("2023-04-01" <= h[0]["moved_on"] < "2024-10-03" for h in moved)


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first, second, other = tmp_path / "first", tmp_path / "second", tmp_path / "other"
    generate_authority(children=600, seed=11, out_dir=first)
    generate_authority(children=600, seed=11, out_dir=second)
    generate_authority(children=600, seed=12, out_dir=other)
    assert all_bytes(first) == all_bytes(second)
    different = all_bytes(other)
    assert different.keys() == all_bytes(first).keys()
    assert all(different[name] != content for name, content in all_bytes(first).items())


def test_rerun_into_the_same_folder_replaces_rather_than_adds(tmp_path: Path) -> None:
    generate_authority(children=700, seed=5, out_dir=tmp_path)
    summary = generate_authority(children=600, seed=5, out_dir=tmp_path)
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv"))
    assert len(files) == 7
    assert len(read(tmp_path / "truth" / "children.csv")) == 600
    assert len(census_table(tmp_path, "pupilonroll")) == summary.records["school_census"]
    assert len(gp_rows(tmp_path)) == summary.records["gp"]
    assert len(read(tmp_path / "truth" / "records.csv")) == sum(summary.records.values())


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


def test_shipped_code_does_not_use_faker() -> None:
    package = Path(__file__).resolve().parents[1] / "linkage_ops"
    for source in package.rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+faker", source.read_text(), re.M), source

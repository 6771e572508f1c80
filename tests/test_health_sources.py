"""The health feeds: one consistent health year, written as each feed's monthly files.

Checks the files against their loader schemas, the ground truth against the files, the
consistency of deaths and births across feeds, stable patient ids, persistent recording
errors, and that the same seed gives the same bytes.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.identifiers import is_valid_nhs_number
from linkage_ops.ingest import load_period, load_schema
from linkage_ops.synthetic.admitted_care import write_admitted_care
from linkage_ops.synthetic.births import write_births
from linkage_ops.synthetic.camhs import write_camhs
from linkage_ops.synthetic.child_health import write_child_health
from linkage_ops.synthetic.community_services import write_community_services
from linkage_ops.synthetic.cyps import write_cyps
from linkage_ops.synthetic.deaths import write_deaths
from linkage_ops.synthetic.emergency_care import write_emergency_care
from linkage_ops.synthetic.health import HealthYear, build_health_year
from linkage_ops.synthetic.population import Child, Population, build_population
from linkage_ops.synthetic.truth import TruthRecord

YEAR = "2024-25"
CHILDREN = 1_200
WRITERS: dict[str, Callable] = {
    "births": write_births,
    "deaths": write_deaths,
    "emergency_care": write_emergency_care,
    "admitted_care": write_admitted_care,
    "child_health": write_child_health,
    "cyps": write_cyps,
    "camhs": write_camhs,
    "community_services": write_community_services,
}
# The person table of each feed: (file name stem, record id column, NHS number column).
PERSON_TABLES = {
    "births": ("births", "BIRTH_ID", "NHS_NUMBER"),
    "deaths": ("deaths", "DEATH_ID", "NHS_NUMBER"),
    "emergency_care": ("ecds", "ATTENDANCE_ID", "NHS_NUMBER"),
    "admitted_care": ("sus_apc", "EPIKEY", "NEWNHSNO"),
    "child_health": ("chis", "EVENT_ID", "NHS_NUMBER"),
    "cyps": ("cyps_referrals", "REFERRAL_ID", "NHS_NUMBER"),
    "camhs": ("MHS001MPI", "LocalPatientId", "NHSNumber"),
    "community_services": ("CYP001MPI", "LocalPatientId", "NHSNumber"),
}
NHS_LAYOUT = re.compile(r"^(\d{10}|\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4})?$")
NHS_NUMBER_ERRORS = {"missing_nhs_number", "nhs_number_invalid", "nhs_number_pseudonymised"}
# Children the tests make die, and when.
DEATHS = {5: date(2024, 8, 15), 50: date(2024, 11, 2), 500: date(2025, 1, 20)}


def _year(seed: int) -> tuple[Population, HealthYear]:
    population = build_population(CHILDREN, YEAR, np.random.default_rng(seed))
    for index, died_on in DEATHS.items():
        population.children[index].died_on = died_on
    return population, build_health_year(population, np.random.default_rng(seed + 1))


def _write_all(health: HealthYear, landing: Path, seed: int) -> dict[str, tuple[list, list]]:
    streams = np.random.SeedSequence(seed).spawn(len(WRITERS))
    return {
        source: writer(health, health.year.months, landing, np.random.default_rng(stream))
        for (source, writer), stream in zip(WRITERS.items(), streams, strict=True)
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Population, HealthYear, Path, dict]:
    landing = tmp_path_factory.mktemp("health") / "landing"
    population, health = _year(11)
    return population, health, landing, _write_all(health, landing, 12)


@pytest.fixture(scope="module")
def person_rows(written) -> dict[str, dict[str, tuple[dict[str, str], TruthRecord]]]:
    """source -> source_record_id -> (landing row, its truth row)."""
    _, health, landing, outputs = written
    found: dict[str, dict[str, tuple[dict[str, str], TruthRecord]]] = {}
    for source, (_, truth) in outputs.items():
        stem, id_column, _ = PERSON_TABLES[source]
        by_id = {record.source_record_id: record for record in truth}
        assert len(by_id) == len(truth), f"{source}: duplicate source_record_id"
        rows = {}
        for period in health.year.months:
            for row in _rows(landing / source / period / f"{stem}_{period}.csv"):
                record_id = f"{period}/{row[id_column]}"
                assert record_id in by_id, f"{source}: {record_id} has no truth row"
                rows[record_id] = (row, by_id[record_id])
        assert len(rows) == len(truth), f"{source}: truth rows without a landing row"
        found[source] = rows
    return found


def test_every_file_loads_with_no_rejected_rows(written) -> None:
    _, health, landing, _ = written
    con = duckdb.connect()
    for source in WRITERS:
        for period in health.year.months:
            load = load_period(con, landing, source, period, run_id="test")
            loads, findings = load.tables, load.findings
            rejected = [f for f in findings if f.action == "rejected"]
            assert not rejected, f"{source} {period}: {rejected[:3]}"
            assert sum(load.rows_loaded for load in loads) == sum(load.rows_read for load in loads)
    volumes = {
        source: con.execute(f"select count(*) from raw.{source}__{table}").fetchone()[0]
        for source, table in (
            ("emergency_care", "attendances"),
            ("camhs", "referrals"),
            ("community_services", "care_contacts"),
            ("births", "births"),
        )
    }
    assert all(count > 0 for count in volumes.values()), volumes
    con.close()


def test_each_month_writes_its_own_folder_and_only_the_months_asked(written, tmp_path) -> None:
    _, health, _, outputs = written
    for source, (paths, _) in outputs.items():
        assert sorted({p.parent.name for p in paths}) == sorted(health.year.months), source
        tables = load_schema(source).tables
        assert len(paths) == 12 * len(tables)
        for path in paths:
            assert path.parent.parent.name == source
            assert sum(t.named_in(path.name) for t in tables.values()) == 1
    paths, _ = write_emergency_care(health, ["2024-06"], tmp_path, np.random.default_rng(1))
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "emergency_care/2024-06/ecds_2024-06.csv"
    ]
    with pytest.raises(ValueError, match="collection year"):
        write_emergency_care(health, ["2025-04"], tmp_path, np.random.default_rng(1))


def test_truth_rows_match_the_landing_records(written, person_rows) -> None:
    population, _, _, _ = written
    children = {c.child_id: c for c in population.children}
    for source, rows in person_rows.items():
        _, _, nhs_column = PERSON_TABLES[source]
        assert rows, f"{source} wrote no person records"
        for record_id, (row, record) in rows.items():
            assert record.source == source and record_id.startswith(record.period + "/")
            child = children[record.child_id]
            errors = set(filter(None, record.errors.split(";")))
            number = re.sub(r"[ -]", "", row[nhs_column])
            assert NHS_LAYOUT.match(row[nhs_column]), row[nhs_column]
            assert "UPN" not in {name.upper() for name in row}
            if errors & {"missing_nhs_number", "nhs_number_pseudonymised"}:
                assert number == ""
            elif "nhs_number_invalid" in errors:
                assert not is_valid_nhs_number(number)
            else:
                assert number == child.nhs_number and is_valid_nhs_number(number)
            if "FORENAME" in row and not errors & {
                "forename_typo",
                "forename_nickname",
                "names_swapped",
            }:
                assert row["FORENAME"] == child.forename


def test_dead_children_are_in_deaths_that_month_and_nowhere_after(written, person_rows) -> None:
    population, _, _, _ = written
    died = {c.child_id: c.died_on for c in population.children if c.died_on is not None}
    assert set(DEATHS) <= {c.index for c in population.children if c.died_on is not None}
    in_deaths = {
        record.child_id: (record.period, row) for row, record in person_rows["deaths"].values()
    }
    assert set(in_deaths) == set(died)
    for child_id, (period, row) in in_deaths.items():
        assert period == died[child_id].strftime("%Y-%m")
        assert row["DATE_OF_DEATH"] == died[child_id].isoformat()
    for source, rows in person_rows.items():
        if source == "deaths":
            continue
        for _, record in rows.values():
            if record.child_id in died:
                assert record.period <= died[record.child_id].strftime("%Y-%m"), source
    # Event dates before the day of death, in the month of death too.
    for row, record in person_rows["emergency_care"].values():
        if record.child_id in died:
            assert date.fromisoformat(row["ARRIVAL_DATE"]) < died[record.child_id]


def test_babies_are_in_births_in_their_birth_month_and_elsewhere_only_later(
    written, person_rows
) -> None:
    population, health, _, _ = written
    first, last = health.year.first_day, health.year.last_day
    babies = {
        c.child_id: c.date_of_birth.strftime("%Y-%m")
        for c in population.children
        if first <= c.date_of_birth <= last and c.household.lives_here_on(c.date_of_birth)
    }
    assert babies
    births = {record.child_id: record.period for _, record in person_rows["births"].values()}
    assert births == babies
    for source, rows in person_rows.items():
        if source == "births":
            continue
        for _, record in rows.values():
            if record.child_id in babies:
                assert record.period > babies[record.child_id], source
    new_entries = {
        record.child_id
        for row, record in person_rows["child_health"].values()
        if row["EVENT_CODE"] == "BIRTH"
    }
    assert new_entries and new_entries <= set(babies)


def test_local_patient_ids_are_stable_per_provider_across_months(person_rows) -> None:
    for source in ("camhs", "community_services"):
        ids_by_child: dict[tuple[str, str], set[str]] = defaultdict(set)
        children_by_id: dict[str, set[str]] = defaultdict(set)
        periods_by_id: dict[str, set[str]] = defaultdict(set)
        for row, record in person_rows[source].values():
            ids_by_child[(row["OrgIDProv"], record.child_id)].add(row["LocalPatientId"])
            children_by_id[row["LocalPatientId"]].add(record.child_id)
            periods_by_id[row["LocalPatientId"]].add(record.period)
            assert row["LocalPatientId"].startswith(row["OrgIDProv"])
        assert all(len(ids) == 1 for ids in ids_by_child.values()), source
        assert all(len(children) == 1 for children in children_by_id.values()), source
        # Open referrals and repeat contacts bring the same patient back month after month.
        assert any(len(periods) > 1 for periods in periods_by_id.values()), source


def test_referrals_and_contacts_point_at_a_patient_of_the_same_month(written) -> None:
    _, health, landing, _ = written
    for source, mpi, events in (
        ("camhs", "MHS001MPI", "MHS101Referral"),
        ("community_services", "CYP001MPI", "CYP201CareContact"),
    ):
        for period in health.year.months:
            patients = {
                r["LocalPatientId"]
                for r in _rows(landing / source / period / f"{mpi}_{period}.csv")
            }
            pointed = {
                r["LocalPatientId"]
                for r in _rows(landing / source / period / f"{events}_{period}.csv")
            }
            assert pointed == patients, (source, period)


def test_recording_errors_persist_across_months(person_rows) -> None:
    """A provider's record of a child carries the same slips every month (a stale postcode
    starts only once the family has moved)."""
    fields = {
        "cyps": ("NHS_NUMBER", "FORENAME", "SURNAME", "DATE_OF_BIRTH", "SEX"),
        "child_health": ("NHS_NUMBER", "FORENAME", "SURNAME", "DATE_OF_BIRTH", "SEX"),
        "camhs": ("NHSNumber", "PersonBirthDate", "Gender"),
        "community_services": ("NHSNumber", "PersonBirthDate", "Gender", "NHSNumberStatus"),
        "emergency_care": ("NHS_NUMBER", "PERSON_BIRTH_DATE", "PERSON_STATED_GENDER_CODE"),
        "admitted_care": ("NEWNHSNO", "DOB", "SEX"),
    }
    repeated = 0
    for source, columns in fields.items():
        seen: dict[tuple[str, str], tuple] = {}
        for row, record in person_rows[source].values():
            errors = frozenset(record.errors.split(";")) - {"stale_postcode", ""}
            key = (row.get("OrgIDProv", ""), record.child_id)
            value = (errors, tuple(row[c] for c in columns))
            if key in seen:
                repeated += 1
                assert seen[key] == value, (source, key)
            seen[key] = value
    assert repeated > 100


def test_camhs_demand_is_higher_for_sen_children_and_teenagers(written) -> None:
    population, health, _, _ = written
    referred = {r.child.child_id for r in health.camhs_referrals}
    assert 0.02 < len(referred) / len(population.children) < 0.10

    def rate(group: list[Child]) -> float:
        return sum(c.child_id in referred for c in group) / max(1, len(group))

    with_sen = [c for c in population.children if c.sen_provision in ("K", "E")]
    without = [c for c in population.children if c.sen_provision == "N"]
    assert rate(with_sen) > rate(without)
    teenagers = [c for c in population.children if c.date_of_birth <= date(2011, 4, 1)]
    young = [c for c in population.children if c.date_of_birth > date(2017, 4, 1)]
    assert rate(teenagers) > rate(young)
    for referral in health.camhs_referrals:
        if referral.first_contact is not None:
            assert 3 <= (referral.first_contact - referral.received).days <= 720


def test_formats_of_dates_codes_and_postcodes(person_rows) -> None:
    iso_date = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    uk_date = re.compile(r"^\d{2}/\d{2}/\d{4}$")
    postcode = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$")
    for row, _ in person_rows["emergency_care"].values():
        assert iso_date.match(row["ARRIVAL_DATE"]) and re.match(
            r"^\d\d:\d\d:\d\d$", row["ARRIVAL_TIME"]
        )
        assert row["ETHNIC_CATEGORY"] in "ABCDEFGHJKLMNPRSZ"
        assert postcode.match(row["POSTCODE"])
    for row, _ in person_rows["child_health"].values():
        assert uk_date.match(row["DATE_OF_BIRTH"]) and uk_date.match(row["EVENT_DATE"])
    for row, _ in person_rows["admitted_care"].values():
        assert re.match(r"^[A-Z]\d{2}[0-9X]$", row["DIAG_4_01"])
        assert row["DISDATE"] == "" or row["DISDATE"] >= row["ADMIDATE"]
    pseudonymised = sum(
        "nhs_number_pseudonymised" in record.errors
        for _, record in person_rows["admitted_care"].values()
    )
    assert 0.05 < pseudonymised / len(person_rows["admitted_care"]) < 0.4
    for row, _ in person_rows["births"].values():
        assert 500 <= int(row["BIRTH_WEIGHT"]) <= 5500 and 24 <= int(row["GESTATION_WEEKS"]) <= 42
        assert is_valid_nhs_number(row["MOTHER_NHS_NUMBER"])


def test_same_seed_gives_byte_identical_files_and_reruns_replace_them(written, tmp_path) -> None:
    _, _, _, outputs = written
    _, health = _year(11)
    stray = tmp_path / "landing" / "camhs" / "2024-05" / "MHS001MPI_old.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("stale\n")
    again = _write_all(health, tmp_path / "landing", 12)
    assert not stray.exists()
    for source, (paths, truth) in outputs.items():
        other_paths, other_truth = again[source]
        assert truth == other_truth
        for path, other in zip(paths, other_paths, strict=True):
            assert path.read_bytes() == other.read_bytes(), path.name


def _write_ecds(landing: Path, period: str, rows: list[dict[str, str]], drop: str = "") -> Path:
    columns = [c for c in load_schema("emergency_care").tables["attendances"].column_names]
    columns = [c for c in columns if c != drop]
    folder = landing / "emergency_care" / period
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ecds_{period}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


GOOD_ATTENDANCE = {
    "ATTENDANCE_ID": "1",
    "ORG_ID_PROV": "RLQ",
    "NHS_NUMBER": "943 476 5919",
    "PERSON_BIRTH_DATE": "2015-03-02",
    "PERSON_STATED_GENDER_CODE": "2",
    "ETHNIC_CATEGORY": "A",
    "POSTCODE": "HR1 2AB",
    "ARRIVAL_DATE": "2024-10-03",
    "ARRIVAL_TIME": "14:05:00",
    "CHIEF_COMPLAINT": "386661006",
    "DIAGNOSIS": "54150009",
    "SAFEGUARDING_CONCERN": "N",
}


def test_bad_rows_are_quarantined_or_flagged_and_a_missing_column_fails(tmp_path) -> None:
    landing = tmp_path / "landing"
    bad_date = GOOD_ATTENDANCE | {"ATTENDANCE_ID": "2", "ARRIVAL_DATE": "2024-02-30"}
    bad_code = GOOD_ATTENDANCE | {"ATTENDANCE_ID": "3", "PERSON_STATED_GENDER_CODE": "Q"}
    bad_nhs = GOOD_ATTENDANCE | {"ATTENDANCE_ID": "4", "NHS_NUMBER": "9434765918"}
    path = _write_ecds(landing, "2024-10", [GOOD_ATTENDANCE, bad_date, bad_code, bad_nhs])
    con = duckdb.connect()
    load = load_period(con, landing, "emergency_care", "2024-10", run_id="r")
    loads, findings = load.tables, load.findings
    assert [(load.rows_read, load.rows_loaded, load.rows_rejected) for load in loads] == [(4, 2, 2)]
    assert sorted((f.row_number, f.field, f.action) for f in findings) == [
        (3, "ARRIVAL_DATE", "rejected"),
        (4, "PERSON_STATED_GENDER_CODE", "rejected"),
        (5, "NHS_NUMBER", "flagged"),
    ]
    loaded = con.execute(
        "select ATTENDANCE_ID from raw.emergency_care__attendances order by 1"
    ).fetchall()
    assert loaded == [("1",), ("4",)]
    assert {f.source_file for f in findings} == {path.name}

    broken = _write_ecds(landing, "2024-11", [GOOD_ATTENDANCE], drop="ARRIVAL_DATE")
    (failed,) = load_period(con, landing, "emergency_care", "2024-11", run_id="r").failed
    assert failed.source_file == broken.name
    assert "missing required columns for table attendances" in failed.problem
    assert "ARRIVAL_DATE" in failed.problem
    con.close()

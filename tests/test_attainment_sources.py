"""The attainment results the authority collects from its schools: the Early Years Foundation
Stage Profile (``eyfsp``) and the phonics screening check (``phonics``).

The files under tests/fixtures/attainment/ were written by hand from the published layouts
(DfE's data items as the National Pupil Database names them, and an information system's
export with its own names and columns), not by our generator: each supplier's layout loads;
a bad row is quarantined with its file, row, field and reason while the rest load; nothing is
lost. Then the generator's files load with nothing quarantined, and their results follow the
children's circumstances as England's do. The staging definitions (good level of development,
the phonics standard) are dbt unit tests in the staging yml, run here too.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.census_calendar import source_period_end
from linkage_ops.ingest import load_period, load_schema, reconcile_period
from linkage_ops.ingest.raw_store import ensure_raw_tables
from linkage_ops.quality import period_parameters, raw_suite, validate
from linkage_ops.synthetic import eyfsp, phonics
from linkage_ops.synthetic.population import build_population
from linkage_ops.synthetic.pupil_attainment import end_of_key_stage_cohort
from linkage_ops.synthetic.school_year import CollectionYear

FIXTURES = Path(__file__).parent / "fixtures" / "attainment"
PERIOD = "2024-25"
TABLES = {"eyfsp": "profiles", "phonics": "checks"}
GOOD_LEVEL_GOALS = [column for column in eyfsp.EXPECTED_SHARES if column[:3] in {
    "COM", "PSE", "PHY", "LIT", "MAT"
}]  # fmt: skip


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def raw_rows(con: duckdb.DuckDBPyConnection, source: str) -> list[dict]:
    cursor = con.execute(f"select * from raw.{source}__{TABLES[source]} order by _row_number")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_log(con: duckdb.DuckDBPyConnection) -> dict:
    (row,) = con.execute(
        "select aliases_applied, columns_absent, columns_extra from raw.load_log"
    ).fetchall()
    return dict(zip(("aliases", "absent", "extra"), row, strict=True))


# --- the suppliers' layouts ---------------------------------------------------------------------


def test_the_eyfsp_file_in_dfes_names_loads_every_child(con) -> None:
    load = load_period(con, FIXTURES / "dfe_layout", "eyfsp", PERIOD, run_id="t")
    assert [(t.rows_read, t.rows_loaded, t.rows_rejected) for t in load.tables] == [(5, 5, 0)]
    assert load.findings == []  # a child with no UPN is loaded: linkage uses names and DOB
    rows = raw_rows(con, "eyfsp")
    assert [r["SURNAME"] for r in rows] == ["Marsh", "Okafor", "Wójcik", "Price", "Bevan"]
    assert rows[1]["LIT_E10"] == "1" and rows[3]["COM_E01"] == "A"
    # What the schema does not model is kept, not refused.
    assert json.loads(rows[0]["_extra_columns"]) == {"NCYEARACTUAL": "R"}
    logged = load_log(con)
    assert json.loads(logged["extra"]) == ["NCYEARACTUAL"]
    assert set(json.loads(logged["absent"])) == {"POSTCODE", "LAESTAB", "URN"}


def test_the_eyfsp_export_in_a_suppliers_names_loads_every_child(con) -> None:
    load = load_period(con, FIXTURES / "mis_layout", "eyfsp", PERIOD, run_id="t")
    assert [(t.rows_read, t.rows_loaded, t.rows_rejected) for t in load.tables] == [(4, 4, 0)]
    # The one finding: a UPN with the wrong check letter, loaded and flagged.
    assert [(f.row_number, f.field, f.action) for f in load.findings] == [(3, "UPN", "flagged")]
    rows = raw_rows(con, "eyfsp")
    assert rows[0]["SURNAME"] == "Hughes" and rows[0]["LAESTAB"] == "8843007"
    assert rows[0]["SEX"] == "M"  # from its Gender column
    assert [r["LIT_E10"] for r in rows] == ["2", "1", "2", "2"]  # from its Writing column
    assert json.loads(rows[3]["_extra_columns"]) == {"Reg Group": "RK"}
    aliases = json.loads(load_log(con)["aliases"])
    assert aliases["Legal Surname"] == "SURNAME"
    assert aliases["Listening, Attention and Understanding"] == "COM_E01"
    assert aliases["Being Imaginative and Expressive"] == "EXP_E17"


def test_the_phonics_file_in_dfes_names_loads_every_pupil(con) -> None:
    load = load_period(con, FIXTURES / "dfe_layout", "phonics", PERIOD, run_id="t")
    assert [(t.rows_read, t.rows_loaded, t.rows_rejected) for t in load.tables] == [(6, 6, 0)]
    assert load.findings == []
    rows = raw_rows(con, "phonics")
    assert [(r["PHONICS_MARK"], r["PHONICS_OUTCOME"]) for r in rows] == [
        ("32", "Wa"),
        ("31", "Wt"),
        ("40", "Wa"),
        (None, "A"),
        (None, "D"),
        ("35", "Wa"),
    ]
    assert rows[5]["NCYEARACTUAL"] == "2"  # a Year 2 recheck


def test_the_phonics_export_in_a_suppliers_names_loads_every_pupil(con) -> None:
    load = load_period(con, FIXTURES / "mis_layout", "phonics", PERIOD, run_id="t")
    assert [(t.rows_read, t.rows_loaded, t.rows_rejected) for t in load.tables] == [(4, 4, 0)]
    # A mark without an outcome (sent before the threshold was published) is fine; no mark and
    # no outcome is loaded and flagged.
    assert [(f.row_number, f.field, f.action, f.reason) for f in load.findings] == [
        (5, "PHONICS_OUTCOME", "flagged", "no mark and no outcome code saying why (A, D, Q or L)")
    ]
    rows = raw_rows(con, "phonics")
    assert [r["PHONICS_MARK"] for r in rows] == ["38", "0", "33", None]
    assert rows[0]["FORENAMES"] == "Mason" and rows[0]["LAESTAB"] == "8843007"
    assert json.loads(rows[0]["_extra_columns"]) == {
        "Reg Group": "1B",
        "Class Teacher": "Mrs Ellis",
    }
    assert json.loads(load_log(con)["aliases"])["Phonics Mark"] == "PHONICS_MARK"


@pytest.mark.parametrize(
    ("source", "results_day"), [("eyfsp", date(2025, 6, 27)), ("phonics", date(2025, 6, 23))]
)
def test_each_row_carries_the_results_day_of_its_period(
    con, source: str, results_day: date
) -> None:
    # dbt reads the day from the rows (_period_end) rather than repeating the schema's rule.
    load_period(con, FIXTURES / "dfe_layout", source, PERIOD, run_id="t")
    days = con.execute(
        f"select distinct _period_end from raw.{source}__{TABLES[source]}"
    ).fetchall()
    assert days == [(results_day,)]
    assert source_period_end(source, PERIOD) == results_day


# --- bad rows -------------------------------------------------------------------------------------

BAD_ROWS = {
    "eyfsp": {
        ("EYFSP_884_2025.csv", 3, "LIT_E10", "3", "not in the eyfsp_outcome list (1, 2, A)"),
        ("EYFSP_884_2025.csv", 4, "SURNAME", None, "mandatory field is blank"),
        ("EYFSP_884_2025.csv", 4, "FORENAME", None, "mandatory field is blank"),
    },
    "phonics": {
        ("PSC_884_2025.csv", 3, "PHONICS_MARK", "41", "does not match ^(?:[0-9]|[1-3][0-9]|40)$"),
        ("PSC_884_2025.csv", 4, "SURNAME", None, "mandatory field is blank"),
        ("PSC_884_2025.csv", 4, "FORENAMES", None, "mandatory field is blank"),
        (
            "PSC_884_2025.csv",
            5,
            "PHONICS_OUTCOME",
            "X",
            "not in the phonics_outcome list (A, D, L, Q, Wa, Wt)",
        ),
    },
}


@pytest.mark.parametrize("source", ["eyfsp", "phonics"])
def test_a_bad_row_is_quarantined_with_file_row_field_and_reason(con, source: str) -> None:
    # An impossible mark (41 of 40), an unknown goal code (3, the old 'exceeding'), an unknown
    # outcome, a row with no UPN and no names: each is quarantined, the other rows load.
    load = load_period(con, FIXTURES / "bad_rows", source, PERIOD, run_id="t")
    quarantined = con.execute(
        "select source_file, row_number, field, value, reason from raw.quarantine "
        "where action = 'rejected'"
    ).fetchall()
    assert set(quarantined) == BAD_ROWS[source]
    (table,) = load.tables
    rejected_rows = {row for _, row, *_ in BAD_ROWS[source]}
    assert table.rows_rejected == len(rejected_rows)
    # Rows in = rows loaded + rows quarantined, and the raw table holds exactly those loaded.
    assert table.rows_read == table.rows_loaded + table.rows_rejected == 4 + (source == "phonics")
    assert all(r.balanced for r in reconcile_period(con, load_schema(source), PERIOD))
    assert {r["_row_number"] for r in raw_rows(con, source)}.isdisjoint(rejected_rows)


# --- the generator ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population():
    year = CollectionYear(2024)
    return year, build_population(12000, year, np.random.default_rng(20250627))


WRITERS = {"eyfsp": eyfsp.write_eyfsp, "phonics": phonics.write_phonics}


@pytest.mark.parametrize("source", ["eyfsp", "phonics"])
@pytest.mark.parametrize("layout", ["dfe", "mis"])
def test_the_generated_files_load_with_nothing_quarantined(
    population, tmp_path: Path, monkeypatch, con, source: str, layout: str
) -> None:
    year, people = population
    module = eyfsp if source == "eyfsp" else phonics
    monkeypatch.setattr(module, "LAYOUTS", tuple(x for x in module.LAYOUTS if x.name == layout))
    (path,), truth = WRITERS[source](people, year, [], tmp_path, np.random.default_rng(7))
    assert path.parent == tmp_path / source / PERIOD
    load = load_period(con, tmp_path, source, PERIOD, run_id="t")
    (table,) = load.tables
    assert (table.rows_read, table.rows_loaded, table.rows_rejected) == (len(truth), len(truth), 0)
    assert load.unmodelled == [] and load.failed == []
    # The only findings are the recording errors made on purpose: UPNs with a wrong check letter.
    wrong_letters = sum("upn_wrong_check_letter" in t.errors for t in truth)
    assert {f.reason for f in load.findings} <= {"UPN fails its pattern or check letter"}
    assert len(load.findings) == wrong_letters
    # Truth ids are the staging models' ids: <period>/<row number>.
    assert [t.source_record_id for t in truth][:2] == [f"{PERIOD}/2", f"{PERIOD}/3"]
    # The raw quality suite derived from the schema passes (dates within range and so on).
    frame = con.execute(f"select * from raw.{source}__{TABLES[source]}").df()
    suite = raw_suite(source, load_schema(source).for_period(PERIOD).tables[TABLES[source]])
    result = validate(frame, suite, parameters=period_parameters(source_period_end(source, PERIOD)))
    assert result.findings == [], result.describe()


def written_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_generated_results_follow_the_childs_circumstances(
    population, tmp_path: Path, monkeypatch
) -> None:
    year, people = population
    for module in (eyfsp, phonics):
        monkeypatch.setattr(module, "LAYOUTS", tuple(x for x in module.LAYOUTS if x.name == "dfe"))
    children = {child.child_id: child for child in people.children}

    def by_group(writer, measure):
        (path,), truth = writer(people, year, [], tmp_path, np.random.default_rng(11))
        results = {"all": [], "sen": [], "no_sen": [], "fsm": [], "no_fsm": []}
        for row, record in zip(written_rows(path), truth, strict=True):
            child = children[record.child_id]
            met = measure(row)
            results["all"].append(met)
            results["sen" if child.sen_provision != "N" else "no_sen"].append(met)
            results["fsm" if child.fsm_periods else "no_fsm"].append(met)
        return {group: float(np.mean(values)) for group, values in results.items()}

    good_level = by_group(
        eyfsp.write_eyfsp, lambda row: all(row[g] == "2" for g in GOOD_LEVEL_GOALS)
    )
    # England: 67.7% at a good level of development (2023-24); far fewer with SEN or FSM.
    assert 0.60 <= good_level["all"] <= 0.76
    assert good_level["sen"] < good_level["no_sen"] - 0.2
    assert good_level["fsm"] < good_level["no_fsm"] - 0.05
    threshold = phonics.threshold_mark(PERIOD)
    met = by_group(
        phonics.write_phonics,
        lambda row: row["PHONICS_MARK"] != "" and int(row["PHONICS_MARK"]) >= threshold,
    )
    # England: 80% of Year 1 pupils met the expected standard in 2024.
    assert 0.74 <= met["all"] <= 0.86
    assert met["sen"] < met["no_sen"] - 0.15
    assert met["fsm"] < met["no_fsm"] - 0.05


def test_the_cohorts_are_reception_and_year_1(population) -> None:
    year, people = population
    for nc_year, source in ((eyfsp.NC_YEAR, "eyfsp"), (phonics.NC_YEAR, "phonics")):
        cohort = end_of_key_stage_cohort(people, year, nc_year, np.random.default_rng(1))
        assert cohort and {p.child.nc_year for p in cohort} == {nc_year}, source
    assert (eyfsp.NC_YEAR, phonics.NC_YEAR) == (0, 1)


def test_the_phonics_threshold_is_the_seeds_and_falls_back_to_the_last_published() -> None:
    assert phonics.threshold_mark("2024-25") == 32
    # Before DfE publishes a year's threshold the generator uses the latest it has.
    assert phonics.threshold_mark("2030-31") == phonics.threshold_mark("2024-25")
    assert phonics.mark_at(0.999, 32) == 40
    assert phonics.mark_at(1 - phonics.MET_SHARE_OF_MARKED, 32) == 32
    assert phonics.mark_at(1 - phonics.MET_SHARE_OF_MARKED - 1e-6, 32) == 31
    assert phonics.mark_at(0.0, 32) == 0


# --- staging: the definitions, as dbt unit tests ---------------------------------------------


@pytest.mark.integration
def test_staging_unit_tests_pass(tmp_path: Path, run_dbt) -> None:
    # good_level_of_development and met_phonics_standard on boundary rows are defined by the
    # unit tests in stg_eyfsp__profiles.yml and stg_phonics__checks.yml; dbt needs the raw
    # tables and seeds they read to exist.
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        for source in TABLES:
            ensure_raw_tables(connection, load_schema(source))
    run_dbt(database, "seed", "--select", "conformed_sex_codes phonics_threshold_marks")
    run = run_dbt(
        database,
        "test",
        "--select",
        "stg_eyfsp__profiles,test_type:unit stg_phonics__checks,test_type:unit",
    )
    # Both unit tests ran and passed (the project's on-run-start hook is a node of its own).
    assert "2 unit tests" in run.stdout and "PASS=3 WARN=0 ERROR=0" in run.stdout

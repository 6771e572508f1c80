"""Key Stage 2 and Key Stage 4 results, read from small files written by hand from the published
layouts (tests/fixtures/attainment_ks/, see its README), not by our generator: two suppliers'
headers both load, a bad row is quarantined with its file, row, field and reason while the rest
load, and nothing is lost. Then the synthetic authority's files: the same layout, nothing
quarantined beyond the recording errors it made on purpose, and results that follow what the
population knows about each pupil.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.census_calendar import source_period_end
from linkage_ops.ingest import PeriodLoad, load_period, load_schema, reconcile_period
from linkage_ops.quality import period_parameters, raw_suite, validate
from linkage_ops.synthetic.ks2 import write_ks2
from linkage_ops.synthetic.ks4 import write_ks4
from linkage_ops.synthetic.population import build_population
from linkage_ops.synthetic.pupil_attainment import end_of_key_stage_cohort
from linkage_ops.synthetic.school_year import parse_collection_year

FIXTURES = Path(__file__).parent / "fixtures" / "attainment_ks"
YEAR = parse_collection_year("2024-25")
UPN_ERRORS = {"missing_upn", "upn_wrong_check_letter"}


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def deliver(tmp_path: Path, source: str, layout: str, period: str) -> Path:
    """Copy a fixture folder into ``landing/<source>/<period>``; return the landing folder."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / source / layout, landing / source / period)
    return landing


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def assert_nothing_lost(con: duckdb.DuckDBPyConnection, load: PeriodLoad, source: str) -> None:
    """Rows read = rows loaded + rows quarantined, per file, and the raw table holds them."""
    assert load.failed == [] and load.unmodelled == []
    for table_load in load.loads:
        assert table_load.rows_read == table_load.rows_loaded + table_load.rows_rejected
    for reconciliation in reconcile_period(con, load_schema(source), load.period):
        assert reconciliation.balanced, reconciliation


def findings_of_row(load: PeriodLoad, row: int) -> set[tuple]:
    return {
        (f.source_file, f.row_number, f.field, f.value, f.action)
        for f in load.findings
        if f.row_number == row
    }


def load_log(con: duckdb.DuckDBPyConnection, source: str, period: str) -> dict:
    aliases, absent, extra = con.execute(
        "select aliases_applied, columns_absent, columns_extra from raw.load_log "
        "where source = ? and period = ?",
        [source, period],
    ).fetchone()
    return {
        "aliases": json.loads(aliases or "{}"),
        "absent": json.loads(absent or "[]"),
        "extra": json.loads(extra or "[]"),
    }


# --- Key Stage 2 ---------------------------------------------------------------------------------


def test_the_portal_download_loads_and_its_bad_row_is_quarantined_with_its_place(
    tmp_path: Path, con
) -> None:
    landing = deliver(tmp_path, "ks2", "portal", "2024-25")
    load = load_period(con, landing, "ks2", "2024-25", run_id="t")
    assert load.collection_year == "2024-25"
    (results,) = load.tables
    assert results.table == "results"
    assert results.rows_read == data_rows(landing / "ks2/2024-25/ks2_results_2025.csv") == 8
    assert (results.rows_loaded, results.rows_rejected) == (7, 1)
    assert_nothing_lost(con, load, "ks2")
    # Row 8 (after the header): no UPN (flagged), no names, a scaled score of 121 and a writing
    # assessment that is not a code (each quarantines it).
    name = "ks2_results_2025.csv"
    assert findings_of_row(load, 8) == {
        (name, 8, "UPN", None, "flagged"),
        (name, 8, "Surname", None, "rejected"),
        (name, 8, "Forename", None, "rejected"),
        (name, 8, "ReadingScaledScore", "121", "rejected"),
        (name, 8, "WritingTA", "WA", "rejected"),
    }
    assert {f.row_number for f in load.findings} == {8}  # codes, PK and blank scores are fine
    quarantined = con.execute(
        "select source_file, row_number, field, value, reason from raw.quarantine "
        "where source = 'ks2' and action = 'rejected' order by field"
    ).fetchall()
    assert [(file, row, field, value) for file, row, field, value, _ in quarantined] == [
        (name, 8, "Forename", None),
        (name, 8, "ReadingScaledScore", "121"),
        (name, 8, "Surname", None),
        (name, 8, "WritingTA", "WA"),
    ]
    reasons = {field: reason for _, _, field, _, reason in quarantined}
    assert reasons["Surname"] == "mandatory field is blank"
    assert "does not match" in reasons["ReadingScaledScore"]
    assert "ks2_writing_ta" in reasons["WritingTA"]
    # The pupils who loaded, as delivered; the column the schema does not model is kept.
    rows = con.execute(
        "select UPN, ReadingScaledScore, ReadingOutcome, WritingTA, ReadingTA, "
        "_extra_columns->>'ScienceTA' from raw.ks2__results order by _row_number"
    ).fetchall()
    assert rows[1] == ("V884201114002", "100", "AS", "EXS", None, "EXS")
    assert rows[3] == ("B884201115007", None, "B", "PK4", "PK4", "HNM")
    assert rows[4][1:3] == (None, "A")
    assert load_log(con, "ks2", "2024-25")["extra"] == ["ScienceTA"]


def test_a_supplier_naming_the_columns_after_the_pupil_database_loads_the_same(
    tmp_path: Path, con
) -> None:
    landing = deliver(tmp_path, "ks2", "npd_style", "2023-24")
    load = load_period(con, landing, "ks2", "2023-24", run_id="t")
    (results,) = load.tables
    assert (results.rows_read, results.rows_loaded, results.rows_rejected) == (4, 4, 0)
    assert load.findings == []
    assert_nothing_lost(con, load, "ks2")
    log = load_log(con, "ks2", "2023-24")
    assert log["aliases"] == {
        "LAESTAB": "LAEstab",
        "SURNAME": "Surname",
        "FORENAMES": "Forename",
        "SEX": "Gender",
        "KS2_READMRK": "ReadingRawScore",
        "KS2_READSCORE": "ReadingScaledScore",
        "KS2_READOUTCOME": "ReadingOutcome",
        "KS2_MATMRK": "MathsRawScore",
        "KS2_MATSCORE": "MathsScaledScore",
        "KS2_MATOUTCOME": "MathsOutcome",
        "KS2_GPSMRK": "GPSRawScore",
        "KS2_GPSSCORE": "GPSScaledScore",
        "KS2_GPSOUTCOME": "GPSOutcome",
        "KS2_WRITTAOUTCOME": "WritingTA",
    }
    # Optional columns it does not have (the school's LA and establishment numbers apart: it
    # gives the DfE number), and its own columns, kept rather than refused.
    assert set(log["absent"]) == {"ReadingTA", "MathsTA", "LA", "ESTAB"}
    assert log["extra"] == ["KS2_SCITAOUTCOME", "NCYEARACTUAL"]
    rows = con.execute(
        "select UPN, Forename, Gender, ReadingScaledScore, MathsOutcome, WritingTA, "
        "_extra_columns->>'KS2_SCITAOUTCOME' from raw.ks2__results order by _row_number"
    ).fetchall()
    assert rows[0] == ("Q884201117041", "Ella-Rose", "F", "109", "AS", "GDS", "EXS")
    assert rows[2] == ("K884203417043", "Aarav", "M", None, "U", "WTS", "HNM")


# --- Key Stage 4 ---------------------------------------------------------------------------------


def test_a_gcse_results_file_loads_and_its_bad_row_is_quarantined_with_its_place(
    tmp_path: Path, con
) -> None:
    landing = deliver(tmp_path, "ks4", "school_export", "2024-25")
    load = load_period(con, landing, "ks4", "2024-25", run_id="t")
    (results,) = load.tables
    assert (results.rows_read, results.rows_loaded, results.rows_rejected) == (7, 6, 1)
    assert_nothing_lost(con, load, "ks4")
    # Row 7: an Attainment 8 over 90, a legacy letter grade, no surname.
    name = "ks4_results_2025.csv"
    assert findings_of_row(load, 7) == {
        (name, 7, "Attainment8", "95.5", "rejected"),
        (name, 7, "MathsGrade", "A*", "rejected"),
        (name, 7, "Surname", None, "rejected"),
    }
    assert {f.row_number for f in load.findings} == {7}  # X, U, no entries, 0 points are fine
    rows = con.execute(
        "select Forename, Attainment8, Progress8, EnglishLanguageGrade, MathsGrade, "
        "_extra_columns->>'CombinedScienceGrade' from raw.ks4__results order by _row_number"
    ).fetchall()
    assert rows[0] == ("Chloe", "52.5", None, "6", "5", "5-4")
    assert rows[3] == ("Kai", "0", None, None, None, None)
    assert load_log(con, "ks4", "2024-25")["extra"] == ["CombinedScienceGrade"]


def test_a_supplier_using_the_performance_data_names_loads_the_same(tmp_path: Path, con) -> None:
    landing = deliver(tmp_path, "ks4", "performance_data", "2023-24")
    load = load_period(con, landing, "ks4", "2023-24", run_id="t")
    (results,) = load.tables
    assert (results.rows_read, results.rows_loaded, results.rows_rejected) == (4, 4, 0)
    assert load.findings == []
    assert_nothing_lost(con, load, "ks4")
    log = load_log(con, "ks4", "2023-24")
    assert {
        "ATT8": "Attainment8",
        "P8SCORE": "Progress8",
        "EBACC_E": "EBaccEntered",
        "EBACCAPS": "EBaccAPS",
        "CANDNO": "CandidateNumber",
        "GCSE_ENGLANG": "EnglishLanguageGrade",
        "GCSE_ENGLIT": "EnglishLiteratureGrade",
        "GCSE_MATHS": "MathsGrade",
        "SEX": "Gender",
        "FORENAMES": "Forename",
    }.items() <= log["aliases"].items()
    assert log["extra"] == ["GCSE_HISTORY"]
    rows = con.execute(
        "select UPN, Attainment8, Progress8, EBaccEntered, EnglishLanguageGrade "
        "from raw.ks4__results order by _row_number"
    ).fetchall()
    assert rows[0] == ("U884401212051", "61.5", "0.42", "1", "7")
    assert rows[2][-1] == "Q"  # a result still pending


# --- Results days --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "period", "results_day"),
    [
        # KS2: the first Tuesday on or after 4 July (2023 slipped to the 11th, 2026 to the 16th).
        ("ks2", "2016-17", date(2017, 7, 4)),
        ("ks2", "2021-22", date(2022, 7, 5)),
        ("ks2", "2023-24", date(2024, 7, 9)),
        ("ks2", "2024-25", date(2025, 7, 8)),
        # GCSE results day: the first Thursday on or after 20 August.
        ("ks4", "2022-23", date(2023, 8, 24)),
        ("ks4", "2023-24", date(2024, 8, 22)),
        ("ks4", "2024-25", date(2025, 8, 21)),
        ("ks4", "2025-26", date(2026, 8, 20)),
    ],
)
def test_results_arrive_on_the_published_days(source: str, period: str, results_day: date) -> None:
    assert source_period_end(source, period) == results_day


# --- The synthetic authority's files --------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A population's Key Stage 2 and 4 files, loaded; the truth of each file's rows."""
    root = tmp_path_factory.mktemp("attainment")
    population = build_population(9000, YEAR, np.random.default_rng(31))
    _, ks2_truth = write_ks2(population, YEAR, [], root / "landing", np.random.default_rng(1))
    _, ks4_truth = write_ks4(population, YEAR, [], root / "landing", np.random.default_rng(2))
    con = duckdb.connect()
    loads = {
        source: load_period(con, root / "landing", source, YEAR.label, run_id="t")
        for source in ("ks2", "ks4")
    }
    yield population, con, loads, {"ks2": ks2_truth, "ks4": ks4_truth}
    con.close()


@pytest.mark.parametrize("source", ["ks2", "ks4"])
def test_the_generated_files_load_with_nothing_quarantined_but_the_errors_made_on_purpose(
    synthetic, source: str
) -> None:
    _, con, loads, truths = synthetic
    load, truth = loads[source], truths[source]
    (results,) = load.tables
    assert results.rows_rejected == 0
    assert results.rows_read == results.rows_loaded == len(truth) > 100
    assert_nothing_lost(con, load, source)
    # One truth row per row of the file, numbered as the file's rows.
    assert sorted(r.record_id for r in truth) == list(range(2, len(truth) + 2))
    # Only the UPN slips the writer made are flagged, and each of them is.
    slipped = {r.record_id for r in truth if UPN_ERRORS & set(r.errors.split(";"))}
    assert {(f.row_number, f.field) for f in load.findings} == {(row, "UPN") for row in slipped}
    # The file's header is the schema's, so the writer and the reader agree.
    assert load_log(con, source, YEAR.label) == {"aliases": {}, "absent": [], "extra": []}
    schema = load_schema(source).for_period(YEAR.label)
    frame = con.execute(f"select * from raw.{source}__results").df()
    quality = validate(
        frame,
        raw_suite(source, schema.tables["results"]),
        parameters=period_parameters(source_period_end(source, YEAR.label)),
    )
    assert [f for f in quality.findings if f.severity == "critical"] == [], quality.describe()


def test_key_stage_results_follow_what_the_population_knows(synthetic) -> None:
    """About 61% reach the expected standard in reading, writing and maths; Attainment 8
    about 46 and about 65% grade 4 or above in English and maths; children in need and pupils
    with an EHC plan far lower."""
    population, con, _, truths = synthetic
    groups = {}
    for nc_year in (6, 11):
        for pupil in end_of_key_stage_cohort(population, YEAR, nc_year, np.random.default_rng(0)):
            groups[pupil.child.child_id] = {
                "all",
                *(["child_in_need"] if pupil.child_in_need else []),
                *(["ehc_plan"] if pupil.sen_provision == "E" else []),
            }

    def by_group(source: str, sql: str) -> dict[str, float]:
        child_of = {r.record_id: r.child_id for r in truths[source]}
        values = defaultdict(list)
        for row, value in con.execute(sql).fetchall():
            for group in groups[child_of[row]]:
                values[group].append(float(value))
        return {group: sum(v) / len(v) for group, v in values.items()}

    rwm = by_group(
        "ks2",
        "select _row_number, coalesce(ReadingScaledScore::int >= 100 "
        "and MathsScaledScore::int >= 100 and WritingTA in ('EXS', 'GDS'), false)::int "
        "from raw.ks2__results",
    )
    assert 0.55 <= rwm["all"] <= 0.68
    assert rwm["child_in_need"] < rwm["all"] - 0.15
    assert rwm["ehc_plan"] < 0.25
    attainment_8 = by_group("ks4", "select _row_number, Attainment8 from raw.ks4__results")
    assert 42 <= attainment_8["all"] <= 50
    assert attainment_8["child_in_need"] < attainment_8["all"] - 12
    assert attainment_8["ehc_plan"] < attainment_8["all"] - 20
    grade_4 = by_group(
        "ks4",
        "select _row_number, coalesce(greatest(try_cast(EnglishLanguageGrade as int), "
        "try_cast(EnglishLiteratureGrade as int)) >= 4 "
        "and try_cast(MathsGrade as int) >= 4, false)::int from raw.ks4__results",
    )
    assert 0.58 <= grade_4["all"] <= 0.72
    assert grade_4["child_in_need"] < grade_4["all"] - 0.2
    # No Progress 8 in 2024-25: those pupils sat no Key Stage 2 tests in 2021.
    assert con.execute("select count(Progress8) from raw.ks4__results").fetchone() == (0,)

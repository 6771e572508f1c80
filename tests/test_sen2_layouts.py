"""SEN2 as DfE COLLECT's Blade download delivers it, read from small downloads written by hand
from the SEN2 guides (tests/fixtures/sen2/<census year>/), not by our generator.

The 2025 download has every module (header ``sen2``, person, requests, assessment, namedplan,
plandetail, activeplans under requests, placementdetail, senneed), 2025 codes (SEN type DS,
cease reason 8, setting EHE, a college by UKPRN), a person file in its own column order, a module
the warehouse does not model (``mystery``) and one badly coded need. The 2024 download has the
2024 layout (gendercurrent, not sex) and ids that are not numbers. Then the generator's download
must be the same layout and load with nothing rejected or left unmodelled.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from linkage_ops.census_calendar import sen2_census_day
from linkage_ops.ingest import PeriodLoad, load_period, load_schema, reconcile_period
from linkage_ops.quality import period_parameters, raw_suite, validate
from linkage_ops.synthetic.population import build_population
from linkage_ops.synthetic.school_census import blade_date
from linkage_ops.synthetic.school_year import CollectionYear
from linkage_ops.synthetic.sen2 import write_sen2
from linkage_ops.synthetic.social_care import social_care_events

FIXTURES = Path(__file__).parent / "fixtures" / "sen2"
MODULES = {
    "sen2",
    "person",
    "requests",
    "assessment",
    "namedplan",
    "plandetail",
    "activeplans",
    "placementdetail",
    "senneed",
}
BAD_NEED = ("senneed", "Blade-Export_16-01-2025_senneed.csv", 7, "sentype", "AUT")


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def deliver(tmp_path: Path, download: str, period: str) -> Path:
    """Copy a fixture download into ``landing/sen2/<period>``; return the landing folder."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / download, landing / "sen2" / period)
    return landing


def rewrite(path: Path, column: str, value: str) -> None:
    """Set ``column`` of every row of a CSV file to ``value``."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, column: value} for row in rows)


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def assert_balanced(con: duckdb.DuckDBPyConnection, load: PeriodLoad) -> None:
    """Per table and per file: rows read = rows loaded + rows quarantined, and the raw tables
    hold what the load log says was loaded."""
    for table_load in load.loads:
        assert table_load.rows_read == table_load.rows_loaded + table_load.rows_rejected
    for reconciliation in reconcile_period(con, load_schema("sen2"), load.period):
        assert reconciliation.balanced, reconciliation


def rejected(load: PeriodLoad) -> list[tuple]:
    return [
        (f.table, f.source_file, f.row_number, f.field, f.value)
        for f in load.findings
        if f.action == "rejected"
    ]


def test_a_2025_download_loads_every_module_and_keeps_the_one_not_modelled(
    tmp_path: Path, con
) -> None:
    landing = deliver(tmp_path, "2025", "2025")
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    assert load.collection_year == "2025"
    assert load.failed == []
    assert {t.table for t in load.tables} == MODULES
    # Every row of every file was read.
    for table_load in load.tables:
        assert table_load.rows_read == data_rows(landing / "sen2/2025" / table_load.source_file)
    assert_balanced(con, load)
    # The module we do not model is kept verbatim and reported, not refused.
    assert [u.source_file for u in load.unmodelled] == ["Blade-Export_16-01-2025_mystery.csv"]
    kept = con.execute(
        "select row_number, fields->>'mysterytableid', fields->>'persontableid' "
        "from raw.unmodelled_rows where source = 'sen2' and period = '2025' order by row_number"
    ).fetchall()
    assert kept == [(2, "901", "101"), (3, "902", "104")]


def test_correctly_coded_rows_are_never_quarantined_and_a_bad_one_is_with_its_place(
    tmp_path: Path, con
) -> None:
    landing = deliver(tmp_path, "2025", "2025")
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    # Only the need coded AUT (the code is ASD) is quarantined: file, row, field and reason.
    assert rejected(load) == [BAD_NEED]
    (finding,) = [f for f in load.findings if f.action == "rejected"]
    assert "not in the sen_type list" in finding.reason
    quarantine = con.execute(
        "select table_name, source_file, row_number, field, value, reason from raw.quarantine "
        "where action = 'rejected'"
    ).fetchall()
    assert quarantine == [(*BAD_NEED, finding.reason)]
    by_table = {t.table: t for t in load.tables}
    assert by_table["senneed"].rows_rejected == 1
    assert all(t.rows_rejected == 0 for name, t in by_table.items() if name != "senneed")
    # The 2025 codes load: Down syndrome, a plan ceased because the young person died, elective
    # home education and early years settings, a college named by its UKPRN, sex M/F.
    assert con.execute(
        "select activeplanstableid from raw.sen2__senneed where sentype = 'DS'"
    ).fetchall() == [("602",)]
    assert con.execute(
        "select ceasereason from raw.sen2__namedplan where ceasedate is not null"
    ).fetchall() == [("8",)]
    settings = {
        setting
        for table in ("placementdetail", "plandetail")
        for (setting,) in con.execute(f"select sensetting from raw.sen2__{table}").fetchall()
    }
    assert {"EHE", "EYP"} <= settings
    assert con.execute(
        "select count(*) from raw.sen2__placementdetail where ukprn = '10004512'"
    ).fetchone() == (1,)
    sexes = con.execute("select sex, count(*) from raw.sen2__person group by 1 order by 1")
    assert sexes.fetchall() == [("F", 4), ("M", 2)]


def test_the_2025_download_meets_the_raw_quality_suites(tmp_path: Path, con) -> None:
    # The suites the Dagster checks derive from the schema: a sound download raises no error,
    # though due dates (phase transfer) and the return's own timestamp lie after census day.
    landing = deliver(tmp_path, "2025", "2025")
    load_period(con, landing, "sen2", "2025", run_id="t")
    parameters = period_parameters(sen2_census_day("2025"))
    for name, table in load_schema("sen2").for_period("2025").tables.items():
        frame = con.execute(f"select * from raw.sen2__{name}").df()
        result = validate(frame, raw_suite("sen2", table), parameters=parameters)
        assert result.rows == data_rows(next((landing / "sen2/2025").glob(f"*_{name}.csv"))) - (
            name == "senneed"  # the quarantined need
        )
        assert result.findings == [], (name, result.describe())


def test_column_order_does_not_matter(tmp_path: Path, con) -> None:
    person_file = FIXTURES / "2025" / "Blade-Export_16-01-2025_person.csv"
    schema_order = load_schema("sen2").for_period("2025").tables["person"].column_names
    delivered = header_of(person_file)
    assert delivered != [c for c in schema_order if c in delivered]  # really another order
    landing = deliver(tmp_path, "2025", "2025")
    load_period(con, landing, "sen2", "2025", run_id="t")
    row = con.execute(
        "select surname, forename, sex, personbirthdate, upn, postcode from raw.sen2__person "
        "where persontableid = '101'"
    ).fetchone()
    assert row == ("Fenwick", "Amara", "F", "2014-Mar-09 00:00:00", "Z884200113101", "HR4 9QX")


@pytest.mark.parametrize(("download", "period"), [("2025", "2025"), ("2024", "2024")])
def test_every_active_plan_reaches_its_person_through_its_request(
    tmp_path: Path, con, download: str, period: str
) -> None:
    landing = deliver(tmp_path, download, period)
    load_period(con, landing, "sen2", period, run_id="t")
    reached = con.execute(
        """
        select count(*), count(person.persontableid), count(distinct person.persontableid)
        from raw.sen2__activeplans as plans
        left join raw.sen2__requests as requests using (_period, requeststableid)
        left join raw.sen2__person as person
            on requests._period = person._period
            and requests.persontableid = person.persontableid
        """
    ).fetchone()
    (active_plans_file,) = (landing / "sen2" / period).glob("*_activeplans.csv")
    active_plans = data_rows(active_plans_file)
    assert reached == (active_plans, active_plans, active_plans)


def test_the_2024_layout_reads_with_the_2024_schema_and_ids_stay_text(tmp_path: Path, con) -> None:
    landing = deliver(tmp_path, "2024", "2024")
    load = load_period(con, landing, "sen2", "2024", run_id="t")
    assert load.collection_year == "2024"
    assert load.failed == [] and load.unmodelled == []
    assert {t.table for t in load.tables} == MODULES
    assert rejected(load) == []
    assert_balanced(con, load)
    # gendercurrent, not sex; ids such as P0A1 kept as delivered.
    assert con.execute(
        "select persontableid, gendercurrent, sex from raw.sen2__person order by 1"
    ).fetchall() == [("P0A1", "2", None), ("P0A2", "1", None), ("P0A3", "2", None)]
    # Modules with no rows this year (no assessment in the calendar year) load empty.
    assert {t.table: t.rows_read for t in load.tables}["namedplan"] == 0


def test_the_header_year_picks_the_schema_not_the_folder(tmp_path: Path, con) -> None:
    # A 2024 download filed in folder 2025: its header says 2024, so the 2024 layout reads it,
    # and the difference is flagged against the header's year.
    landing = deliver(tmp_path, "2024", "2025")
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    assert load.collection_year == "2024"
    assert load.failed == [] and rejected(load) == []
    assert {t.table for t in load.tables} == MODULES
    (flag,) = [f for f in load.findings if f.action == "flagged"]
    assert (flag.table, flag.source_file, flag.field, flag.value) == (
        "sen2",
        "Blade-Export_18-01-2024_sen2.csv",
        "year",
        "2024",
    )
    assert "2024 schema" in flag.reason
    assert_balanced(con, load)


def test_a_2025_download_in_its_folder_reads_with_the_2025_schema(tmp_path: Path, con) -> None:
    landing = deliver(tmp_path, "2025", "2025")
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    assert load.collection_year == "2025"
    assert [f for f in load.findings if f.field == "year"] == []
    logged = con.execute(
        "select distinct collection_year from raw.load_log where source = 'sen2'"
    ).fetchall()
    assert logged == [("2025",)]


def test_a_header_that_misstates_its_year_reads_the_download_with_that_year(
    tmp_path: Path, con
) -> None:
    # What happens when the header is wrong: a 2025 download whose header says 2024 is read
    # with the 2024 layout. Its person file lacks gendercurrent and fails alone, naming the
    # column and the year; codes new in 2025 are quarantined; the rest still loads.
    landing = deliver(tmp_path, "2025", "2025")
    rewrite(landing / "sen2/2025/Blade-Export_16-01-2025_sen2.csv", "year", "2024")
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    assert load.collection_year == "2024"
    (failed,) = load.failed
    assert failed.source_file == "Blade-Export_16-01-2025_person.csv"
    assert "gendercurrent" in failed.problem and "2024" in failed.problem
    assert {(table, field, value) for table, _, _, field, value in rejected(load)} == {
        ("senneed", "sentype", "AUT"),
        ("senneed", "sentype", "DS"),
        ("namedplan", "ceasereason", "8"),
    }
    assert {t.table for t in load.tables} == MODULES - {"person"}
    assert_balanced(con, load)


def test_without_a_header_the_folder_gives_the_year(tmp_path: Path, con) -> None:
    landing = deliver(tmp_path, "2025", "2025")
    (landing / "sen2/2025/Blade-Export_16-01-2025_sen2.csv").unlink()
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    assert load.collection_year == "2025"
    assert {t.table for t in load.tables} == MODULES - {"sen2"}
    assert rejected(load) == [BAD_NEED]


# --- the generator writes the same download -----------------------------------------------

YEAR = CollectionYear(2024)  # SEN2 2025, the January 2025 census


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    population = build_population(1500, YEAR.label, np.random.default_rng(21))
    landing = tmp_path_factory.mktemp("sen2_generated") / "landing"
    paths, truth = write_sen2(population, YEAR, [], landing, np.random.default_rng(22))
    return landing, paths, truth, population


def test_the_generated_download_has_the_fixture_layout(generated) -> None:
    _, paths, _, _ = generated
    written = {path.name: header_of(path) for path in paths}
    by_hand = {
        path.name: header_of(path)
        for path in (FIXTURES / "2025").glob("*.csv")
        if not path.name.endswith("_mystery.csv")
    }
    assert set(written) == set(by_hand)  # Blade-Export_16-01-2025_<module>.csv, every module
    for name, columns in by_hand.items():
        assert sorted(written[name]) == sorted(columns), name


def test_the_generated_download_loads_with_nothing_rejected_or_unmodelled(generated, con) -> None:
    landing, _, truth, _ = generated
    load = load_period(con, landing, "sen2", "2025", run_id="t")
    assert load.collection_year == "2025"
    assert load.failed == [] and load.unmodelled == []
    assert {t.table for t in load.tables} == MODULES
    assert rejected(load) == []
    assert_balanced(con, load)
    # One truth record per person row, with the loaded ids.
    people = con.execute("select persontableid from raw.sen2__person").fetchall()
    assert sorted(str(t.record_id) for t in truth) == sorted(p for (p,) in people)
    # The tree holds together: every row's parent is in the return.
    for child, parent, key in [
        ("person", "sen2", "sen2tableid"),
        ("requests", "person", "persontableid"),
        ("assessment", "requests", "requeststableid"),
        ("namedplan", "assessment", "assessmenttableid"),
        ("plandetail", "namedplan", "namedplantableid"),
        ("activeplans", "requests", "requeststableid"),
        ("placementdetail", "activeplans", "activeplanstableid"),
        ("senneed", "activeplans", "activeplanstableid"),
    ]:
        orphans = con.execute(
            f"select count(*) from raw.sen2__{child} "
            f"where {key} not in (select {key} from raw.sen2__{parent})"
        ).fetchone()[0]
        assert orphans == 0, (child, parent)
    # A placement names a school (URN), a provider (UKPRN) or, only with neither, a setting code.
    placements = con.execute(
        "select (urn is not null)::int + (ukprn is not null)::int + (sensetting is not null)::int "
        "from raw.sen2__placementdetail"
    ).fetchall()
    assert placements and {count for (count,) in placements} == {1}


def test_the_generated_download_meets_the_raw_quality_suites(generated, con) -> None:
    landing, _, _, _ = generated
    load_period(con, landing, "sen2", "2025", run_id="t")
    parameters = period_parameters(sen2_census_day("2025"))
    for name, table in load_schema("sen2").for_period("2025").tables.items():
        frame = con.execute(f"select * from raw.sen2__{name}").df()
        result = validate(frame, raw_suite("sen2", table), parameters=parameters)
        assert result.findings == [], (name, result.describe())


def test_a_pupil_joining_their_school_after_census_day_is_placed_from_the_plan_start(
    generated, tmp_path: Path, con
) -> None:
    # A pupil on the year's roll may join the school after the January census: the placement
    # cannot start after the census it is counted on.
    *_, population = generated
    census = sen2_census_day("2025")
    send = next(
        s
        for s in social_care_events(population, YEAR).send
        if s.plan is not None and s.plan.urn and s.plan.cease_date is None
    )
    children = list(population.children)
    children[send.child.index] = replace(send.child, entry_date=census + timedelta(days=30))
    later = replace(population, children=children)
    landing = tmp_path / "landing"
    _, truth = write_sen2(later, YEAR, [], landing, np.random.default_rng(22))
    load_period(con, landing, "sen2", "2025", run_id="t")
    (person_id,) = [t.record_id for t in truth if t.child_id == send.child.child_id]
    entry = con.execute(
        """
        select placement.entrydate
        from raw.sen2__placementdetail as placement
        inner join raw.sen2__activeplans as plans using (activeplanstableid)
        inner join raw.sen2__requests as requests using (requeststableid)
        where requests.persontableid = ?
        """,
        [person_id],
    ).fetchall()
    assert entry == [(blade_date(send.plan.start),)]

"""Real School Census layouts load: hand-written Blade exports of three terms, from DfE's
specification and the tables a real term's export holds (tests/fixtures/school_census/).

Each term has its own table names (autumn: fsmperiodsonroll, addressesonroll and
addressesoffroll; spring and summer: fsmperiod and addresses) and its own columns (autumn and
summer pupilonroll have no ethnicity or youngcarer), carries tables we do not model and
columns we do not model, puts columns in its own order, and has table ids that are not numbers.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from linkage_ops.ingest import PeriodLoad, load_period, load_schema, reconcile_period

FIXTURES = Path(__file__).parent / "fixtures"
SOURCE = "school_census"
PERIODS = ("2024-autumn", "2025-spring", "2025-summer")
# Tables of a real export that the schema does not model: kept verbatim, never refused.
UNMODELLED = {
    "2024-autumn": {"2024_autumn_approvisiondetailonroll.csv"},
    "2025-spring": {"2025_spring_learnersupportonroll.csv", "2025_spring_classes.csv"},
    "2025-summer": {"2025_summer_fundingbasisitems.csv"},
}
# The only rows the fixtures get wrong, each for one reason: (file, row, field, value).
BAD_ROWS = {
    "2024-autumn": [
        # The boolean an older layout used, not a servicechild code.
        ("2024_autumn_pupilonroll.csv", 4, "servicechild", "True"),
        # F (extended family holiday) left the attendance codes long ago.
        ("2024_autumn_termlysessiondetailsonroll.csv", 6, "attendancereason", "F"),
    ],
    "2025-spring": [("2025_spring_pupilonroll.csv", 4, "youngcarer", "True")],
    "2025-summer": [("2025_summer_termlyexclusionsonroll.csv", 3, "startdate", "03/15/2025")],
}


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for row in list(csv.reader(handle))[1:] if row)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[duckdb.DuckDBPyConnection, dict[str, PeriodLoad]]:
    database = tmp_path_factory.mktemp("census") / "warehouse.duckdb"
    with duckdb.connect(str(database)) as con:
        loads = {p: load_period(con, FIXTURES, SOURCE, p, run_id="fixtures") for p in PERIODS}
        yield con, loads


def raw_rows(con: duckdb.DuckDBPyConnection, table: str, period: str, where: str = "true"):
    return con.execute(
        f"select * from raw.{SOURCE}__{table} where _period = ? and {where}", [period]
    ).fetchall()


@pytest.mark.parametrize("period", PERIODS)
def test_every_row_read_is_loaded_or_quarantined(loaded, period: str) -> None:
    con, loads = loaded
    load = loads[period]
    assert load.collection_year == "2024-25"
    assert load.failed == []
    folder = FIXTURES / SOURCE / period
    for table_load in load.loads:
        assert table_load.rows_read == table_load.rows_loaded + table_load.rows_rejected
        assert table_load.rows_read == data_rows(folder / table_load.source_file)
    # Every file of the folder is accounted for, as a table or as unmodelled rows.
    assert {t.source_file for t in load.loads} == {p.name for p in folder.iterdir()}
    reconciliations = reconcile_period(con, load_schema(SOURCE), period)
    assert reconciliations and all(r.balanced for r in reconciliations)
    assert sum(r.rows_read for r in reconciliations) == sum(
        data_rows(path) for path in folder.iterdir()
    )


@pytest.mark.parametrize("period", PERIODS)
def test_tables_the_schema_does_not_model_are_kept_and_named(loaded, period: str) -> None:
    con, loads = loaded
    unmodelled = {t.source_file for t in loads[period].unmodelled}
    assert unmodelled == UNMODELLED[period]
    kept = con.execute(
        "select source_file, fields from raw.unmodelled_rows where source = ? and period = ?",
        [SOURCE, period],
    ).fetchall()
    assert {name for name, _ in kept} == unmodelled
    folder = FIXTURES / SOURCE / period
    assert len(kept) == sum(data_rows(folder / name) for name in unmodelled)
    # Kept as delivered: every column of the file with its value.
    for name, fields in kept:
        assert list(json.loads(fields)) == header(folder / name)


@pytest.mark.parametrize("period", PERIODS)
def test_only_the_bad_rows_are_quarantined_each_with_file_row_field_and_reason(
    loaded, period: str
) -> None:
    con, _ = loaded
    quarantined = con.execute(
        "select source_file, row_number, field, value, reason from raw.quarantine "
        "where source = ? and period = ? and action = 'rejected' order by source_file, row_number",
        [SOURCE, period],
    ).fetchall()
    assert [row[:4] for row in quarantined] == sorted(BAD_ROWS[period])
    reasons = {row[2]: row[4] for row in quarantined}
    expected = {
        "servicechild": "not in the service_child list (N, R, U, Y)",
        "youngcarer": "not in the young_carer list (N, P, S)",
        "startdate": "expected a date like 2024-Oct-03 00:00:00",
    }
    for field, reason in expected.items():
        if field in reasons:
            assert reasons[field] == reason
    if "attendancereason" in reasons:
        assert reasons["attendancereason"].startswith("not in the attendance_reason list")


def test_correctly_coded_rows_are_loaded(loaded) -> None:
    con, _ = loaded
    # Blade codes: servicechild Y/N/U/R, plaa A, youngcarer P/S/N (spring only).
    autumn = {
        row[0]: row[1:]
        for row in con.execute(
            "select surname, servicechild, plaa, senprovision from "
            f"raw.{SOURCE}__pupilonroll where _period = '2024-autumn'"
        ).fetchall()
    }
    assert autumn["Ashworth"] == ("Y", None, "N")
    assert autumn["Kowalczyk"] == ("N", "A", "N")
    assert autumn["Okafor"][0] == "U" and autumn["Whitcombe"][0] == "R"
    spring = dict(
        con.execute(
            f"select surname, youngcarer from raw.{SOURCE}__pupilonroll "
            "where _period = '2025-spring'"
        ).fetchall()
    )
    assert spring["Ashworth"] == "P" and spring["Kowalczyk"] == "S" and spring["Okafor"] == "N"
    # The attendance codes of both regimes in 2024-25: autumn 2024 reports the summer 2024
    # term with the old codes (H, Y); spring 2025 the autumn term with the new (C1, J1, K, Y3).
    codes = dict(
        con.execute(
            "select _period, list(distinct attendancereason order by attendancereason) "
            f"from raw.{SOURCE}__termlysessiondetailsonroll group by 1"
        ).fetchall()
    )
    assert {"H", "I", "M", "G", "E", "O"} <= set(codes["2024-autumn"])
    assert {"C1", "C2", "J1", "K", "Y3"} <= set(codes["2025-spring"])
    half_term = raw_rows(con, "summerhalfterm2sessiondetailsonroll", "2024-autumn")
    assert len(half_term) == 6
    # DS (Down syndrome) is a type of need from 2024-25; permanent exclusions and suspensions.
    assert raw_rows(con, "senneeds", "2025-spring", "sentype = 'DS'")
    categories = {
        period: sorted(
            row[0]
            for row in con.execute(
                f"select category from raw.{SOURCE}__termlyexclusionsonroll where _period = ? "
                f"union all select category from raw.{SOURCE}__termlyexclusionsoffroll "
                "where _period = ?",
                [period, period],
            ).fetchall()
        )
        for period in PERIODS
    }
    assert categories == {
        "2024-autumn": ["FIXD", "LNCH", "PERM"],
        "2025-spring": ["FIXD", "FIXD", "PERM"],
        # A supplier writing a suspension by its current name, SUSP, is not refused.
        "2025-summer": ["FIXD", "SUSP"],
    }


def test_autumn_tables_load_into_their_own_raw_tables(loaded) -> None:
    con, loads = loaded
    autumn = {t.table: t.rows_loaded for t in loads["2024-autumn"].tables}
    spring = {t.table: t.rows_loaded for t in loads["2025-spring"].tables}
    assert autumn["fsmperiodsonroll"] == 2 and autumn["addressesonroll"] == 5
    assert autumn["addressesoffroll"] == 2
    assert {"fsmperiod", "addresses"}.isdisjoint(autumn)
    assert spring["fsmperiod"] == 2 and spring["addresses"] == 6
    assert {"fsmperiodsonroll", "addressesonroll", "addressesoffroll"}.isdisjoint(spring)
    for table, period, count in [
        ("fsmperiodsonroll", "2024-autumn", 2),
        ("fsmperiod", "2024-autumn", 0),
        ("addressesonroll", "2024-autumn", 5),
        ("addresses", "2024-autumn", 0),
        ("addresses", "2025-spring", 6),
        ("addressesonroll", "2025-spring", 0),
    ]:
        assert len(raw_rows(con, table, period)) == count, (table, period)
    # Off roll: UPRN and postcode, pointing to the leaver.
    off_roll = con.execute(
        "select pupilnolongeronrolltableid, uniquepropertyreferencenumber, postcode "
        f"from raw.{SOURCE}__addressesoffroll order by 1"
    ).fetchall()
    assert off_roll == [
        ("e0b7a5c2-3f18-4d9e-a6c4-7b1d0e9f3031", "200002744109", "HR4 0BQ"),
        ("e0b7a5c2-3f18-4d9e-a6c4-7b1d0e9f3032", None, "GL15 6AZ"),
    ]


def test_each_term_has_its_own_columns(loaded) -> None:
    con, _ = loaded
    absent = dict(
        con.execute(
            "select period, columns_absent from raw.load_log "
            "where source = ? and table_name = 'pupilonroll'",
            [SOURCE],
        ).fetchall()
    )
    for period in ("2024-autumn", "2025-summer"):
        assert {"ethnicity", "youngcarer"} <= set(json.loads(absent[period]))
        assert raw_rows(con, "pupilonroll", period, "ethnicity is not null") == []
    assert {"ethnicity", "youngcarer"}.isdisjoint(json.loads(absent["2025-spring"]))
    assert "summerhalfterm2sessionspossible" not in json.loads(absent["2024-autumn"])
    # Columns the schema does not model are kept with the row.
    extra = con.execute(
        f"select _extra_columns from raw.{SOURCE}__pupilonroll "
        "where _period = '2024-autumn' and surname = 'Ashworth'"
    ).fetchone()[0]
    assert json.loads(extra)["schoollunchtaken"] == "True"


def test_a_file_with_its_own_column_order_loads_by_column_name(loaded) -> None:
    con, _ = loaded
    path = FIXTURES / SOURCE / "2025-spring" / "2025_spring_addresses.csv"
    ours = load_schema(SOURCE).tables["addresses"].column_names
    theirs = header(path)
    assert sorted(theirs) == sorted(ours) and theirs != ours
    rows = con.execute(
        "select pupilonrolltableid, postcode, street, paon, saon "
        f"from raw.{SOURCE}__addresses where _period = '2025-spring' order by 1"
    ).fetchall()
    assert rows[1] == ("5100232", "HR1 1LT", "Widemarsh Street", "Kestrel House", "Flat 3")


def test_table_ids_are_opaque_text(loaded) -> None:
    con, _ = loaded
    schema = load_schema(SOURCE)
    for table in schema.tables.values():
        rules = {rule.name: rule for rule in table.columns}
        assert rules[table.record_id].type == "text", table.name
        for key in ("pupilonrolltableid", "pupilnolongeronrolltableid", "schoolcensustableid"):
            if key in rules:
                assert rules[key].type == "text", (table.name, key)
    # GUIDs (autumn), numbers (spring) and codes (summer) all load as they came.
    ids = dict(
        con.execute(
            f"select _period, min(pupilonrolltableid) from raw.{SOURCE}__pupilonroll group by 1"
        ).fetchall()
    )
    assert ids == {
        "2024-autumn": "a17c3e90-0d41-4b2a-9e6f-31c2d7a80011",
        "2025-spring": "5100231",
        "2025-summer": "POR-2104-0001",
    }


@pytest.mark.parametrize(
    ("fixture", "period", "rejected"),
    [
        # Read as 2025-26: the codes retired in August 2024 (H, Y) are no longer valid.
        (
            "2024-autumn",
            "2025-autumn",
            {
                ("pupilonroll", "servicechild", "True"),
                ("termlysessiondetailsonroll", "attendancereason", "F"),
                ("termlysessiondetailsonroll", "attendancereason", "H"),
                ("summerhalfterm2sessiondetailsonroll", "attendancereason", "Y"),
            },
        ),
        # Read as 2023-24: the August 2024 codes and DS are not valid yet.
        (
            "2025-spring",
            "2024-spring",
            {("pupilonroll", "youngcarer", "True"), ("senneeds", "sentype", "DS")}
            | {
                ("termlysessiondetailsonroll", "attendancereason", code)
                for code in ("C1", "C2", "J1", "K", "Y3")
            },
        ),
    ],
)
def test_codes_are_valid_in_their_collection_years(
    fixture: str, period: str, rejected: set[tuple[str, str, str]], tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / SOURCE / fixture, landing / SOURCE / period)
    with duckdb.connect() as con:
        # The return's own census day is another term's: read as this one on purpose.
        load = load_period(con, landing, SOURCE, period, run_id="years", accept_other_period=True)
    found = {(f.table, f.field, f.value) for f in load.findings if f.action == "rejected"}
    assert found == rejected

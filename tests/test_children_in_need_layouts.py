"""The Children in Need census as real returns deliver it, year by year.

Fixtures in tests/fixtures/children_in_need/ are written by hand from DfE's specification, not
by our generator: a 2023-24 return (GenderCurrent, header Year 2024), a 2024-25 return (Sex,
Year 2025) and a 2025-26 return from another supplier (true/false yes/no values and a block our
schema does not model), none named ``CIN_...``. Each fixture folder is one period's delivery.
Our XSDs (linkage_ops/schemas/xsd/) say what DfE accepts for a year: the hand-written returns
and the generated ones must follow them, and they must agree with our YAML schema.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import duckdb
import pytest
import xmlschema

from linkage_ops.ingest import load_period, load_schema, reconcile_period
from linkage_ops.ingest.collection_year import parse_year_label
from linkage_ops.ingest.reader import check_value
from linkage_ops.quality import period_parameters, raw_suite, validate
from linkage_ops.synthetic.authority import generate_authority

SOURCE = "children_in_need"
FIXTURES = Path(__file__).parent / "fixtures" / SOURCE
XSD_DIR = Path(__file__).parents[1] / "linkage_ops" / "schemas" / "xsd"
SUPPORTED_YEARS = ("2023-24", "2024-25", "2025-26")
# fixture folder -> (file, the year's sex column, the other year's)
RETURNS = {
    "2023-24": ("BAR_cin_2024.xml", "gendercurrent", "sex"),
    "2024-25": ("cin-2025.xml", "sex", "gendercurrent"),
    "2025-26": ("barsetshire_children_in_need_2026.xml", "sex", "gendercurrent"),
}
XS = "{http://www.w3.org/2001/XMLSchema}"
TABLES_EVERY_RETURN_HAS = (
    "header", "child", "disabilities", "cin_details", "assessments", "assessment_factors",
    "section47", "child_protection_plans", "cpp_reviews",
)  # fmt: skip


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def deliver(tmp_path: Path, fixture: str, period: str | None = None) -> Path:
    """Copy a fixture folder into a landing folder as ``period`` (its own name by default)."""
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURES / fixture, landing / SOURCE / (period or fixture))
    return landing


def rows(con, table: str, columns: str) -> list[tuple]:
    return con.execute(
        f"select {columns} from raw.{SOURCE}__{table} order by _row_number"
    ).fetchall()


def line_of(path: Path, text: str, child: str) -> int:
    """The line number of the first ``text`` in the ``Child`` whose LAchildID is ``child``."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if f"<LAchildID>{child}<" in line)
    return next(i for i, line in enumerate(lines) if i > start and text in line) + 1


def xsd(year: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_DIR / f"{SOURCE}_{year}.xsd"))


# --- loading the hand-written returns ---------------------------------------------------------


@pytest.mark.parametrize("fixture", list(RETURNS))
def test_each_return_reconciles_and_no_correctly_coded_row_is_quarantined(
    tmp_path, con, fixture
) -> None:
    file_name, sex_column, other_column = RETURNS[fixture]
    load = load_period(con, deliver(tmp_path, fixture), SOURCE, fixture, run_id="t")
    assert load.collection_year == fixture
    assert load.failed == []
    assert [f for f in load.findings if f.action == "rejected"] == []
    assert {t.source_file for t in load.tables} == {file_name}
    reconciled = reconcile_period(con, load_schema(SOURCE), fixture)
    assert [r.table for r in reconciled if not r.balanced] == []
    read = {r.table: r.rows_read for r in reconciled}
    assert [table for table in TABLES_EVERY_RETURN_HAS if read[table] == 0] == []
    assert [r.table for r in reconciled if r.rows_quarantined] == []
    # The year's sex element is read; the other year's column stays empty.
    sexes = rows(con, "child", f"{sex_column}, {other_column}")
    assert all(sex is not None and other is None for sex, other in sexes)
    # Every CINdetails row knows its child.
    orphans = con.execute(
        f"select count(*) from raw.{SOURCE}__cin_details d left join raw.{SOURCE}__child c "
        "on d._parent_xml_key = c._xml_key where c._xml_key is null"
    ).fetchone()[0]
    assert orphans == 0


def test_the_2023_24_return_reads_gender_current_and_the_2024_25_return_sex(tmp_path, con):
    load_period(con, deliver(tmp_path, "2023-24"), SOURCE, "2023-24", run_id="t")
    load_period(con, deliver(tmp_path, "2024-25"), SOURCE, "2024-25", run_id="t")
    by_year = dict(
        con.execute(
            f"select _period, list(coalesce(sex, gendercurrent) order by _row_number) "
            f"from raw.{SOURCE}__child group by _period"
        ).fetchall()
    )
    assert by_year == {"2023-24": ["2", "1", "0", "1", "2"], "2024-25": ["F", "M", "F", "M", "F"]}


def test_a_later_returns_block_is_kept_with_its_path_text_and_cin_details_record(
    tmp_path, con
) -> None:
    load = load_period(con, deliver(tmp_path, "2025-26"), SOURCE, "2025-26", run_id="t")
    (kept,) = load.unmodelled
    assert (kept.source_file, kept.rows_read, kept.rows_loaded) == (
        "barsetshire_children_in_need_2026.xml",
        3,
        3,
    )
    (episode_key,) = con.execute(
        f"select d._xml_key from raw.{SOURCE}__cin_details d join raw.{SOURCE}__child c "
        "on d._parent_xml_key = c._xml_key where c.lachildid = 'LA100002'"
    ).fetchone()
    block = "Message/Children/Child/CINdetails/PreProceedings"
    expected = [
        ("PreProceedingsStartDate", "2026-01-12"),
        ("FamilyGroupDecisionMaking/FGDMOfferedDate", "2025-12-01"),
        ("FamilyGroupDecisionMaking/FGDMOutcome", "Accepted"),
    ]
    assert con.execute(
        "select path, text, record_table, record_key, source_file from raw.unmodelled_elements "
        "where source = ? and period = ? order by line",
        [SOURCE, "2025-26"],
    ).fetchall() == [
        (f"{block}/{path}", text, "cin_details", episode_key, kept.source_file)
        for path, text in expected
    ]
    # The episode that carries the block loaded in full, with its plan.
    assert rows(con, "child_protection_plans", "_parent_xml_key") == [(episode_key,)]


def test_primary_need_missing_is_a_finding_only_when_the_referral_led_to_further_action(
    tmp_path, con
) -> None:
    landing = deliver(tmp_path, "2024-25")
    path = landing / SOURCE / "2024-25" / "cin-2025.xml"
    load = load_period(con, landing, SOURCE, "2024-25", run_id="t")
    episodes = con.execute(
        f"select c.lachildid, d.referralnfa, d.primaryneedcode, d._row_number "
        f"from raw.{SOURCE}__cin_details d join raw.{SOURCE}__child c "
        "on d._parent_xml_key = c._xml_key order by d._row_number"
    ).fetchall()
    without_need = {child: (nfa, row) for child, nfa, need, row in episodes if need is None}
    # LA100006: no further action, no need code; LA100007: further action, none recorded.
    assert set(without_need) == {"LA100006", "LA100007"}
    assert without_need["LA100006"][0] == "1" and without_need["LA100007"][0] == "0"
    further_action_row = line_of(path, "<CINdetails>", "LA100007")
    assert without_need["LA100007"][1] == further_action_row
    assert [(f.table, f.source_file, f.row_number, f.field, f.action) for f in load.findings] == [
        ("cin_details", "cin-2025.xml", further_action_row, "PrimaryNeedCode", "flagged")
    ]
    assert "further action" in load.findings[0].reason
    assert con.execute(
        "select table_name, source_file, row_number, field, action from raw.quarantine"
    ).fetchall() == [
        ("cin_details", "cin-2025.xml", further_action_row, "PrimaryNeedCode", "flagged")
    ]


def test_a_header_year_other_than_the_folders_reads_with_the_headers_year_and_is_flagged(
    tmp_path, con
) -> None:
    # A 2023-24 return (Year 2024, GenderCurrent) dropped in the 2024-25 folder.
    load = load_period(con, deliver(tmp_path, "2023-24", "2024-25"), SOURCE, "2024-25", run_id="t")
    assert load.collection_year == "2023-24"
    (finding,) = load.findings
    assert (finding.table, finding.field, finding.value, finding.action) == (
        "header", "Year", "2024", "flagged",
    )  # fmt: skip
    assert "2023-24" in finding.reason and "2024-25" in finding.reason
    # Read with the 2023-24 schema: GenderCurrent loads, no Sex is missed, nothing is unmodelled.
    assert {g for (g,) in rows(con, "child", "gendercurrent")} == {"0", "1", "2"}
    assert load.unmodelled == []
    assert con.execute(
        "select distinct collection_year from raw.load_log where source = ?", [SOURCE]
    ).fetchall() == [("2023-24",)]
    assert all(r.balanced for r in reconcile_period(con, load_schema(SOURCE), "2024-25"))


def test_a_return_with_another_years_sex_element_keeps_it_and_flags_the_missing_one(
    tmp_path, con
) -> None:
    # A 2024-25 return whose software still writes GenderCurrent: the children load, the
    # element is kept, and the missing Sex is flagged on each child (never quarantined).
    landing = deliver(tmp_path, "2024-25")
    path = landing / SOURCE / "2024-25" / "cin-2025.xml"
    text = path.read_text()
    for sex, gender in (("F", "2"), ("M", "1")):
        text = text.replace(f"<Sex>{sex}</Sex>", f"<GenderCurrent>{gender}</GenderCurrent>")
    path.write_text(text)
    load = load_period(con, landing, SOURCE, "2024-25", run_id="t")
    assert [t.rows_loaded for t in load.tables if t.table == "child"] == [5]
    sex_findings = [f for f in load.findings if f.field == "Sex"]
    assert len(sex_findings) == 5 and {f.action for f in sex_findings} == {"flagged"}
    kept = con.execute(
        "select text from raw.unmodelled_elements where path like '%/GenderCurrent' order by line"
    ).fetchall()
    assert kept == [("2",), ("1",), ("2",), ("1",), ("2",)]
    # The raw quality suite warns about the flagged column; it does not block the period.
    schema = load_schema(SOURCE)
    suite = raw_suite(SOURCE, schema.for_period("2024-25").tables["child"])
    frame = con.execute(f"select * from raw.{SOURCE}__child").df()
    result = validate(frame, suite, parameters=period_parameters(date(2025, 3, 31)))
    assert result.errors == []
    assert ("Sex", "expect_column_values_to_not_be_null") in [
        (f.column, f.expectation) for f in result.warnings
    ]
    # A column whose bad values are quarantined stays critical.
    severities = {
        (e["kwargs"].get("column"), e["type"]): e["severity"]
        for e in raw_suite(SOURCE, schema.for_period("2024-25").tables["cin_details"])[
            "expectations"
        ]
    }
    assert severities[("ReferralSource", "expect_column_values_to_be_in_set")] == "critical"


def test_true_false_yes_no_values_from_some_suppliers_load(tmp_path, con) -> None:
    landing = deliver(tmp_path, "2025-26")
    load = load_period(con, landing, SOURCE, "2025-26", run_id="t")
    assert load.findings == []
    assert rows(con, "cin_details", "referralnfa") == [("false",), ("true",)]
    assert rows(con, "section47", "icpcnotrequired") == [("false",)]
    # "false" is read as further action: without its need code the episode is flagged.
    path = landing / SOURCE / "2025-26" / "barsetshire_children_in_need_2026.xml"
    path.write_text(path.read_text().replace("<PrimaryNeedCode>N1</PrimaryNeedCode>", "", 1))
    load = load_period(con, landing, SOURCE, "2025-26", run_id="t")
    assert [(f.field, f.action) for f in load.findings] == [("PrimaryNeedCode", "flagged")]


def test_bad_values_are_quarantined_with_file_row_field_and_reason(tmp_path, con) -> None:
    landing = deliver(tmp_path, "2024-25")
    path = landing / SOURCE / "2024-25" / "cin-2025.xml"
    text = path.read_text()
    text = text.replace(
        "<ReferralSource>8</ReferralSource>", "<ReferralSource>POL</ReferralSource>"
    )
    text = text.replace(
        "<CINPlanStartDate>2024-04-10</CINPlanStartDate>",
        "<CINPlanStartDate>2024-04-31</CINPlanStartDate>",
    )
    text = text.replace("<Ethnicity>WOTH</Ethnicity>", "<Ethnicity>WHITE</Ethnicity>")
    path.write_text(text)
    load = load_period(con, landing, SOURCE, "2024-25", run_id="t")
    rejected = [
        (f.table, f.source_file, f.row_number, f.field, f.value)
        for f in load.findings
        if f.action == "rejected"
    ]
    assert rejected == [
        ("cin_details", "cin-2025.xml", line_of(path, "<CINdetails>", "LA100006"),
         "ReferralSource", "POL"),
        ("cin_plan_dates", "cin-2025.xml", line_of(path, "<CINPlanDates>", "LA100003"),
         "CINPlanStartDate", "2024-04-31"),
    ]  # fmt: skip
    reasons = {f.field: f.reason for f in load.findings}
    assert "cin_referral_source" in reasons["ReferralSource"]
    assert "date" in reasons["CINPlanStartDate"]
    # A child's ethnicity off the list is flagged: the child and its episodes stay loaded.
    assert ("Ethnicity", "flagged") in {(f.field, f.action) for f in load.findings}
    assert [t.rows_loaded for t in load.tables if t.table == "child"] == [5]
    assert all(r.balanced for r in reconcile_period(con, load_schema(SOURCE), "2024-25"))
    assert (
        con.execute("select count(*) from raw.quarantine where action = 'rejected'").fetchone()[0]
        == 2
    )


# --- our XSDs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["2023-24", "2024-25"])
def test_the_hand_written_dfe_returns_follow_our_xsd_for_their_year(fixture) -> None:
    file_name = RETURNS[fixture][0]
    assert list(xsd(fixture).iter_errors(str(FIXTURES / fixture / file_name))) == []
    # And not another year's: the sex element differs.
    other = "2024-25" if fixture == "2023-24" else "2023-24"
    errors = list(xsd(other).iter_errors(str(FIXTURES / fixture / file_name)))
    assert errors and all("ChildIdentifiers" in (e.path or "") for e in errors)


def test_the_supplier_variant_breaks_the_xsd_only_where_the_loader_is_forgiving() -> None:
    path = FIXTURES / "2025-26" / RETURNS["2025-26"][0]
    errors = list(xsd("2025-26").iter_errors(str(path)))
    assert {(e.path or "").rsplit("/", 1)[-1] for e in errors} == {
        "ReferralNFA",  # true/false, not 1/0
        "ICPCnotRequired",
        "CINdetails",  # the unmodelled PreProceedings block
    }


@pytest.mark.parametrize("year", ["2023-24", "2024-25"])
def test_generated_returns_validate_against_our_xsd_for_their_year(tmp_path, con, year) -> None:
    generate_authority(1500, 7, tmp_path, collection_year=year, months=1)
    (path,) = (tmp_path / "landing" / SOURCE / year).glob("*.xml")
    assert list(xsd(year).iter_errors(str(path))) == []
    root = ET.parse(path).getroot()
    assert root.findtext("Header/CollectionDetails/Year") == str(parse_year_label(year))
    episodes = root.findall("Children/Child/CINdetails")
    assert {e.findtext("ReferralNFA") for e in episodes} == {"0", "1"}
    # A need code is left out only where the referral led to no further action.
    assert {e.findtext("ReferralNFA") for e in episodes if e.find("PrimaryNeedCode") is None} == {
        "1"
    }
    load = load_period(con, tmp_path / "landing", SOURCE, year, run_id="t")
    assert load.collection_year == year
    assert [f for f in load.findings if f.action == "rejected"] == []
    assert not [f for f in load.findings if f.field == "PrimaryNeedCode"]


def _xsd_elements(element, path: str = ""):
    """(path below Message, element) for every element declared below ``element``."""
    if not element.type.has_complex_content():
        return
    for child in element.type.content.iter_elements():
        child_path = f"{path}/{child.name}" if path else child.name
        yield child_path, child
        yield from _xsd_elements(child, child_path)


@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_our_xsd_and_our_schema_agree_for_the_year(year) -> None:
    schema = load_schema(SOURCE).for_year(parse_year_label(year))
    declared = dict(_xsd_elements(xsd(year).elements["Message"]))
    modelled: set[str] = set()
    for table in schema.tables.values():
        record = table.record_path
        assert record in declared, f"{table.name}: {record} not in the {year} XSD"
        for rule in table.columns:
            if rule.name.startswith("_"):
                continue
            (relative,) = rule.paths or (rule.name,)
            path = record if relative == "." else f"{record}/{relative}"
            assert path in declared, f"{table.name}.{rule.name}: {path} not in the {year} XSD"
            modelled.add(path)
            simple_type = declared[path].type
            values = set(simple_type.enumeration or ())
            if rule.type == "boolean":  # DfE's yes/no values are among those the loader reads
                assert values and all(check_value(rule, value) is None for value in values)
            elif rule.codes:
                assert values == set(rule.codes), f"{year} {path}: codes differ"
            if rule.type == "date":
                assert simple_type.primitive_type.name == f"{XS}date", path
            if relative != ".":
                # Mandatory in our schema exactly where DfE's layout requires the element
                # (every element from the record down to it).
                steps = [p for p in declared if p.startswith(record + "/")
                         and (p == path or path.startswith(p + "/"))]  # fmt: skip
                required = all(declared[p].min_occurs > 0 for p in steps)
                assert rule.mandatory == required, f"{year} {path}: mandatory {rule.mandatory}"
    # Every value DfE's layout holds is a column of some table.
    leaves = {p for p, element in declared.items() if not element.type.has_complex_content()}
    assert leaves - modelled == set()

"""Schemas as data: a base plus per-year differences, shared code lists, strict parsing, tables
recognised by their columns, row rules and XML forms."""

from pathlib import Path

import pytest

from linkage_ops.ingest import available_sources, load_schema
from linkage_ops.ingest.collection_year import collection_year, parse_year_label
from linkage_ops.ingest.reader import read_source_period
from linkage_ops.ingest.schema import SchemaError, available_codelists, load_codelist

SCHEMA = """
source: example
service: education
cadence: annual
period_pattern: '^\\d{4}-\\d{2}$'
base_year: '2022-23'
xml_root: EXPORT
formats: {uk: '%d/%m/%Y'}
tables:
  header:
    record_id: CHILD
    record_path: CHILD/HEADER
    columns:
      CHILD: {mandatory: true, path: CHILDID}
      SEX: {mandatory: true, type: code, codes: sexes}
      DOB: {mandatory: true, type: date, format: uk}
      NOTE: {optional: true}
  episodes:
    record_id: CHILD
    record_path: CHILD/EPISODE
    columns:
      CHILD: {mandatory: true, path: [../HEADER/CHILDID, ../CHILDID]}
      DECOM: {mandatory: true, type: date, format: uk}
      PLACE: {type: code, codes: [P1, P2], path: [PL, PLACE]}
      REASON: {}
    rules:
      - require: REASON
        when: {PLACE: [P2]}
        reason: a P2 placement needs a reason
  leavers:
    record_id: CHILD
    record_path: CHILD/HEADER
    present_if: ACTIV
    columns:
      CHILD: {mandatory: true, path: CHILDID}
      ACTIV: {type: code, codes: ['0', F1]}
years:
  '2024-25':
    tables:
      header:
        columns:
          SEX: {codes: [M, F, U]}
          ETHNIC: {optional: true}
        remove_columns: [NOTE]
  '2026-27':
    add_tables:
      dolo:
        record_id: CHILD
        columns:
          CHILD: {mandatory: true}
          DOLO_START: {mandatory: true, type: date, format: uk}
    remove_tables: [leavers]
"""
SEXES = """
name: sexes
description: test list
codes:
  '1': Male
  '2': Female
  '9': {label: Indeterminate, until: '2023-24'}
"""


@pytest.fixture
def schema(tmp_path: Path):
    folder = tmp_path / "schemas"
    (folder / "codelists").mkdir(parents=True)
    (folder / "example.yaml").write_text(SCHEMA)
    (folder / "codelists" / "sexes.yaml").write_text(SEXES)
    return load_schema("example", folder)


def test_collection_years_of_each_cadence() -> None:
    assert parse_year_label("2024-25") == parse_year_label("2025") == 2025
    assert collection_year("school_census", "2024-autumn") == 2025
    assert collection_year("school_census", "2025-spring") == 2025
    assert collection_year("school_census", "2025-summer") == 2025
    assert collection_year("sen2", "2025") == 2025
    assert collection_year("annual", "2024-25") == 2025
    assert collection_year("monthly", "2024-04") == 2025
    assert collection_year("monthly", "2024-03") == 2024
    with pytest.raises(ValueError):
        parse_year_label("2024-26")


def test_each_year_is_the_base_plus_the_differences_up_to_it(schema) -> None:
    old, middle, new = (schema.for_period(p) for p in ("2023-24", "2025-26", "2026-27"))
    assert (old.year_label, middle.year_label, new.year_label) == ("2023-24", "2025-26", "2026-27")
    sex = {y.year_label: y.tables["header"].columns[1] for y in (old, middle, new)}
    assert sex["2023-24"].codes == {"1", "2", "9"} and sex["2023-24"].codelist == "sexes"
    assert sex["2025-26"].codes == {"M", "F", "U"} and sex["2025-26"].codelist is None
    assert "NOTE" in old.tables["header"].column_names
    assert "NOTE" not in middle.tables["header"].column_names
    assert middle.tables["header"].column_names[-1] == "ETHNIC"
    assert set(old.tables) == {"header", "episodes", "leavers"}
    assert set(new.tables) == {"header", "episodes", "dolo"}
    assert schema.supported_years == "2022-23 on (changes 2024-25, 2026-27)"


def test_a_code_list_says_which_years_a_code_is_valid(schema) -> None:
    in_2023 = schema.for_period("2022-23").tables["header"].columns[1].codes
    assert "9" in in_2023
    assert "9" not in load_codelist("sexes", schema._schema_dir).codes(2025)


def test_the_union_has_every_table_and_column_of_any_year(schema) -> None:
    assert set(schema.tables) == {"header", "episodes", "leavers", "dolo"}
    header = {rule.name: rule for rule in schema.tables["header"].columns}
    assert list(header) == ["CHILD", "SEX", "DOB", "NOTE", "ETHNIC"]
    # Columns not in every year may be absent; codes of every year are known.
    assert header["NOTE"].optional and header["ETHNIC"].optional
    assert not header["CHILD"].optional
    assert header["SEX"].codes == {"1", "2", "9", "M", "F", "U"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("mandatory: true, path: CHILDID}", "mandatry: true, path: CHILDID}"), "'mandatry'"),
        (
            ("    record_id: CHILD\n    record_path: CHILD/HEADER\n", "    recordid: x\n"),
            "recordid",
        ),
        (("cadence: annual", "cadence: fortnightly"), "cadence must be one of"),
        (("service: education", "service: housing"), "service must be one of"),
        (("service: education\n", ""), "missing service"),
        (("h: CHILD/EPISODE\n", "h: CHILD/EPISODE\n    period_date: PLACE\n"), "not a date"),
        (("h: CHILD/EPISODE\n", "h: CHILD/EPISODE\n    period_date: DECOM\n"), "only a monthly"),
        (("codes: sexes", "codes: genders"), "code list 'genders' not found"),
        (("    tables:\n      header:", "    tables:\n      headr:"), "no such table to change"),
        (("type: code, codes: [P1, P2]", "type: code"), "a code column needs codes"),
        (("present_if: ACTIV", "present_if: {ACTIV: F1}"), "present_if: expected a path"),
    ],
)
def test_a_schema_with_an_unknown_key_or_reference_is_refused(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    folder = tmp_path / "schemas"
    (folder / "codelists").mkdir(parents=True)
    assert change[0] in SCHEMA
    (folder / "example.yaml").write_text(SCHEMA.replace(change[0], change[1], 1))
    (folder / "codelists" / "sexes.yaml").write_text(SEXES)
    with pytest.raises(SchemaError, match=message):
        load_schema("example", folder).for_period("2025-26")


def test_tables_are_recognised_by_columns_and_near_misses_are_named(schema) -> None:
    year = schema.for_period("2026-27")
    recognised = year.recognise(["DOB", "SEX", "CHILD", "ETHNIC"], "anything.csv")
    assert recognised.table.name == "header" and recognised.problem is None
    # Named for a table but lacking its required columns: a problem naming them and the year.
    named = year.recognise(["CHILD", "DOB"], "SSDA903_2026_dolo.csv")
    assert named.table.name == "dolo"
    assert named.problem == (
        "missing required columns for table dolo (example 2026-27 schema): DOLO_START"
    )
    # Carrying a table's key and most of its columns: the same.
    assert year.recognise(["CHILD", "SEX", "ETHNIC"], "x.csv").problem.endswith(": DOB")
    # Neither: not modelled.
    assert year.recognise(["CHILD", "COLOUR"], "colours.csv").table is None


def test_the_xml_form_reads_parents_alternatives_and_shared_elements(
    tmp_path: Path, schema
) -> None:
    folder = tmp_path / "2024-25"
    folder.mkdir()
    (folder / "export.xml").write_text(
        """<EXPORT>
  <CHILD>
    <HEADER><CHILDID>C1</CHILDID><SEX>M</SEX><DOB>01/02/2010</DOB><ACTIV>0</ACTIV></HEADER>
    <EPISODE><DECOM>01/04/2024</DECOM><PL>P2</PL></EPISODE>
    <EPISODE><DECOM>01/05/2024</DECOM><PLACE>P1</PLACE><REASON>moved</REASON></EPISODE>
  </CHILD>
  <CHILD>
    <HEADER><CHILDID>C2</CHILDID><SEX>F</SEX><DOB>03/04/2011</DOB><UASC>1</UASC></HEADER>
  </CHILD>
</EXPORT>"""
    )
    batch = read_source_period(schema, folder, "2024-25")

    def rows(table):
        result = batch.tables[table]
        return [dict(zip(result.columns, values, strict=True)) for _, values in result.loaded]

    assert [(r["CHILD"], r["SEX"]) for r in rows("header")] == [("C1", "M"), ("C2", "F")]
    assert [(r["CHILD"], r["DECOM"], r["PLACE"]) for r in rows("episodes")] == [
        ("C1", "01/04/2024", "P2"),
        ("C1", "01/05/2024", "P1"),
    ]
    # Only the header that holds ACTIV is a leaver.
    assert [(r["CHILD"], r["ACTIV"]) for r in rows("leavers")] == [("C1", "0")]
    # The P2 episode with no reason breaks the row rule: flagged, still loaded.
    assert [(f.table, f.field, f.reason, f.action) for f in batch.findings] == [
        ("episodes", "REASON", "a P2 placement needs a reason", "flagged")
    ]
    # UASC is modelled by no table of this schema: kept, not lost.
    (kept,) = batch.unmodelled_xml
    assert [(e.path, e.text, e.record_table) for e in kept.elements] == [
        ("EXPORT/CHILD/HEADER/UASC", "1", "header")
    ]


def test_every_shipped_schema_and_code_list_parses_for_every_year() -> None:
    for name in available_codelists():
        assert load_codelist(name).codes()
    for source in available_sources():
        union = load_schema(source)
        for year in {union.base_year, *union.change_years, None}:
            resolved = union.for_year(year)
            assert resolved.tables, source
            for table in resolved.tables.values():
                assert table.record_id in table.column_names or table.record_id.startswith("_")

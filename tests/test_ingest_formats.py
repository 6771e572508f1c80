"""XML returns flattened by schema, and CSV tables recognised by their columns."""

from pathlib import Path

import pytest

from linkage_ops.ingest.reader import read_source_period
from linkage_ops.ingest.schema import load_schema

XML_SCHEMA = """
source: example_return
service: education
cadence: annual
format: xml
xml_root: Message
period_pattern: '^\\d{4}-\\d{2}$'
formats: {iso: '%Y-%m-%d'}
tables:
  header:
    record_path: Header
    record_id: _xml_key
    columns:
      Year: {path: CollectionDetails/Year, mandatory: true, type: integer}
  child:
    record_path: Children/Child
    record_id: LAchildID
    columns:
      LAchildID: {path: ChildIdentifiers/LAchildID, mandatory: true}
      UPN: {path: ChildIdentifiers/UPN, type: upn, on_invalid: flag}
      PersonBirthDate: {path: ChildIdentifiers/PersonBirthDate, type: date, format: iso}
  disabilities:
    record_path: Children/Child/ChildCharacteristics/Disabilities/Disability
    record_id: _xml_key
    columns:
      Disability: {path: ., mandatory: true, type: code, codes: [NONE, MOB, AUT]}
  episodes:
    record_path: Children/Child/CINdetails
    record_id: _xml_key
    columns:
      CINreferralDate: {mandatory: true, type: date, format: iso}
  assessments:
    record_path: Children/Child/CINdetails/Assessments
    record_id: _xml_key
    columns:
      AssessmentActualStartDate: {mandatory: true, type: date, format: iso}
"""

GOOD_XML = """<?xml version="1.0" encoding="utf-8"?>
<Message>
  <Header><CollectionDetails><Year>2025</Year></CollectionDetails></Header>
  <Children>
    <Child>
      <ChildIdentifiers><LAchildID>LA000001</LAchildID><UPN>A950000178301</UPN>
        <PersonBirthDate>2015-03-02</PersonBirthDate></ChildIdentifiers>
      <ChildCharacteristics><Disabilities><Disability>MOB</Disability>
        <Disability>AUT</Disability></Disabilities></ChildCharacteristics>
      <CINdetails><CINreferralDate>2024-05-01</CINreferralDate>
        <Assessments><AssessmentActualStartDate>2024-05-03</AssessmentActualStartDate></Assessments>
        <Assessments><AssessmentActualStartDate>2024-09-31</AssessmentActualStartDate></Assessments>
      </CINdetails>
    </Child>
    <Child>
      <ChildIdentifiers><LAchildID>LA000002</LAchildID><UPN>R247962919251</UPN></ChildIdentifiers>
      <CINdetails><CINreferralDate>2024-06-01</CINreferralDate></CINdetails>
      <CINdetails><CINreferralDate>2025-01-10</CINreferralDate>
        <Assessments><AssessmentActualStartDate>2025-01-12</AssessmentActualStartDate></Assessments>
      </CINdetails>
    </Child>
  </Children>
</Message>
"""


@pytest.fixture
def xml_schema(tmp_path: Path):
    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / "example_return.yaml").write_text(XML_SCHEMA)
    return load_schema("example_return", folder)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def loaded(batch, table: str) -> list[dict]:
    result = batch.tables[table]
    return [dict(zip(result.columns, values, strict=True)) for _, values in result.loaded]


def test_xml_records_keep_their_place_and_parents(tmp_path: Path, xml_schema) -> None:
    write(tmp_path / "2024-25", "RETURN_2024-25.xml", GOOD_XML)
    batch = read_source_period(xml_schema, tmp_path / "2024-25", "2024-25")

    children = loaded(batch, "child")
    assert [(c["LAchildID"], c["_xml_key"], c["_parent_xml_key"]) for c in children] == [
        ("LA000001", "1", None),
        ("LA000002", "2", None),
    ]
    assert [
        (d["Disability"], d["_xml_key"], d["_parent_xml_key"])
        for d in loaded(batch, "disabilities")
    ] == [("MOB", "1.1", "1"), ("AUT", "1.2", "1")]
    assert [(e["_xml_key"], e["_parent_xml_key"]) for e in loaded(batch, "episodes")] == [
        ("1.1", "1"),
        ("2.1", "2"),
        ("2.2", "2"),
    ]
    # The impossible date 2024-09-31 is quarantined with its line; the rest loads.
    assert [(a["_xml_key"], a["_parent_xml_key"]) for a in loaded(batch, "assessments")] == [
        ("1.1.1", "1.1"),
        ("2.2.1", "2.2"),
    ]
    rejected = [f for f in batch.findings if f.action == "rejected"]
    assert [(f.table, f.row_number, f.field, f.value) for f in rejected] == [
        ("assessments", 12, "AssessmentActualStartDate", "2024-09-31")
    ]
    flagged = [f for f in batch.findings if f.action == "flagged"]
    assert [(f.table, f.field, f.value) for f in flagged] == [("child", "UPN", "R247962919251")]
    assert loaded(batch, "header")[0]["Year"] == "2025"
    assert batch.tables["child"].rows_read == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<Message><Children><Child></Children></Message>", "malformed XML"),
        ("", "file is empty"),
    ],
)
def test_an_unreadable_xml_file_fails_alone_with_its_name_and_problem(
    tmp_path: Path, xml_schema, text: str, problem: str
) -> None:
    write(tmp_path / "2024-25", "a_return.xml", GOOD_XML)
    write(tmp_path / "2024-25", "b_broken.xml", text)
    batch = read_source_period(xml_schema, tmp_path / "2024-25", "2024-25")
    assert batch.tables["child"].rows_read == 2
    (failed,) = batch.failed
    assert failed.path.name == "b_broken.xml"
    assert problem in failed.problem


def test_any_file_name_is_read_and_namespaces_are_ignored(tmp_path: Path, xml_schema) -> None:
    text = GOOD_XML.replace("<Message>", '<cin:Message xmlns:cin="urn:example">').replace(
        "</Message>", "</cin:Message>"
    )
    text = text.replace("<Children>", "<cin:Children>").replace("</Children>", "</cin:Children>")
    write(tmp_path / "2024-25", "barsetshire cin return.XML", text)
    batch = read_source_period(xml_schema, tmp_path / "2024-25", "2024-25")
    assert [c["LAchildID"] for c in loaded(batch, "child")] == ["LA000001", "LA000002"]
    assert batch.failed == [] and batch.unmodelled_xml == []


def test_xml_the_schema_does_not_model_is_kept_with_its_path_and_record(
    tmp_path: Path, xml_schema
) -> None:
    text = GOOD_XML.replace(
        "<CINdetails><CINreferralDate>2024-06-01</CINreferralDate>",
        "<CINdetails><CINreferralDate>2024-06-01</CINreferralDate>"
        "<FamilyGroupDecisionMaking><FGDMStartDate>2024-06-10</FGDMStartDate>"
        '<Outcome code="A">agreed</Outcome></FamilyGroupDecisionMaking>',
    )
    write(tmp_path / "2024-25", "return.xml", text)
    write(tmp_path / "2024-25", "other.xml", "<Audit><By>js</By><At>2025-04-01</At></Audit>")
    batch = read_source_period(xml_schema, tmp_path / "2024-25", "2024-25")
    kept = {xml.path.name: xml for xml in batch.unmodelled_xml}
    block = "Message/Children/Child/CINdetails/FamilyGroupDecisionMaking"
    assert [
        (e.path, e.text, e.attributes, e.record_table, e.record_key)
        for e in kept["return.xml"].elements
    ] == [
        (f"{block}/FGDMStartDate", "2024-06-10", {}, "episodes", "2.1"),
        (f"{block}/Outcome", "agreed", {"code": "A"}, "episodes", "2.1"),
    ]
    # The modelled content is unchanged.
    assert len(loaded(batch, "episodes")) == 3
    # An XML file of another kind is kept whole.
    assert kept["other.xml"].root == "Audit"
    assert [(e.path, e.text) for e in kept["other.xml"].elements] == [
        ("Audit/By", "js"),
        ("Audit/At", "2025-04-01"),
    ]


CSV_SCHEMA = """
source: example_903
service: social_care
cadence: annual
period_pattern: '^\\d{4}-\\d{2}$'
tables:
  header:
    record_id: CHILD
    columns: {CHILD: {mandatory: true}, SEX: {}, DOB: {}, ETHNIC: {}, UPN: {}}
  uasc:
    record_id: CHILD
    columns: {CHILD: {mandatory: true}, SEX: {}, DOB: {}, DUC: {}}
"""


@pytest.fixture
def column_schema(tmp_path: Path):
    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / "example_903.yaml").write_text(CSV_SCHEMA)
    return load_schema("example_903", folder)


def test_csv_tables_are_recognised_by_their_columns_whatever_the_file_name(
    tmp_path: Path, column_schema
) -> None:
    folder = tmp_path / "2024-25"
    write(folder, "export_a.csv", "CHILD,SEX,DOB,DUC\n1,1,01/01/2010,01/01/2028\n")
    write(folder, "export_b.csv", "UPN,CHILD,SEX,DOB,ETHNIC,EXTRA\nX,1,1,01/01/2010,WBRI,y\n")
    batch = read_source_period(column_schema, folder, "2024-25")
    assert {name: t.path.name for name, t in batch.tables.items()} == {
        "uasc": "export_a.csv",
        "header": "export_b.csv",
    }


def test_a_csv_matching_no_table_is_kept_as_unmodelled(tmp_path: Path, column_schema) -> None:
    folder = tmp_path / "2024-25"
    write(folder, "mystery.csv", "CHILD,COLOUR\n1,red\n")
    write(folder, "b.csv", "CHILD,SEX,DOB,DUC\n2,1,x,y\n")
    batch = read_source_period(column_schema, folder, "2024-25")
    assert list(batch.tables) == ["uasc"]
    (kept,) = batch.unmodelled_files
    assert (kept.path.name, kept.columns, kept.rows) == (
        "mystery.csv",
        ["CHILD", "COLOUR"],
        [(2, ["1", "red"])],
    )


def test_the_same_table_twice_in_a_period_loads_neither_file(tmp_path: Path, column_schema) -> None:
    # Last year's table kept beside this year's (episodes_2024.csv, episodes_2025.csv): the one
    # whose name sorts first is not more likely to be the period's, so neither is loaded.
    folder = tmp_path / "2024-25"
    write(folder, "a.csv", "CHILD,SEX,DOB,DUC\n1,1,x,y\n")
    write(folder, "b.csv", "CHILD,SEX,DOB,DUC\n2,1,x,y\n")
    batch = read_source_period(column_schema, folder, "2024-25")
    assert "uasc" not in batch.tables
    failed = {f.path.name: f for f in batch.failed}
    assert sorted(failed) == ["a.csv", "b.csv"]
    assert {f.table for f in failed.values()} == {"uasc"}
    assert "table uasc delivered twice (also b.csv): neither file is loaded" in (
        failed["a.csv"].problem
    )
    assert "table uasc delivered twice (also a.csv): neither file is loaded" in (
        failed["b.csv"].problem
    )
    # Neither file's rows were loaded, so neither left findings behind.
    assert batch.findings == []


def test_an_xml_file_of_another_kind_is_kept_even_when_it_is_one_element(
    tmp_path: Path, xml_schema
) -> None:
    write(tmp_path / "2024-25", "return.xml", GOOD_XML)
    write(tmp_path / "2024-25", "receipt.xml", '<Receipt status="ok">received 2025-04-02</Receipt>')
    batch = read_source_period(xml_schema, tmp_path / "2024-25", "2024-25")
    (kept,) = [x for x in batch.unmodelled_xml if x.path.name == "receipt.xml"]
    assert [(e.path, e.text, e.attributes) for e in kept.elements] == [
        ("Receipt", "received 2025-04-02", {"status": "ok"})
    ]

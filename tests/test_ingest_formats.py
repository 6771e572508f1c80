"""XML returns flattened by schema, and CSV tables recognised by their columns."""

from pathlib import Path

import pytest

from linkage_ops.ingest.errors import UnreadableFileError
from linkage_ops.ingest.reader import read_source_period
from linkage_ops.ingest.schema import load_schema

XML_SCHEMA = """
source: example_return
format: xml
file_pattern: '^RETURN_.*\\.xml$'
root: Message
period_pattern: '^\\d{4}-\\d{2}$'
formats: {iso: '%Y-%m-%d'}
tables:
  header:
    record_path: Header
    record_id: _xml_key
    columns:
      Year: {path: CollectionDetails/Year, required: true, type: integer}
  child:
    record_path: Children/Child
    record_id: LAchildID
    columns:
      LAchildID: {path: ChildIdentifiers/LAchildID, required: true}
      UPN: {path: ChildIdentifiers/UPN, type: upn, on_invalid: flag}
      PersonBirthDate: {path: ChildIdentifiers/PersonBirthDate, type: date, format: iso}
  disabilities:
    record_path: Children/Child/ChildCharacteristics/Disabilities/Disability
    record_id: _xml_key
    columns:
      Disability: {path: ., required: true, type: code, codes: [NONE, MOB, AUT]}
  episodes:
    record_path: Children/Child/CINdetails
    record_id: _xml_key
    columns:
      CINreferralDate: {required: true, type: date, format: iso}
  assessments:
    record_path: Children/Child/CINdetails/Assessments
    record_id: _xml_key
    columns:
      AssessmentActualStartDate: {required: true, type: date, format: iso}
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
    ("name", "text", "problem"),
    [
        ("RETURN_2024-25.xml", "<Message><Children><Child></Children></Message>", "malformed XML"),
        ("RETURN_2024-25.xml", "<Other/>", "root element is <Other>"),
        ("RETURN_2024-25.xml", "", "file is empty"),
        ("notes.xml", "<Message/>", "not a recognised example_return file"),
    ],
)
def test_unreadable_xml_names_the_file_and_problem(
    tmp_path: Path, xml_schema, name: str, text: str, problem: str
) -> None:
    write(tmp_path / "2024-25", name, text)
    with pytest.raises(UnreadableFileError) as raised:
        read_source_period(xml_schema, tmp_path / "2024-25", "2024-25")
    assert name in str(raised.value)
    assert problem in str(raised.value)


CSV_SCHEMA = """
source: example_903
recognise_tables_by: columns
period_pattern: '^\\d{4}-\\d{2}$'
tables:
  header:
    record_id: CHILD
    columns: {CHILD: {required: true}, SEX: {}, DOB: {}, ETHNIC: {}, UPN: {}}
  uasc:
    record_id: CHILD
    columns: {CHILD: {required: true}, SEX: {}, DOB: {}, DUC: {}}
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


def test_a_csv_matching_no_table_fails_with_its_name(tmp_path: Path, column_schema) -> None:
    folder = tmp_path / "2024-25"
    write(folder, "mystery.csv", "CHILD,COLOUR\n1,red\n")
    with pytest.raises(UnreadableFileError, match=r"mystery\.csv: its columns match no"):
        read_source_period(column_schema, folder, "2024-25")


def test_the_same_table_twice_in_a_period_fails(tmp_path: Path, column_schema) -> None:
    folder = tmp_path / "2024-25"
    write(folder, "a.csv", "CHILD,SEX,DOB,DUC\n1,1,x,y\n")
    write(folder, "b.csv", "CHILD,SEX,DOB,DUC\n2,1,x,y\n")
    with pytest.raises(UnreadableFileError, match="table uasc delivered twice"):
        read_source_period(column_schema, folder, "2024-25")

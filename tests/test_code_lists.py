"""Code lists as data in the warehouse: every shared code list, with each code's label, category
and years, reaches ``reference.code_lists`` from its YAML file; attendance codes carry the
category DfE gives them, which the attendance marts count by."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from linkage_ops.ingest.codelist_table import CODE_LIST_COLUMNS, code_list_frame, write_code_lists
from linkage_ops.ingest.schema import SchemaError, available_codelists, load_codelist

PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
ATTENDANCE_CATEGORIES = {
    "present",
    "approved_educational_activity",
    "authorised_absence",
    "unauthorised_absence",
    "not_counted",
}
GRADES = """
name: grades
description: test list
categories:
  pass: Counted as a pass.
  fail: Not a pass.
codes:
  A: {label: Top, category: pass}
  B: {label: Middle, category: pass, from: '2024-25'}
  U: {label: Unclassified, category: fail, until: '2023-24'}
"""


def records(table: pd.DataFrame) -> list[dict]:
    """Rows as dicts, blanks as None (pandas and DuckDB spell a missing value differently)."""
    return table.astype("object").where(table.notna(), None).to_dict("records")


def write_codelist(tmp_path: Path, text: str) -> Path:
    (tmp_path / "codelists").mkdir(exist_ok=True)
    (tmp_path / "codelists" / "grades.yaml").write_text(text)
    return tmp_path


def test_the_table_holds_every_code_of_every_code_list() -> None:
    table = code_list_frame()
    assert list(table.columns) == list(CODE_LIST_COLUMNS)
    assert sorted(table.codelist.unique()) == available_codelists()
    for name in available_codelists():
        codelist = load_codelist(name)
        rows = table[table.codelist == name]
        assert list(rows.code) == list(codelist.labels), name
        assert list(rows.label.fillna("")) == list(codelist.labels.values()), name
    assert not table.duplicated(["codelist", "code"]).any()


def test_every_attendance_code_has_the_category_dfe_gives_it() -> None:
    table = code_list_frame().set_index(["codelist", "code"])
    attendance = table.loc["attendance_reason"]
    assert set(attendance.category) == ATTENDANCE_CATEGORIES
    assert attendance.category.notna().all()
    category = attendance.category.to_dict()
    assert {code for code, c in category.items() if c == "present"} == {"/", "\\", "L"}
    assert {code for code, c in category.items() if c == "unauthorised_absence"} == {
        "G",
        "N",
        "O",
        "U",
    }
    assert category["I"] == category["M"] == category["E"] == "authorised_absence"
    assert category["B"] == category["K"] == "approved_educational_activity"
    # The old J (interview) was an approved educational activity; J1 is a leave of absence.
    assert category["J"] == "approved_educational_activity"
    assert category["J1"] == "authorised_absence"
    # Not possible sessions: not required to attend, unavoidable causes, elsewhere, closed.
    for code in ("X", "Y", "Y1", "Y7", "Q", "D", "Z", "#"):
        assert category[code] == "not_counted", code
    # Codes of other lists have no category unless their list declares categories.
    assert table.loc["ethnicity"].category.isna().all()
    assert (attendance.loc["H", "valid_until"], attendance.loc["K", "valid_from"]) == (2025, 2025)


def test_categories_and_years_come_from_the_yaml(tmp_path: Path) -> None:
    folder = write_codelist(tmp_path, GRADES)
    grades = load_codelist("grades", folder)
    assert grades.codes_in("pass") == {"A", "B"}
    assert grades.codes_in("pass", 2024) == {"A"}
    assert grades.codes_in("fail", 2025) == frozenset()
    with pytest.raises(KeyError):
        grades.codes_in("merit")
    assert records(code_list_frame(folder)) == [
        {"codelist": "grades", "code": "A", "label": "Top", "category": "pass"}
        | {"valid_from": None, "valid_until": None},
        {"codelist": "grades", "code": "B", "label": "Middle", "category": "pass"}
        | {"valid_from": 2025, "valid_until": None},
        {"codelist": "grades", "code": "U", "label": "Unclassified", "category": "fail"}
        | {"valid_from": None, "valid_until": 2024},
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("category: fail,", "category: merit,"), "must be one of pass, fail, not 'merit'"),
        (("{label: Top, category: pass}", "Top"), "code A: category must be one of pass, fail"),
        (("categories:\n  pass: Counted as a pass.\n  fail: Not a pass.\n", ""), "declares no"),
        (("  fail: Not a pass.\n", "  fail: Not a pass.\n  pass2: Unused.\n"), None),
        (("category: pass}", "categry: pass}"), "unknown key 'categry'"),
    ],
)
def test_a_category_the_list_does_not_declare_is_refused(
    tmp_path: Path, change: tuple[str, str], message: str | None
) -> None:
    text = GRADES.replace(*change)
    assert text != GRADES
    folder = write_codelist(tmp_path, text)
    if message is None:  # declaring a category no code uses is fine
        assert "pass2" in load_codelist("grades", folder).categories
        return
    with pytest.raises(SchemaError, match=message):
        load_codelist("grades", folder)


def test_dbt_builds_reference_code_lists_from_the_yaml(tmp_path: Path) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    database = tmp_path / "warehouse.duckdb"
    # The model reads the raw table the Python steps write before every build.
    with duckdb.connect(str(database)) as con:
        write_code_lists(con)
    subprocess.run(
        [str(dbt), "build", "--quiet", "--select", "code_lists", "--target-path", tmp_path],
        cwd=PROJECT,
        env=os.environ | {"WAREHOUSE_DUCKDB_PATH": str(database)},
        check=True,
    )
    with duckdb.connect(str(database), read_only=True) as con:
        built = con.execute("select * from reference.code_lists order by all").df()
    expected = code_list_frame().sort_values(list(CODE_LIST_COLUMNS)).reset_index(drop=True)
    assert records(built) == records(expected)

"""Every shared code list as one table, so that SQL reads codes, labels and categories from the
YAML files in ``linkage_ops/schemas/codelists/`` instead of writing them a second time.

Written into the warehouse as ``raw.reference__code_lists`` whenever the raw store is opened
for a load and before every build (``write_code_lists``), and built by dbt as
``reference.code_lists`` (the same SQL on DuckDB and Spark): one row per code list and code,
with the code's label, its category (where the list sorts its codes into categories, e.g.
attendance codes into present, authorised absence ...) and the collection years it is valid in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from linkage_ops.ingest.schema import SCHEMA_DIR, available_codelists, load_codelist

# The table's columns and their pandas types (text, and whole collection years, each held as
# the calendar year it ends in: 2025 for 2024-25), declared once.
CODE_LIST_COLUMNS = {
    "codelist": "string",
    "code": "string",
    "label": "string",
    "category": "string",
    "valid_from": "Int32",
    "valid_until": "Int32",
}


def code_list_frame(schema_dir: Path = SCHEMA_DIR) -> pd.DataFrame:
    """One row per code of every shared code list, in each list's own order. ``category`` is
    blank where the list has no categories; ``valid_from`` and ``valid_until`` (inclusive) are
    blank where DfE has not added or retired the code."""
    rows = []
    for name in available_codelists(schema_dir):
        codelist = load_codelist(name, schema_dir)
        for code, label in codelist.labels.items():
            valid_from, valid_until = codelist.valid_years[code]
            rows.append(
                {
                    "codelist": name,
                    "code": code,
                    "label": label or None,
                    "category": codelist.category_of.get(code),
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                }
            )
    return pd.DataFrame.from_records(rows, columns=list(CODE_LIST_COLUMNS)).astype(
        CODE_LIST_COLUMNS
    )


# The raw table the model ``reference.code_lists`` reads (macro code_list_table, lake.sql).
CODE_LIST_TABLE = "raw.reference__code_lists"


def write_code_lists(con) -> None:
    """(Re)write ``raw.reference__code_lists`` in a DuckDB connection from the YAML files."""
    frame = code_list_frame()  # noqa: F841 (read by DuckDB by name)
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace table {CODE_LIST_TABLE} as select * from frame")

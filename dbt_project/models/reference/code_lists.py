"""Every shared code list (linkage_ops/schemas/codelists/*.yaml), one row per list and code,
with its label, category and the collection years it is valid in. Read from the YAML files
through linkage_ops, so that SQL never writes a code list a second time."""

from linkage_ops.ingest.codelist_table import code_list_frame


def model(dbt, session):
    dbt.config(materialized="table")
    return code_list_frame()

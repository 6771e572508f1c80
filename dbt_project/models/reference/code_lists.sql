-- Every shared code list, as the Python steps wrote it from the YAML files
-- (linkage_ops/ingest/codelist_table.py): the same SQL on DuckDB and Spark.
select
    codelist,
    code,
    label,
    category,
    valid_from,
    valid_until
from {{ code_list_table() }}

{#-
    With the Spark engine, the raw and linkage tables the Python steps write are Parquet in the
    lake ($WAREHOUSE_SPARK_DIR/lake/<schema>/<table>, linkage_ops/spark/lake.py). Before every
    run they are registered as the tables the sources name. `lake_tables` (a list of
    "schema.table", passed by the orchestration) names those present; without it every raw and
    linkage source is registered. With DuckDB the sources are the file's own tables: nothing to do.
-#}
{% macro register_lake_tables() %}
    {%- if target.type == 'spark' and execute -%}
        {%- set lake = env_var('WAREHOUSE_SPARK_DIR') ~ '/lake' -%}
        {%- set present = var('lake_tables', none) -%}
        {%- set tables = [code_list_table()] -%}
        {%- for node in graph.sources.values() if node.schema in ('raw', 'linkage') -%}
            {%- do tables.append(node.schema ~ '.' ~ node.identifier) -%}
        {%- endfor -%}
        {%- for schema in ('raw', 'linkage') -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for name in tables if present is none or name in present -%}
            {%- do run_query('drop table if exists ' ~ name) -%}
            {%- do run_query(
                'create table ' ~ name ~ " using parquet location '"
                ~ lake ~ '/' ~ name.replace('.', '/') ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#-
    The shared code lists, written into the raw schema by the Python steps before every build
    (linkage_ops/ingest/codelist_table.py). Not a dbt source: nothing upstream in the graph
    materialises it, it is part of the code.
-#}
{% macro code_list_table() %}raw.reference__code_lists{% endmacro %}

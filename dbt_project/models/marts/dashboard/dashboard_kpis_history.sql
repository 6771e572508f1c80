{#- DuckDB replaces an as-at date's rows by unique key (delete+insert); Spark's plain Parquet
    tables cannot delete rows, so there the table is partitioned by as-at date and a refresh
    overwrites its own date's partition. -#}
{{ config(
    materialized='incremental',
    unique_key=['as_at_date', 'kpi'],
    on_schema_change='fail',
    incremental_strategy='insert_overwrite' if target.type == 'spark' else none,
    partition_by=['as_at_date'] if target.type == 'spark' else none,
) }}
{#-
    dashboard_kpis kept for every as-at date the warehouse has been refreshed for: a
    dashboard's trend lines read this table (one set of KPI rows per period). A refresh for the
    same as-at date replaces that date's rows.
-#}
with

kpis as (
    select * from {{ ref('dashboard_kpis') }}
),

final as (
    select
        as_at_date,
        kpi,
        children,
        share_of,
        percent_of_cohort,
        is_suppressed
    from kpis
)

select * from final
